/**
 * Building the catalog index from its data files: parse, validate with zod,
 * cross-check (SKUs against fields, defaults, meters), apply the price guard
 * and precompute everything menus need. Done once at start (and on reload),
 * never lazily on a first click.
 */
import type { z } from "zod";
import { costKopecks, costRate, DEFAULT_PRICING, type Pricing, priceModel, soldUnderCost } from "./pricing.ts";
import { CatalogFile, type Field, type Model, type OptionValue, type Sku } from "./schema.ts";
import { type SearchKey, searchKeyOf } from "./search.ts";
import { FREE_SECTION, SECTIONS, sectionOf } from "./sections.ts";

/** A problem that makes the catalog unusable: where it is and what is wrong. */
export interface CatalogProblem {
  readonly file: string;
  /** The model's id, when the problem is inside a model. */
  readonly model?: string;
  /** A path inside the model (or file), e.g. `fields[2].values`. */
  readonly path: string;
  readonly message: string;
}

/** The catalog could not be built; `problems` names each bad model and field. */
export class CatalogError extends Error {
  readonly code = "catalog_invalid";
  constructor(readonly problems: readonly CatalogProblem[]) {
    super(
      `Invalid catalog:\n${problems
        .map(
          (p) => `  - ${p.file}${p.model ? ` model "${p.model}"` : ""}${p.path ? ` at ${p.path}` : ""}: ${p.message}`,
        )
        .join("\n")}`,
    );
    this.name = "CatalogError";
  }
}

/** A parameter value as the wizard collects it. */
export type ParamValue = OptionValue | boolean | readonly string[];
/** A (partial) set of parameter values by KIE field name. */
export type Params = Readonly<Record<string, ParamValue>>;

/** A model with everything precomputed for menus and quotes. */
export interface IndexedModel {
  readonly model: Model;
  readonly section: string;
  readonly fieldsByName: ReadonlyMap<string, Field>;
  /** Field names that SKUs price on (the price dimensions). */
  readonly pricedFields: readonly string[];
  /** SKUs by the key of their priced values. */
  readonly skusByKey: ReadonlyMap<string, readonly Sku[]>;
  /** Enum values offered to users: for priced fields only those some SKU prices. */
  readonly offered: ReadonlyMap<string, readonly OptionValue[]>;
  /** The choices a user gets without touching anything. */
  readonly defaults: Params;
  /** The lowest and highest prices a user can pay (free-only SKUs left out; 0 when all are free only). */
  readonly fromKopecks: number;
  readonly toKopecks: number;
  readonly hasFree: boolean;
  /** Every SKU is free and waits for tomorrow once the quota is used: the model shows no price. */
  readonly freeOnly: boolean;
  /** When it joined the catalog (ms since the epoch), for the "New" mark. */
  readonly addedAtMs?: number;
  /** Its names, ids and aliases, folded for search (see `search.ts`). */
  readonly searchKey: SearchKey;
  /** Shown in menus; false with `hiddenReason` when unavailable or not priceable. */
  readonly visible: boolean;
  readonly hiddenReason?: string;
}

/** The built catalog. */
export interface CatalogIndex {
  readonly models: ReadonlyMap<string, IndexedModel>;
  /** Visible models per section id (including "free"), in data order: each file lists its best or newest first. */
  readonly bySection: ReadonlyMap<string, readonly IndexedModel[]>;
  /** Models kept out of menus, with the reason (for operators). */
  readonly hidden: readonly { id: string; reason: string }[];
  readonly skuCount: number;
}

/** The key of a SKU: its priced values in field order. */
export function skuKey(pricedFields: readonly string[], values: Readonly<Record<string, unknown>>): string {
  return pricedFields.map((field) => `${field}=${String(values[field])}`).join("&");
}

/**
 * Builds the index from data files (name -> JSON text), every SKU priced
 * from its credits at `pricing`. Throws `CatalogError`.
 */
export function buildCatalog(
  files: readonly { name: string; text: string }[],
  pricing: Pricing = DEFAULT_PRICING,
): CatalogIndex {
  const problems: CatalogProblem[] = [];
  const parsed: { file: string; model: Model }[] = [];
  for (const { name, text } of files) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      problems.push({ file: name, path: "", message: `not valid JSON (${(error as Error).message})` });
      continue;
    }
    const result = CatalogFile.safeParse(json);
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(problemAt(name, json, issue));
      continue;
    }
    for (const data of result.data.models) {
      const model = priceModel(data, result.data.markup, pricing);
      parsed.push({ file: name, model });
      const section = sectionOf(model.type).id;
      if (section !== result.data.section) {
        problems.push({
          file: name,
          model: model.id,
          path: "type",
          message: `type ${model.type} belongs to section "${section}", not "${result.data.section}"`,
        });
      }
    }
  }
  const seen = new Set<string>();
  for (const { file, model } of parsed) {
    if (seen.has(model.id)) problems.push({ file, model: model.id, path: "id", message: "duplicate model id" });
    seen.add(model.id);
    for (const message of crossCheck(model)) problems.push({ file, model: model.id, ...message });
    model.skus.forEach((sku, i) => {
      if (!soldUnderCost(sku, pricing)) return;
      const cost = Math.ceil(costKopecks(sku.credits, pricing) - 1e-6);
      problems.push({
        file,
        model: model.id,
        path: `skus[${i}]`,
        message: `sold under KIE's cost: ${sku.kopecks} kopecks for ${sku.credits} credits, which cost ${cost} at ${costRate(pricing)} kopecks a credit`,
      });
    });
  }
  if (problems.length > 0) throw new CatalogError(problems);

  const models = new Map<string, IndexedModel>();
  let skuCount = 0;
  for (const { model } of parsed) {
    models.set(model.id, indexModel(model));
    skuCount += model.skus.length;
  }
  const bySection = new Map<string, IndexedModel[]>();
  for (const section of [FREE_SECTION, ...SECTIONS]) bySection.set(section.id, []);
  for (const indexed of models.values()) {
    if (!indexed.visible) continue;
    bySection.get(indexed.section)?.push(indexed);
    if (indexed.hasFree) bySection.get(FREE_SECTION.id)?.push(indexed);
  }
  const hidden = [...models.values()]
    .filter((indexed) => !indexed.visible)
    .map((indexed) => ({ id: indexed.model.id, reason: indexed.hiddenReason ?? "hidden" }));
  return { models, bySection, hidden, skuCount };
}

function problemAt(file: string, json: unknown, issue: z.core.$ZodIssue): CatalogProblem {
  const [first, index, ...rest] = issue.path;
  if (first === "models" && typeof index === "number") {
    const model = (json as { models?: { id?: unknown }[] }).models?.[index];
    const id = typeof model?.id === "string" ? model.id : `#${index}`;
    return { file, model: id, path: formatPath(rest), message: issue.message };
  }
  return { file, path: formatPath(issue.path), message: issue.message };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}

/** Checks that only the whole model can show: SKUs, defaults and meters against fields. */
function crossCheck(model: Model): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const fields = new Map<string, Field>();
  model.fields.forEach((field, i) => {
    if (fields.has(field.name)) out.push({ path: `fields[${i}].name`, message: `duplicate field "${field.name}"` });
    fields.set(field.name, field);
    if (field.kind === "enum" && field.default !== undefined && !field.values.includes(field.default)) {
      out.push({ path: `fields[${i}].default`, message: `default ${field.default} is not one of the values` });
    }
    if (
      field.kind === "number" &&
      (field.min > field.max ||
        (field.default !== undefined && (field.default < field.min || field.default > field.max)))
    ) {
      out.push({ path: `fields[${i}]`, message: "min, max and default do not fit together" });
    }
    if (field.kind === "media" && field.minItems > field.maxItems) {
      out.push({ path: `fields[${i}].minItems`, message: "minItems is above maxItems" });
    }
    if (field.kind === "media" && !field.multiple && field.maxItems !== 1) {
      out.push({ path: `fields[${i}].maxItems`, message: "a single-URL field takes one item" });
    }
  });
  for (const name of Object.keys(model.constants)) {
    if (fields.has(name)) out.push({ path: `constants.${name}`, message: "is also a field" });
  }
  const dimensions = Object.keys(model.skus[0]?.params ?? {}).sort();
  model.skus.forEach((sku, i) => {
    const keys = Object.keys(sku.params).sort();
    if (keys.join() !== dimensions.join()) {
      out.push({
        path: `skus[${i}].params`,
        message: `prices on ${keys.join(", ") || "nothing"}, the first SKU on ${dimensions.join(", ") || "nothing"}`,
      });
    }
    for (const [name, value] of Object.entries(sku.params)) {
      const field = fields.get(name);
      if (field === undefined) out.push({ path: `skus[${i}].params.${name}`, message: "is not a field of the model" });
      else if (field.kind === "enum" && !field.values.some((option) => String(option) === String(value))) {
        out.push({ path: `skus[${i}].params.${name}`, message: `${String(value)} is not one of the field's values` });
      } else if (field.kind === "boolean" && typeof value !== "boolean") {
        out.push({ path: `skus[${i}].params.${name}`, message: "must be true or false" });
      } else if (field.kind !== "enum" && field.kind !== "boolean") {
        out.push({ path: `skus[${i}].params.${name}`, message: `a ${field.kind} field cannot be a price dimension` });
      }
    }
  });
  if (model.meter) {
    const source = fields.get(model.meter.source.field);
    if (source === undefined)
      out.push({ path: "meter.source.field", message: `"${model.meter.source.field}" is not a field` });
    if (model.skus.some((sku) => sku.free)) out.push({ path: "meter", message: "metered prices cannot be free" });
  }
  if (!model.available && !model.unavailableReason) {
    out.push({ path: "unavailableReason", message: "an unavailable model needs a reason for operators" });
  }
  return out;
}

function indexModel(model: Model): IndexedModel {
  const fieldsByName = new Map(model.fields.map((field) => [field.name, field]));
  const pricedFields = Object.keys(model.skus[0]?.params ?? {}).sort();
  const skusByKey = new Map<string, Sku[]>();
  for (const sku of model.skus) {
    const key = skuKey(pricedFields, sku.params);
    skusByKey.set(key, [...(skusByKey.get(key) ?? []), sku]);
  }
  const offered = new Map<string, OptionValue[]>();
  for (const field of model.fields) {
    if (field.kind !== "enum") continue;
    offered.set(
      field.name,
      pricedFields.includes(field.name)
        ? field.values.filter((value) => model.skus.some((sku) => String(sku.params[field.name]) === String(value)))
        : [...field.values],
    );
  }
  const defaults: Record<string, ParamValue> = {};
  for (const field of model.fields) {
    const value = defaultOf(field, offered.get(field.name), pricedFields.includes(field.name));
    if (value !== undefined) defaults[field.name] = value;
  }
  const paid = model.skus.filter((sku) => !sku.free || model.afterFreeQuota === "pay");
  const prices = paid.length === 0 ? [0] : paid.map((sku) => sku.kopecks);
  const hiddenReason = !model.available
    ? (model.unavailableReason ?? "unavailable")
    : priceGuardReason(model, pricedFields, offered, defaults, skusByKey);
  return {
    model,
    section: sectionOf(model.type).id,
    fieldsByName,
    pricedFields,
    skusByKey,
    offered,
    defaults,
    fromKopecks: Math.min(...prices),
    toKopecks: Math.max(...prices),
    hasFree: model.skus.some((sku) => sku.free),
    freeOnly: paid.length === 0,
    ...(model.addedAt === undefined ? {} : { addedAtMs: Date.parse(model.addedAt) }),
    searchKey: searchKeyOf(model),
    visible: hiddenReason === undefined,
    ...(hiddenReason === undefined ? {} : { hiddenReason }),
  };
}

/** The value used when the user picks nothing; a priced option always has one (the price depends on it). */
function defaultOf(field: Field, offered: readonly OptionValue[] | undefined, priced: boolean): ParamValue | undefined {
  switch (field.kind) {
    case "enum":
      if (field.default !== undefined && offered?.some((value) => String(value) === String(field.default))) {
        return field.default;
      }
      return field.required || priced ? offered?.[0] : undefined;
    case "boolean":
    case "number":
    case "text":
      return field.default;
    default:
      return undefined;
  }
}

/** The price guard: why a model cannot be offered, or undefined when every required choice is priced. */
function priceGuardReason(
  model: Model,
  pricedFields: readonly string[],
  offered: ReadonlyMap<string, readonly OptionValue[]>,
  defaults: Params,
  skusByKey: ReadonlyMap<string, readonly Sku[]>,
): string | undefined {
  for (const name of pricedFields) {
    const field = model.fields.find((candidate) => candidate.name === name);
    if (field?.kind === "enum" && (offered.get(name)?.length ?? 0) === 0) return `no option of "${name}" has a price`;
    if (defaults[name] === undefined && field?.kind !== "boolean") return `"${name}" has no priced default`;
  }
  const key = skuKey(pricedFields, Object.fromEntries(pricedFields.map((name) => [name, defaults[name] ?? false])));
  const matches = skusByKey.get(key)?.length ?? 0;
  if (matches !== 1) return `the default choices match ${matches} prices, not exactly one`;
  return undefined;
}
