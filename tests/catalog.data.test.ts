import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { CatalogIndex, IndexedModel } from "../catalog/build.ts";
import { inputPlan } from "../catalog/plan.ts";
import { priceOf, quoteForParams } from "../catalog/quote.ts";
import { CatalogFile } from "../catalog/schema.ts";
import { sectionOf } from "../catalog/sections.ts";
import { loadCatalog, readFiles, sampleMeasures, sampleParams } from "./helpers/catalog.ts";

const predecessorIds = (
  JSON.parse(readFileSync(new URL("./fixtures/predecessor-model-ids.json", import.meta.url), "utf8")) as {
    ids: string[];
  }
).ids;

let catalog: CatalogIndex;
let available: IndexedModel[];
beforeAll(async () => {
  catalog = await loadCatalog();
  available = [...catalog.models.values()].filter((indexed) => indexed.model.available);
});

describe("catalog data", () => {
  it("passes its schema and holds all 73 predecessor models", async () => {
    for (const file of await readFiles()) expect(CatalogFile.safeParse(JSON.parse(file.text)).success).toBe(true);
    expect(predecessorIds).toHaveLength(73);
    expect(predecessorIds.filter((id) => !catalog.models.has(id))).toEqual([]);
  });

  it("counts each section's models as the data says", async () => {
    const expected = new Map<string, number>();
    let free = 0;
    for (const file of await readFiles()) {
      for (const model of CatalogFile.parse(JSON.parse(file.text)).models) {
        if (!catalog.models.get(model.id)?.visible) continue;
        const section = sectionOf(model.type).id;
        expected.set(section, (expected.get(section) ?? 0) + 1);
        if (model.skus.some((sku) => sku.free)) free++;
      }
    }
    for (const [section, list] of catalog.bySection) {
      expect([section, list.length]).toEqual([section, section === "free" ? free : (expected.get(section) ?? 0)]);
    }
  });

  it("hides only unavailable models, each with a reason for operators", () => {
    for (const { id, reason } of catalog.hidden) {
      expect(catalog.models.get(id)?.model.available, `${id}: ${reason}`).toBe(false);
      expect(reason.length).toBeGreaterThan(0);
    }
  });

  it("gives every available model a complete input plan", () => {
    for (const indexed of available) {
      const plan = inputPlan(indexed);
      const stepFields = plan.steps.map((step) => step.field);
      const required = indexed.model.fields.filter((field) => field.required).map((field) => field.name);
      expect(stepFields.sort(), indexed.model.id).toEqual(required.sort());
      // Media before the prompt, the prompt before options.
      const kinds = plan.steps.map((step) =>
        step.kind === "media" ? 0 : step.kind === "prompt" || step.kind === "link" ? 1 : 2,
      );
      expect(kinds, indexed.model.id).toEqual([...kinds].sort());
    }
  });

  it("resolves a quote for the default choices of every available model", () => {
    for (const indexed of available) {
      const result = quoteForParams(indexed, sampleParams(indexed, "required"), sampleMeasures(indexed));
      expect(result.ok, `${indexed.model.id}: ${JSON.stringify(result)}`).toBe(true);
      if (result.ok) expect(Number.isInteger(result.quote.kopecks) && result.quote.kopecks > 0).toBe(true);
    }
  });

  it("offers as free exactly the options flagged free", () => {
    const flagged = new Set<string>();
    for (const indexed of available) {
      for (const sku of indexed.model.skus) {
        const result = priceOf(indexed, { ...indexed.defaults, ...sku.params }, sampleMeasures(indexed));
        expect(result.ok && result.quote.free, `${indexed.model.id} ${JSON.stringify(sku.params)}`).toBe(sku.free);
        if (sku.free) flagged.add(indexed.model.id);
      }
    }
    expect(new Set(catalog.bySection.get("free")?.map((indexed) => indexed.model.id))).toEqual(flagged);
    expect([...flagged].sort()).toEqual(
      [
        "bytedance/seedream",
        "google/imagen4-fast",
        "google/nano-banana",
        "ideogram/v3-text-to-image",
        "z-image",
      ].sort(),
    );
  });
});
