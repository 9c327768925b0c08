/**
 * Prices are derived from KIE's costs: each SKU carries its credits, and
 * its kopecks are `ceil(credits × KOPECKS_PER_CREDIT × markup)` unless the
 * data names a price of its own. No SKU sells under KIE's cost: the
 * catalog refuses to build with one, at the cost the operator pays.
 */

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCatalog, type CatalogIndex } from "../catalog/build.ts";
import { costKopecks, DEFAULT_PRICING } from "../catalog/pricing.ts";
import { quoteForParams } from "../catalog/quote.ts";
import { parseConfig } from "../src/config.ts";
import { loadCatalog, readFiles } from "./helpers/catalog.ts";

/** One section file with one model of three SKUs: derived, derived with a markup, and an explicit price. */
function fileWith(options: { sectionMarkup?: number; modelMarkup?: number } = {}) {
  return {
    name: "images.json",
    text: JSON.stringify({
      section: "images",
      ...(options.sectionMarkup === undefined ? {} : { markup: options.sectionMarkup }),
      models: [
        {
          id: "test/priced",
          kieModel: "test/priced",
          endpoint: "market",
          type: "text-to-image",
          output: "image",
          available: true,
          name: { ru: "Тест", en: "Test" },
          description: { ru: "Тестовая модель.", en: "A test model." },
          typicalSeconds: 10,
          ...(options.modelMarkup === undefined ? {} : { markup: options.modelMarkup }),
          fields: [
            { name: "prompt", kind: "prompt", required: true, maxLength: 100 },
            { name: "resolution", kind: "enum", required: true, values: ["1K", "2K", "4K"], default: "1K" },
          ],
          skus: [
            { params: { resolution: "1K" }, credits: 0.8, free: false },
            { params: { resolution: "2K" }, credits: 100, free: false },
            { params: { resolution: "4K" }, credits: 60, kopecks: 9_000, free: false },
          ],
        },
      ],
    }),
  };
}

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

const priceOf = (catalog: CatalogIndex, resolution: string) => {
  const indexed = catalog.models.get("test/priced");
  if (indexed === undefined) throw new Error("no model");
  const result = quoteForParams(indexed, { prompt: "лиса 🦊", resolution });
  return result.ok ? result.quote.kopecks : result.error.code;
};

describe("prices from credits", () => {
  it("are KIE's cost at the rate, rounded up to a kopeck; an explicit price stands", () => {
    const catalog = buildCatalog([fileWith()]);
    // 0.8 credits at 78.57 is 62.856 kopecks; 100 credits exactly 7,857 (no float rounding up).
    expect([priceOf(catalog, "1K"), priceOf(catalog, "2K"), priceOf(catalog, "4K")]).toEqual([63, 7_857, 9_000]);
  });

  it("follow the rate and the markup: the model's over its section's", () => {
    const dearer = buildCatalog([fileWith()], { kopecksPerCredit: 100 });
    expect([priceOf(dearer, "1K"), priceOf(dearer, "2K")]).toEqual([80, 10_000]);
    const section = buildCatalog([fileWith({ sectionMarkup: 1.5 })]);
    expect([priceOf(section, "1K"), priceOf(section, "2K"), priceOf(section, "4K")]).toEqual([95, 11_786, 9_000]);
    const model = buildCatalog([fileWith({ sectionMarkup: 1.5, modelMarkup: 2 })]);
    expect([priceOf(model, "1K"), priceOf(model, "2K")]).toEqual([126, 15_714]);
  });

  it("are at the rate operators set with KOPECKS_PER_CREDIT, and a bad rate stops the start", () => {
    const config = (env: Record<string, string> = {}) =>
      parseConfig({ BOT_TOKEN: TOKEN, KIE_API_KEY: "kie-key-123456", ...env }, { cpuCount: 2 });
    expect(config().pricing).toEqual(DEFAULT_PRICING);
    expect(config({ KOPECKS_PER_CREDIT: "90.5" }).pricing).toEqual({ kopecksPerCredit: 90.5 });
    expect(() => config({ KOPECKS_PER_CREDIT: "-1" })).toThrow(/KOPECKS_PER_CREDIT/);
    expect(() => config({ KOPECKS_PER_CREDIT: "много" })).toThrow(/KOPECKS_PER_CREDIT/);
    expect(config({ KIE_CREDIT_COST_KOPECKS: "45" }).pricing).toEqual({
      kopecksPerCredit: DEFAULT_PRICING.kopecksPerCredit,
      costKopecksPerCredit: 45,
    });
    expect(() => config({ KIE_CREDIT_COST_KOPECKS: "0" })).toThrow(/KIE_CREDIT_COST_KOPECKS/);
  });

  it("count the operator's cost at KIE_CREDIT_COST_KOPECKS, and a SKU sold under it stops the build, named", () => {
    const cheaper = buildCatalog([fileWith()], {
      kopecksPerCredit: DEFAULT_PRICING.kopecksPerCredit,
      costKopecksPerCredit: 45,
    });
    expect([priceOf(cheaper, "1K"), priceOf(cheaper, "2K"), priceOf(cheaper, "4K")]).toEqual([63, 7_857, 9_000]);
    // At 160 kopecks a credit every SKU is under cost, the operator's round 9,000 included.
    const under = () =>
      buildCatalog([fileWith()], { kopecksPerCredit: DEFAULT_PRICING.kopecksPerCredit, costKopecksPerCredit: 160 });
    expect(under).toThrow(
      /model "test\/priced" at skus\[0\]: sold under KIE's cost: 63 kopecks for 0.8 credits, which cost 128 at 160/,
    );
    expect(under).toThrow(/skus\[2\]: sold under KIE's cost: 9000 kopecks for 60 credits, which cost 9600/);
    // An operator's price under the cost at the sale rate is refused too.
    const typo = fileWith();
    expect(() => buildCatalog([{ ...typo, text: typo.text.replace('"kopecks":9000', '"kopecks":900') }])).toThrow(
      /skus\[2\]: sold under KIE's cost: 900 kopecks for 60 credits, which cost 4715/,
    );
  });
});

describe("the shipped catalog", () => {
  let catalog: CatalogIndex;
  beforeAll(async () => {
    catalog = await loadCatalog();
  });

  it("sells no SKU under KIE's cost at the default rate (free-quota SKUs cost the operator instead)", () => {
    const under = [...catalog.models.values()].flatMap((indexed) =>
      indexed.model.skus
        .filter((sku) => !sku.free && sku.kopecks < costKopecks(sku.credits, DEFAULT_PRICING))
        .map((sku) => `${indexed.model.id} ${JSON.stringify(sku.params)}: ${sku.kopecks} < ${sku.credits} credits`),
    );
    expect(under).toEqual([]);
  });

  it("sells no SKU under its cost at any rate", async () => {
    const files = await readFiles();
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1_000, noNaN: true }), (kopecksPerCredit) => {
        const rebuilt = buildCatalog(files, { kopecksPerCredit });
        for (const indexed of rebuilt.models.values()) {
          indexed.model.skus.forEach((sku) => {
            if (sku.free) return;
            expect(sku.kopecks).toBeGreaterThanOrEqual(costKopecks(sku.credits, { kopecksPerCredit }) - 1e-6);
          });
        }
      }),
      { numRuns: 25, seed: 16 },
    );
  });
});
