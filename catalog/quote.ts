/**
 * Prices: a full parameter set resolves to exactly one SKU, or to a typed
 * `price_unresolved` error. Never a fallback to another SKU.
 */
import { type IndexedModel, type Params, type ParamValue, skuKey } from "./build.ts";
import { dialogueOf, isDialogueField, spokenLength } from "./dialogue.ts";
import type { Meter, OptionValue, Sku } from "./schema.ts";
import { type FieldError, validateParams } from "./validate.ts";

/** Quantities a metered price needs that parameters do not hold (e.g. an audio file's duration). */
export interface Measures {
  /** Duration in seconds of the media sent for each media field, by field name. */
  readonly mediaSeconds?: Readonly<Record<string, number>>;
}

/** A resolved price. */
export interface Quote {
  readonly modelId: string;
  readonly kopecks: number;
  readonly free: boolean;
  /**
   * What KIE charges for it, in credits: the SKU's credits, times the units
   * for a metered price. A free SKU costs KIE's credits all the same.
   */
  readonly credits: number;
  /** The SKU's priced values (its identity). */
  readonly sku: Readonly<Record<string, OptionValue | boolean>>;
  /** For metered prices: the price of one unit and how many units. */
  readonly perUnit?: { readonly unit: Meter["unit"]; readonly kopecks: number; readonly units: number };
}

/** Why there is no price. */
export type QuoteError =
  | { readonly code: "invalid_params"; readonly errors: readonly FieldError[] }
  | {
      readonly code: "price_unresolved";
      readonly reason: "no_sku" | "ambiguous" | "missing_measure" | "over_limit";
      readonly matches: number;
    };

/** A quote or the reason there is none. */
export type QuoteResult =
  | { readonly ok: true; readonly quote: Quote }
  | { readonly ok: false; readonly error: QuoteError };

/** The price of a full parameter set. */
export function quoteForParams(indexed: IndexedModel, params: Params, measures: Measures = {}): QuoteResult {
  const validation = validateParams(indexed, params);
  if (!validation.ok) return { ok: false, error: { code: "invalid_params", errors: validation.errors } };
  return priceOf(indexed, validation.params, measures);
}

/** The price of already validated parameters (defaults applied). */
export function priceOf(indexed: IndexedModel, params: Params, measures: Measures = {}): QuoteResult {
  const matched = matchSku(indexed, params);
  if (!matched.ok) return matched;
  const { sku } = matched;
  const meter = indexed.model.meter;
  if (meter === undefined) {
    return {
      ok: true,
      quote: { modelId: indexed.model.id, kopecks: sku.kopecks, free: sku.free, credits: sku.credits, sku: sku.params },
    };
  }
  const quantity = unitsOf(indexed, meter, params, measures);
  if (quantity === undefined) return unresolved("missing_measure", 1);
  const units = billedUnits(meter, quantity);
  if (units > meter.max) return unresolved("over_limit", 1);
  return {
    ok: true,
    quote: {
      modelId: indexed.model.id,
      kopecks: Math.ceil(sku.kopecks * units),
      free: false,
      credits: creditsOf(sku.credits * units),
      sku: sku.params,
      perUnit: { unit: meter.unit, kopecks: sku.kopecks, units },
    },
  };
}

/** Credits without floating-point noise (0.8 × 3 is 2.4, not 2.4000000000000004). */
function creditsOf(credits: number): number {
  return Math.round(credits * 1e6) / 1e6;
}

/** The price shown on an option's button; `kopecks` null when that option has no price. */
export interface OptionPrice {
  readonly value: OptionValue;
  readonly kopecks: number | null;
  readonly free: boolean;
}

/**
 * The price of each offered option of an enum field, the other choices kept
 * (for buttons that show prices). `null` where that option has no price; for
 * metered models the price of one unit (the quantity is not known yet).
 */
export function optionPrices(
  indexed: IndexedModel,
  field: string,
  params: Params,
  measures: Measures = {},
): OptionPrice[] {
  const base = { ...indexed.defaults, ...params };
  return (indexed.offered.get(field) ?? []).map((value) => {
    const choice = { ...base, [field]: value };
    if (indexed.model.meter) {
      const matched = matchSku(indexed, choice);
      return matched.ok ? { value, kopecks: matched.sku.kopecks, free: false } : { value, kopecks: null, free: false };
    }
    const result = priceOf(indexed, choice, measures);
    return result.ok
      ? { value, kopecks: result.quote.kopecks, free: result.quote.free }
      : { value, kopecks: null, free: false };
  });
}

/** The one SKU the priced values select, or why there is not exactly one. */
function matchSku(indexed: IndexedModel, params: Params): { ok: true; sku: Sku } | { ok: false; error: QuoteError } {
  const matches = indexed.skusByKey.get(skuKey(indexed.pricedFields, priceValues(indexed, params))) ?? [];
  const sku = matches[0];
  if (matches.length !== 1 || sku === undefined)
    return unresolved(matches.length === 0 ? "no_sku" : "ambiguous", matches.length);
  return { ok: true, sku };
}

function unresolved(
  reason: "no_sku" | "ambiguous" | "missing_measure" | "over_limit",
  matches: number,
): { ok: false; error: QuoteError } {
  return { ok: false, error: { code: "price_unresolved", reason, matches } };
}

function priceValues(indexed: IndexedModel, params: Params): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const name of indexed.pricedFields) out[name] = params[name] ?? false;
  return out;
}

function unitsOf(indexed: IndexedModel, meter: Meter, params: Params, measures: Measures): number | undefined {
  const { source } = meter;
  switch (source.kind) {
    case "media_duration":
      return measures.mediaSeconds?.[source.field];
    case "text_length": {
      const text = params[source.field];
      if (typeof text !== "string") return undefined;
      const field = indexed.fieldsByName.get(source.field);
      if (!isDialogueField(field)) return [...text].length;
      // KIE bills a dialogue's spoken text, not the speakers' names.
      const dialogue = dialogueOf(field, text);
      return dialogue.ok ? spokenLength(dialogue.turns) : undefined;
    }
    case "param": {
      const value = Number(params[source.field]);
      return Number.isFinite(value) ? value : undefined;
    }
    case "param_map": {
      const value = params[source.field];
      return value === undefined ? undefined : source.units[String(value)];
    }
  }
}

/** Quantities are billed per started unit (a started second is a second). */
function billedUnits(meter: Meter, quantity: number): number {
  switch (meter.unit) {
    case "second":
      return Math.max(1, Math.ceil(quantity));
    case "minute":
      return Math.max(1, Math.ceil(quantity / 60));
    case "1000_chars":
      return Math.max(1, Math.ceil(quantity / 1000));
    case "megapixel":
      return quantity;
  }
}
