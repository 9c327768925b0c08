/**
 * Every offered price is KIE's: each SKU names the row of KIE's price feed
 * (catalog/kie-facts/snapshots/prices-2026-10.json) its credits come from,
 * and carries exactly that row's credits; and every row of a feed model an
 * offered model sells is sold by that model, so no price dimension KIE
 * charges by (duration, resolution, quality, audio) is flattened away. A row
 * a model knowingly does not sell is a data entry with its reason in
 * catalog/kie-facts/price-exceptions.json.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { CatalogIndex } from "../catalog/build.ts";
import { FEED_UNIT, feedRowKey } from "../catalog/drift.ts";
import { loadCatalog } from "./helpers/catalog.ts";

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));

const FeedParams = z.union([z.literal("flat"), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))]);
const Feed = z.object({
  rows: z.array(
    z.object({ model: z.string(), params: FeedParams, credits: z.number().nonnegative(), unit: z.string() }),
  ),
});
const { rows } = Feed.parse(json("../catalog/kie-facts/snapshots/prices-2026-10.json"));
const PriceExceptions = z.object({
  exceptions: z.array(
    z.object({ catalogModel: z.string(), feedModel: z.string(), params: FeedParams, reason: z.string().min(20) }),
  ),
});
const { exceptions } = PriceExceptions.parse(json("../catalog/kie-facts/price-exceptions.json"));

const rowsByKey = new Map(rows.map((row) => [feedRowKey(row.model, row.params), row]));

let catalog: CatalogIndex;
beforeAll(async () => {
  catalog = await loadCatalog();
});

const offered = () => [...catalog.models.values()].filter((indexed) => indexed.visible);

describe("the catalog against KIE's price feed", () => {
  it("prices every SKU of every offered model at the credits of the feed row it names", () => {
    const wrong: string[] = [];
    for (const { model } of offered()) {
      for (const sku of model.skus) {
        const where = `${model.id} ${JSON.stringify(sku.params)}`;
        if (sku.feed === undefined) {
          if (model.creditsNote === undefined) wrong.push(`${where}: names no feed row and has no creditsNote`);
          continue;
        }
        const row = rowsByKey.get(feedRowKey(sku.feed.model, sku.feed.params));
        if (row === undefined) {
          wrong.push(`${where}: no feed row ${feedRowKey(sku.feed.model, sku.feed.params)}`);
          continue;
        }
        if (model.meter !== undefined) {
          if (FEED_UNIT[model.meter.unit] !== row.unit || sku.feed.times !== undefined)
            wrong.push(`${where}: metered per ${model.meter.unit}, the row is per ${row.unit}`);
        }
        const expected = row.credits * (sku.feed.times ?? 1);
        if (Math.abs(sku.credits - expected) > 1e-9 * Math.max(1, expected))
          wrong.push(`${where}: ${sku.credits} credits, the feed says ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("sells every row of each feed model an offered model prices from, unless the row is excused", () => {
    const unsold: string[] = [];
    const excusedUsed = new Set<number>();
    for (const { model } of offered()) {
      const cited = new Set(
        model.skus.flatMap((sku) => (sku.feed ? [feedRowKey(sku.feed.model, sku.feed.params)] : [])),
      );
      const feedModels = new Set(model.skus.flatMap((sku) => (sku.feed ? [sku.feed.model] : [])));
      for (const row of rows.filter((candidate) => feedModels.has(candidate.model))) {
        const key = feedRowKey(row.model, row.params);
        if (cited.has(key)) continue;
        const excuse = exceptions.findIndex(
          (e) => e.catalogModel === model.id && feedRowKey(e.feedModel, e.params) === key,
        );
        if (excuse >= 0) excusedUsed.add(excuse);
        else unsold.push(`${model.id}: ${key} (${row.credits} per ${row.unit})`);
      }
    }
    expect(unsold).toEqual([]);
    // An excuse for a row nothing sells any more is stale.
    expect(exceptions.filter((_, i) => !excusedUsed.has(i))).toEqual([]);
  });

  it("has a feed row behind every model KIE's feed prices, and a reason where it has none", () => {
    const fed = new Set(rows.map((row) => row.model));
    const unexplained = offered()
      .filter(({ model }) => model.creditsNote === undefined && model.kieModel !== null)
      .filter(({ model }) => !model.skus.some((sku) => sku.feed !== undefined && fed.has(sku.feed.model)))
      .map(({ model }) => model.id);
    expect(unexplained).toEqual([]);
  });
});
