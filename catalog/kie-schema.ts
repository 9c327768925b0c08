/**
 * KIE's documented create-request schemas (the project's copy,
 * `catalog/kie-facts/endpoints.json`, written by `tools/kie-facts.ts` from a
 * docs snapshot) and a check of a create request against them, answered the
 * way KIE answers: the fakes of KIE refuse what KIE would refuse, and the
 * catalog conformance test proves the bot sends nothing KIE does not document.
 */
import { z } from "zod";
import factsJson from "./kie-facts/endpoints.json" with { type: "json" };

/** A JSON type as KIE's OpenAPI pages name it; `any` for the few fields a page gives no type. */
export const KieType = z.enum(["string", "number", "integer", "boolean", "array", "object", "any"]);
export type KieType = z.infer<typeof KieType>;

/** One documented field: its name, type, required flag and limits. */
export interface KieFieldFact {
  readonly name: string;
  readonly type: KieType;
  readonly required: boolean;
  readonly enum?: readonly (string | number | boolean)[] | undefined;
  readonly minLength?: number | undefined;
  readonly maxLength?: number | undefined;
  readonly minItems?: number | undefined;
  readonly maxItems?: number | undefined;
  readonly minimum?: number | undefined;
  readonly maximum?: number | undefined;
  /** A range KIE states only in prose, as [minimum, maximum]. */
  readonly rangeInProse?: readonly [number, number] | undefined;
  /** The type of each item of an array. */
  readonly itemType?: KieType | undefined;
  /** Largest file KIE takes behind this URL field, in megabytes (stated in prose; a URL cannot be checked). */
  readonly maxFileMb?: number | undefined;
  /** The fields of an object. */
  readonly fields?: readonly KieFieldFact[] | undefined;
}

export const KieFieldFact: z.ZodType<KieFieldFact> = z.lazy(() =>
  z.strictObject({
    name: z.string().min(1),
    type: KieType,
    required: z.boolean(),
    enum: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(0).optional(),
    minItems: z.number().int().min(0).optional(),
    maxItems: z.number().int().min(0).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    rangeInProse: z.tuple([z.number(), z.number()]).optional(),
    itemType: KieType.optional(),
    maxFileMb: z.number().positive().optional(),
    fields: z.array(KieFieldFact).optional(),
  }),
);

/** One create endpoint; a Market entry is one model string of `jobs/createTask`. */
export const KieEndpointFact = z.strictObject({
  path: z.string().startsWith("/"),
  /** The Market model string; absent for a dedicated API. */
  model: z.string().min(1).optional(),
  docUrls: z.array(z.url()).min(1),
  /** Market: the `input` fields. Dedicated APIs: the body fields. */
  fields: z.array(KieFieldFact),
  /** Market: the body fields besides `model` and `input` (`callBackUrl`). */
  topLevel: z.array(KieFieldFact).optional(),
});
export type KieEndpointFact = z.infer<typeof KieEndpointFact>;

/** The facts file. */
export const KieFacts = z.strictObject({
  source: z.string().min(1),
  crawledAt: z.iso.datetime(),
  snapshot: z.string().min(1),
  generatedBy: z.string().min(1),
  rules: z.array(z.string()),
  modelStringFixes: z.array(
    z.strictObject({ docUrl: z.url(), listed: z.string(), model: z.string(), reason: z.string().min(1) }),
  ),
  proseFacts: z.array(
    z.strictObject({
      path: z.string(),
      field: z.string(),
      patch: z.record(z.string(), z.unknown()),
      source: z.string(),
    }),
  ),
  endpoints: z.array(KieEndpointFact),
});
export type KieFacts = z.infer<typeof KieFacts>;

/** The Market create path: its body is `{model, input, callBackUrl?}`. */
export const KIE_MARKET_PATH = "/api/v1/jobs/createTask";

/** The facts looked up by path and Market model string. */
export interface KieFactsIndex {
  readonly facts: KieFacts;
  readonly dedicated: ReadonlyMap<string, KieEndpointFact>;
  readonly market: ReadonlyMap<string, KieEndpointFact>;
}

/** Indexes parsed facts; a path or model listed twice is an error in the facts file. */
export function indexKieFacts(facts: KieFacts): KieFactsIndex {
  const dedicated = new Map<string, KieEndpointFact>();
  const market = new Map<string, KieEndpointFact>();
  for (const endpoint of facts.endpoints) {
    const [map, key] = endpoint.path === KIE_MARKET_PATH ? [market, endpoint.model] : [dedicated, endpoint.path];
    if (key === undefined) throw new Error(`a Market entry without a model string (${endpoint.docUrls[0]})`);
    if (map.has(key)) throw new Error(`${key} is listed twice in the KIE facts`);
    map.set(key, endpoint);
  }
  return { facts, dedicated, market };
}

let loaded: KieFactsIndex | undefined;

/** The committed facts, parsed and indexed once. */
export function loadKieFacts(): KieFactsIndex {
  loaded ??= indexKieFacts(KieFacts.parse(factsJson));
  return loaded;
}

/** The documented endpoint a request goes to: by path, and for Market by model string. */
export function kieEndpointFact(index: KieFactsIndex, path: string, model?: string): KieEndpointFact | undefined {
  if (path === KIE_MARKET_PATH) return model === undefined ? undefined : index.market.get(model);
  return index.dedicated.get(path);
}

/**
 * How KIE answers a create request: accepted, or refused with its body code
 * and message (sent with the same HTTP status). Per KIE's shared codes
 * (shared/reference/kie-api.md §1.4), 422 is "parameters failed validation";
 * an unknown model string is a parameter that fails it. A path that is no
 * create endpoint is 404.
 */
export type KieCreateCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly status: number;
      readonly code: number;
      readonly msg: string;
      readonly violations: readonly string[];
    };

const MARKET_ENVELOPE: ReadonlySet<string> = new Set(["model", "input"]);

const refused = (code: number, violations: readonly string[]): KieCreateCheck => ({
  ok: false,
  status: code,
  code,
  msg: code === 404 ? violations.join("; ") : `Parameter validation failed: ${violations.join("; ")}`,
  violations,
});

/**
 * Checks a create request against KIE's documented schema for its path and
 * model: every field documented, JSON types, enums, required fields,
 * lengths, item counts and ranges. `facts` defaults to the committed copy.
 *
 * @example
 * checkKieCreate("/api/v1/jobs/createTask", { model: "z-image", input: { prompt: "a fox", size: 2 } });
 * // { ok: false, status: 422, code: 422, msg: "Parameter validation failed: …",
 * //   violations: ["input.size is not a documented field", "input.aspect_ratio is required"] }
 */
export function checkKieCreate(path: string, body: unknown, facts: KieFactsIndex = loadKieFacts()): KieCreateCheck {
  const pathOnly = path.split("?")[0] ?? path;
  if (pathOnly !== KIE_MARKET_PATH && !facts.dedicated.has(pathOnly))
    return refused(404, [`POST ${pathOnly} is not a documented create endpoint`]);
  if (!isPlainObject(body)) return refused(422, ["the request body must be a JSON object"]);
  const violations: string[] = [];
  if (pathOnly === KIE_MARKET_PATH) {
    const model = body.model;
    if (typeof model !== "string" || model === "") return refused(422, ["model is required"]);
    const endpoint = facts.market.get(model);
    if (endpoint === undefined) return refused(422, [`model ${JSON.stringify(model)} is not supported`]);
    const topLevel = endpoint.topLevel ?? [];
    checkObject(body, topLevel, "", violations, MARKET_ENVELOPE);
    const input = body.input;
    if (input === undefined) {
      if (endpoint.fields.some((field) => field.required)) violations.push("input is required");
    } else if (!isPlainObject(input)) violations.push("input must be an object");
    else checkObject(input, endpoint.fields, "input.", violations);
  } else {
    checkObject(body, facts.dedicated.get(pathOnly)?.fields ?? [], "", violations);
  }
  return violations.length === 0 ? { ok: true } : refused(422, violations);
}

function checkObject(
  value: Readonly<Record<string, unknown>>,
  fields: readonly KieFieldFact[],
  prefix: string,
  violations: string[],
  envelope: ReadonlySet<string> = new Set(),
): void {
  const byName = new Map(fields.map((field) => [field.name, field]));
  for (const [name, item] of Object.entries(value)) {
    if (envelope.has(name) || item === undefined) continue;
    const field = byName.get(name);
    if (field === undefined) violations.push(`${prefix}${name} is not a documented field`);
    else checkValue(field, item, `${prefix}${name}`, violations);
  }
  for (const field of fields) {
    if (field.required && value[field.name] === undefined) violations.push(`${prefix}${field.name} is required`);
  }
}

/** The violations of one value of a documented field (`where` names it in each message). */
export function checkKieValue(field: KieFieldFact, value: unknown, where: string = field.name): string[] {
  const violations: string[] = [];
  checkValue(field, value, where, violations);
  return violations;
}

function checkValue(field: KieFieldFact, value: unknown, where: string, violations: string[]): void {
  const typeError = typeViolation(field.type, value);
  if (typeError !== undefined) {
    violations.push(`${where} must be ${typeError}, got ${describe(value)}`);
    return;
  }
  if (field.enum !== undefined) {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!field.enum.some((option) => option === item))
        violations.push(`${where} must be one of ${optionsOf(field.enum)}, got ${describe(item)}`);
    }
  }
  if (typeof value === "string") {
    // Characters are counted as code points, the way the bot counts them (an emoji is one).
    const length = [...value].length;
    if (field.minLength !== undefined && length < field.minLength)
      violations.push(`${where} is shorter than ${field.minLength} characters (${length})`);
    if (field.maxLength !== undefined && length > field.maxLength)
      violations.push(`${where} is longer than ${field.maxLength} characters (${length})`);
  }
  if (typeof value === "number") {
    const [minimum, maximum] = [field.minimum ?? field.rangeInProse?.[0], field.maximum ?? field.rangeInProse?.[1]];
    if (minimum !== undefined && value < minimum) violations.push(`${where} is below ${minimum} (${value})`);
    if (maximum !== undefined && value > maximum) violations.push(`${where} is above ${maximum} (${value})`);
  }
  if (Array.isArray(value)) {
    if (field.minItems !== undefined && value.length < field.minItems)
      violations.push(`${where} has fewer than ${field.minItems} items (${value.length})`);
    if (field.maxItems !== undefined && value.length > field.maxItems)
      violations.push(`${where} has more than ${field.maxItems} items (${value.length})`);
    if (field.itemType !== undefined) {
      value.forEach((item, i) => {
        const itemError = typeViolation(field.itemType!, item);
        if (itemError !== undefined) violations.push(`${where}[${i}] must be ${itemError}, got ${describe(item)}`);
      });
    }
  }
  if (isPlainObject(value) && field.fields !== undefined && field.fields.length > 0)
    checkObject(value, field.fields, `${where}.`, violations);
}

/** What the value should have been, or undefined when it has the type. */
function typeViolation(type: KieType, value: unknown): string | undefined {
  switch (type) {
    case "any":
      return undefined;
    case "string":
      return typeof value === "string" ? undefined : "a string";
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "a number";
    case "integer":
      return typeof value === "number" && Number.isInteger(value) ? undefined : "an integer";
    case "boolean":
      return typeof value === "boolean" ? undefined : "a boolean";
    case "array":
      return Array.isArray(value) ? undefined : "an array";
    case "object":
      return isPlainObject(value) ? undefined : "an object";
  }
}

/** The documented options, the first dozen of a long list. */
function optionsOf(options: readonly (string | number | boolean)[]): string {
  const shown = options.slice(0, 12).map((option) => JSON.stringify(option));
  return options.length > shown.length ? `${shown.join(", ")}, … (${options.length} in all)` : shown.join(", ");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
