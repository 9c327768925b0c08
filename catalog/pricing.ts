/**
 * Prices from KIE's costs: a SKU carries what KIE charges in credits, and
 * its price in kopecks is derived, `ceil(credits × kopecksPerCredit ×
 * markup)`, unless the data gives an explicit one. The rate is a setting
 * (`KOPECKS_PER_CREDIT`); the markup is the model's, else its section's.
 */
import type { Model, ModelData, Sku, SkuData } from "./schema.ts";

/**
 * The predecessor's rate: each of its prices is KIE's cost at about 78.57
 * kopecks a credit (z-image 0.8 credits = 63 kopecks, Seedream 4.5 6.5 =
 * 511). It rounded to the nearest kopeck; this rounds up, so a derived price
 * is the predecessor's or one kopeck more, never under the cost.
 */
export const DEFAULT_KOPECKS_PER_CREDIT = 78.57;

export interface Pricing {
  /** What one KIE credit is sold for before the markup, in kopecks (`KOPECKS_PER_CREDIT`). */
  readonly kopecksPerCredit: number;
  /**
   * What one credit costs the operator, in kopecks (`KIE_CREDIT_COST_KOPECKS`;
   * KIE sells credits at $0.005): the cost /stats, the margin checks and the
   * catalog's under-cost check count. When unset, the sale rate.
   */
  readonly costKopecksPerCredit?: number;
}

export const DEFAULT_PRICING: Pricing = { kopecksPerCredit: DEFAULT_KOPECKS_PER_CREDIT };

/** Floating-point slack: 100 credits at 78.57 must be 7,857 kopecks, not 7,858. */
const EPSILON = 1e-6;

/** What `credits` cost the operator, in kopecks (not rounded). */
export function costKopecks(credits: number, pricing: Pricing): number {
  return credits * costRate(pricing);
}

/** Kopecks one credit costs the operator. */
export function costRate(pricing: Pricing): number {
  return pricing.costKopecksPerCredit ?? pricing.kopecksPerCredit;
}

/** True when a paid SKU's price is under what KIE charges for it (a free one costs the operator by design). */
export function soldUnderCost(sku: Sku, pricing: Pricing): boolean {
  return !sku.free && sku.kopecks < costKopecks(sku.credits, pricing) - EPSILON;
}

/** A SKU's price: the explicit one, else its credits at the sale rate with the markup, rounded up to a kopeck. */
export function skuKopecks(sku: SkuData, markup: number, pricing: Pricing): number {
  return sku.kopecks ?? Math.max(1, Math.ceil(sku.credits * pricing.kopecksPerCredit * markup - EPSILON));
}

/** The model with every SKU priced (`markup`: the model's, else its section's). */
export function priceModel(model: ModelData, sectionMarkup: number, pricing: Pricing): Model {
  const markup = model.markup ?? sectionMarkup;
  const skus: Sku[] = model.skus.map((sku) => ({ ...sku, kopecks: skuKopecks(sku, markup, pricing) }));
  return { ...model, skus };
}
