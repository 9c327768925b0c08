/**
 * Finding a model by typing its name at the main menu: in Russian or
 * English, in Cyrillic spelling of a Latin name, by KIE id or alias, with
 * or without spaces; text that names no model finds nothing.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCatalog, type CatalogIndex } from "../catalog/build.ts";
import { NEW_FOR_MS, searchModels } from "../catalog/queries.ts";
import { foldText } from "../catalog/search.ts";
import { loadCatalog } from "./helpers/catalog.ts";

const NOW = Date.UTC(2026, 11, 3, 9);

let catalog: CatalogIndex;
beforeAll(async () => {
  catalog = await loadCatalog();
});

const found = (text: string, index = catalog) => searchModels(index, text, "ru", NOW, 8).items.map((item) => item.id);

/** One model with an alias, added on `addedAt`. */
function fixture(addedAt?: string) {
  return buildCatalog([
    {
      name: "images.json",
      text: JSON.stringify({
        section: "images",
        models: [
          {
            id: "test/seedream-5",
            kieModel: "seedream/5-pro-text-to-image",
            endpoint: "market",
            type: "text-to-image",
            output: "image",
            available: true,
            name: { ru: "Сидрим 5 Про", en: "Seedream 5 Pro" },
            description: { ru: "Тестовая модель.", en: "A test model." },
            goodAt: { ru: "Плакаты и текст", en: "Posters and text" },
            ...(addedAt === undefined ? {} : { addedAt }),
            aliases: ["сидрим", "sdr5"],
            typicalSeconds: 10,
            fields: [{ name: "prompt", kind: "prompt", required: true, maxLength: 100 }],
            skus: [{ params: {}, credits: 5, free: false }],
          },
        ],
      }),
    },
  ]);
}

describe("model search", () => {
  it("finds a model by its name in either language, its Cyrillic spelling, its KIE id and its alias", () => {
    const index = fixture();
    for (const text of [
      "Seedream",
      "seedream 5 pro",
      "СИДРИМ",
      "Сидрим 5",
      "seedream/5-pro-text-to-image",
      "sdr5",
      "seedream5",
    ]) {
      expect(found(text, index), text).toEqual(["test/seedream-5"]);
    }
    for (const text of ["dream", "Flux", "🦊🦊", "a", "", "   ", "Лиса в снегу"]) {
      expect(found(text, index), text).toEqual([]);
    }
  });

  it("finds the shipped lineup's families by the names people type", () => {
    expect(found("клинг").some((id) => id.startsWith("kling"))).toBe(true);
    expect(found("Kling").some((id) => id.startsWith("kling"))).toBe(true);
    expect(found("вео").some((id) => id.includes("veo"))).toBe(true);
    expect(found("veo3_fast").length).toBeGreaterThan(0);
    expect(found("nano banana").some((id) => id.includes("nano-banana"))).toBe(true);
    expect(found("нано банана").some((id) => id.includes("nano-banana"))).toBe(true);
    expect(found("nanobanana").some((id) => id.includes("nano-banana"))).toBe(true);
  });

  it("puts a name that starts with the text before one that only contains its words", () => {
    const ids = found("Flux");
    expect(ids.length).toBeGreaterThan(0);
    const first = catalog.models.get(ids[0] as string)?.model;
    expect(foldText(first?.name.ru ?? "").startsWith("flux")).toBe(true);
  });

  it("never matches a hidden model, and never fails on any text people type", () => {
    const hidden = new Set(catalog.hidden.map((entry) => entry.id));
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: "grapheme" }), (text) => {
        const result = searchModels(catalog, text, "en", NOW, 8);
        expect(result.items.length).toBeLessThanOrEqual(8);
        expect(result.total).toBeGreaterThanOrEqual(result.items.length);
        for (const item of result.items) expect(hidden.has(item.id)).toBe(false);
      }),
    );
  });

  it("marks a model New for 30 days after it joined, with what it is good at", () => {
    const [item] = searchModels(fixture("2026-12-01"), "seedream", "en", NOW, 8).items;
    expect(item).toMatchObject({ isNew: true, goodAt: "Posters and text" });
    const old = searchModels(fixture("2026-12-01"), "seedream", "en", Date.UTC(2026, 11, 1) + NEW_FOR_MS, 8);
    expect(old.items[0]?.isNew).toBe(false);
    expect(searchModels(fixture(), "seedream", "en", NOW, 8).items[0]?.isNew).toBe(false);
  });
});
