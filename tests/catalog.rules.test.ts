import { beforeAll, describe, expect, it } from "vitest";
import { buildCatalog, CatalogError, type CatalogIndex } from "../catalog/build.ts";
import { inputPlan } from "../catalog/plan.ts";
import { optionPrices, quoteForParams } from "../catalog/quote.ts";
import { validateParams } from "../catalog/validate.ts";
import { loadCatalog, sampleParams } from "./helpers/catalog.ts";

/** A small catalog file around one model, for rules the real data may not show. */
function fileWith(model: Record<string, unknown>, section = "images") {
  return {
    name: `${section}.json`,
    text: JSON.stringify({
      section,
      models: [
        {
          id: "test/model",
          kieModel: "test/model",
          endpoint: "market",
          type: "text-to-image",
          output: "image",
          available: true,
          name: { ru: "Тест", en: "Test" },
          description: { ru: "Тестовая модель.", en: "A test model." },
          typicalSeconds: 10,
          fields: [
            { name: "prompt", kind: "prompt", required: true, maxLength: 100 },
            { name: "resolution", kind: "enum", required: true, values: ["1K", "2K", "4K"], default: "1K" },
            { name: "steps", kind: "number", required: false, integer: true, min: 1, max: 50, default: 20 },
          ],
          skus: [
            { params: { resolution: "1K" }, credits: 3, kopecks: 300, free: false },
            { params: { resolution: "2K" }, credits: 4, kopecks: 500, free: false },
          ],
          ...model,
        },
      ],
    }),
  };
}

let catalog: CatalogIndex;
beforeAll(async () => {
  catalog = await loadCatalog();
});

describe("validation names the field", () => {
  it("rejects an unknown option value, a missing required field, a too-long prompt and an over-bound number", () => {
    const index = buildCatalog([fileWith({})]);
    const indexed = index.models.get("test/model");
    if (indexed === undefined) throw new Error("model missing");
    expect(validateParams(indexed, { prompt: "fox", resolution: "8K" })).toEqual({
      ok: false,
      errors: [{ field: "resolution", code: "not_an_option" }],
    });
    expect(validateParams(indexed, { resolution: "1K" })).toEqual({
      ok: false,
      errors: [{ field: "prompt", code: "required" }],
    });
    expect(validateParams(indexed, { prompt: "x".repeat(101) })).toEqual({
      ok: false,
      errors: [{ field: "prompt", code: "too_long", limit: 100 }],
    });
    expect(validateParams(indexed, { prompt: "fox", steps: 51 })).toEqual({
      ok: false,
      errors: [{ field: "steps", code: "above_max", limit: 50 }],
    });
    expect(validateParams(indexed, { prompt: "fox", colour: "red" })).toEqual({
      ok: false,
      errors: [{ field: "colour", code: "unknown_field" }],
    });
  });

  it("does the same on the real catalog: the typed errors name real KIE fields", () => {
    const seedream = catalog.models.get("seedream/4.5-text-to-image");
    if (seedream === undefined) throw new Error("model missing");
    const result = quoteForParams(seedream, { ...sampleParams(seedream, "required"), quality: "ultra" });
    expect(result).toEqual({
      ok: false,
      error: { code: "invalid_params", errors: [{ field: "quality", code: "not_an_option" }] },
    });
  });
});

describe("price guard", () => {
  it("does not offer an option without a SKU, and prices each offered option", () => {
    const indexed = buildCatalog([fileWith({})]).models.get("test/model");
    if (indexed === undefined) throw new Error("model missing");
    expect(indexed.offered.get("resolution")).toEqual(["1K", "2K"]);
    expect(optionPrices(indexed, "resolution", { prompt: "fox" })).toEqual([
      { value: "1K", kopecks: 300, free: false },
      { value: "2K", kopecks: 500, free: false },
    ]);
    const plan = inputPlan(indexed);
    expect(plan.steps.find((step) => step.field === "resolution")).toMatchObject({
      values: ["1K", "2K"],
      priced: true,
    });
    expect(quoteForParams(indexed, { prompt: "fox", resolution: "4K" })).toMatchObject({
      ok: false,
      error: { code: "invalid_params", errors: [{ field: "resolution", code: "not_an_option" }] },
    });
  });

  it("never falls back to another SKU: two prices for one choice are unresolved", () => {
    const indexed = buildCatalog([
      fileWith({
        skus: [
          { params: { resolution: "1K" }, credits: 3, kopecks: 300, free: false },
          { params: { resolution: "1K" }, credits: 4, kopecks: 900, free: false },
          { params: { resolution: "2K" }, credits: 4, kopecks: 500, free: false },
        ],
      }),
    ]).models.get("test/model");
    if (indexed === undefined) throw new Error("model missing");
    expect(quoteForParams(indexed, { prompt: "fox", resolution: "1K" })).toEqual({
      ok: false,
      error: { code: "price_unresolved", reason: "ambiguous", matches: 2 },
    });
    expect(quoteForParams(indexed, { prompt: "fox", resolution: "2K" })).toMatchObject({
      ok: true,
      quote: { kopecks: 500 },
    });
  });

  it("hides a model whose required choices cannot be priced, with the reason", () => {
    const index = buildCatalog([
      fileWith({
        skus: [
          { params: { resolution: "1K" }, credits: 3, kopecks: 300, free: false },
          { params: { resolution: "1K" }, credits: 4, kopecks: 400, free: false },
        ],
      }),
    ]);
    expect(index.models.get("test/model")?.visible).toBe(false);
    expect(index.hidden).toEqual([{ id: "test/model", reason: "the default choices match 2 prices, not exactly one" }]);
    expect(index.bySection.get("images")).toEqual([]);
  });

  it("charges metered prices per started unit and refuses without the measure", () => {
    const tts = catalog.models.get("elevenlabs/text-to-speech");
    if (tts === undefined) throw new Error("model missing");
    const perThousand = tts.model.skus[0]?.kopecks ?? 0;
    const short = quoteForParams(tts, { ...sampleParams(tts, "required"), text: "Привет" });
    expect(short).toMatchObject({ ok: true, quote: { kopecks: perThousand, perUnit: { units: 1 } } });
    const long = quoteForParams(tts, { ...sampleParams(tts, "required"), text: "a".repeat(2_001) });
    expect(long).toMatchObject({ ok: true, quote: { kopecks: perThousand * 3, perUnit: { units: 3 } } });
    const isolation = catalog.models.get("elevenlabs/audio-isolation");
    if (isolation === undefined) throw new Error("model missing");
    expect(quoteForParams(isolation, sampleParams(isolation, "required"))).toMatchObject({
      ok: false,
      error: { code: "price_unresolved", reason: "missing_measure" },
    });
  });
});

describe("loading", () => {
  it("stops on a broken file with a message naming the model and the field", () => {
    const broken = fileWith({ fields: [{ name: "prompt", kind: "prompt", required: true, maxLength: "long" }] });
    expect(() => buildCatalog([broken])).toThrow(CatalogError);
    try {
      buildCatalog([broken]);
    } catch (error) {
      expect((error as CatalogError).message).toContain('images.json model "test/model" at fields[0].maxLength');
    }
    const wrongSku = fileWith({ skus: [{ params: { resolution: "9K" }, credits: 1, kopecks: 100, free: false }] });
    expect(() => buildCatalog([wrongSku])).toThrow(
      'model "test/model" at skus[0].params.resolution: 9K is not one of the field\'s values',
    );
    expect(() => buildCatalog([{ name: "images.json", text: "{" }])).toThrow("not valid JSON");
  });
});
