/**
 * What changed at KIE that the catalog has not followed:
 *
 *   npm run catalog:diff -- [--docs FILE] [--prices FILE] [--catalog DIR] [--margin-below 0.2] [--json]
 *   npm run catalog:diff -- --fetch [--base-url URL]
 *
 * Compares the catalog (catalog/data, or DIR) with a docs snapshot (the shape
 * of catalog/kie-facts/snapshots/endpoints-2026-08.json, turned into facts by
 * `factsOf` of tools/kie-facts.ts) and a price feed (the shape of
 * prices-2026-10.json), and prints the findings of catalog/drift.ts grouped.
 * Prices are at `KOPECKS_PER_CREDIT` (default 78.57), KIE's cost at
 * `KIE_CREDIT_COST_KOPECKS` (default: the same); `--margin-below` is the
 * margin, (price − KIE's cost) / price, under which a SKU is listed (default 0:
 * sold under cost).
 *
 * `--fetch` downloads KIE's current docs instead: the index docs.kie.ai/llms.txt,
 * every English `.md` page it lists, the OpenAPI block of each page, turned
 * into a snapshot of the same shape; and the price feed, POST
 * api.kie.ai/client/v1/model-pricing/page page by page. Feed records carry a
 * description, not a model string: each is named by the row of the `--prices`
 * snapshot with the same description (its `quote`), and records no row
 * describes are listed for a person to name. `--base-url` (or
 * KIE_DOCS_BASE_URL / KIE_PRICING_BASE_URL) points both somewhere else.
 *
 * Exit code: 1 when an offered model is no longer valid (KIE dropped it, or a
 * request it sends fails KIE's new schema), 2 when the inputs cannot be read,
 * 0 otherwise.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { buildCatalog, type CatalogIndex } from "../catalog/build.ts";
import {
  type DriftReport,
  diffCatalog,
  type FeedRow,
  formatDriftReport,
  type PriceException,
  type SchemaException,
} from "../catalog/drift.ts";
import { catalogReader, readCatalogFiles } from "../catalog/files.ts";
import { indexKieFacts, KieFacts, type KieFactsIndex, loadKieFacts } from "../catalog/kie-schema.ts";
import { DEFAULT_KOPECKS_PER_CREDIT, type Pricing } from "../catalog/pricing.ts";
import { FeedRef } from "../catalog/schema.ts";
import { sampleValue } from "../tests/helpers/catalog.ts";
import { factsOf } from "./kie-facts.ts";

const KIE_FACTS_DIR = new URL("../catalog/kie-facts/", import.meta.url);
export const DEFAULT_DOCS = new URL("snapshots/endpoints-2026-08.json", KIE_FACTS_DIR).pathname;
export const DEFAULT_PRICES = new URL("snapshots/prices-2026-10.json", KIE_FACTS_DIR).pathname;
/** Where KIE publishes its docs; page links in llms.txt are on this origin. */
export const KIE_DOCS_ORIGIN = "https://docs.kie.ai";
/** Where KIE serves its price feed. */
export const KIE_PRICING_ORIGIN = "https://api.kie.ai";
export const PRICING_PATH = "/client/v1/model-pricing/page";

// ---------------------------------------------------------------------------
// Inputs

/** The docs snapshot's envelope; `factsOf` reads the endpoints, and `KieFacts` checks what it makes of them. */
const DocsSnapshot = z.object({
  source: z.string(),
  crawledAt: z.string(),
  endpoints: z.array(z.looseObject({ method: z.string(), path: z.string(), docUrl: z.string() })),
});
export type DocsSnapshot = Parameters<typeof factsOf>[0];

const PriceRow = z.looseObject({
  model: z.string().min(1),
  params: FeedRef.shape.params,
  credits: z.number().nonnegative(),
  unit: z.string().min(1),
  quote: z.string().optional(),
});
export const PriceSnapshot = z.looseObject({ rows: z.array(PriceRow) });
export type PriceSnapshot = z.infer<typeof PriceSnapshot>;
type PriceRow = z.infer<typeof PriceRow>;

const Exceptions = z.object({ exceptions: z.array(z.object({ model: z.string(), field: z.string() })) });
const PriceExceptions = z.object({
  exceptions: z.array(z.object({ catalogModel: z.string(), feedModel: z.string(), params: FeedRef.shape.params })),
});

/** KIE's facts from a docs snapshot, made the way `npm run catalog:facts` makes endpoints.json. */
export function factsFromSnapshot(snapshot: unknown, name: string): KieFactsIndex {
  const envelope = DocsSnapshot.parse(snapshot);
  return indexKieFacts(KieFacts.parse(factsOf(envelope as unknown as DocsSnapshot, name)));
}

// ---------------------------------------------------------------------------
// Downloads: timeouts, a size cap, no other hosts

export interface FetchOptions {
  readonly timeoutMs?: number;
  /** Largest response body read, in bytes. */
  readonly maxBytes?: number;
  readonly fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** A response body as text, refused past `maxBytes`, within `timeoutMs` for the whole download. */
export async function download(
  url: string,
  init: { method?: "GET" | "POST"; body?: string } = {},
  options: FetchOptions = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const response = await (options.fetch ?? fetch)(url, {
    method: init.method ?? "GET",
    ...(init.body === undefined ? {} : { body: init.body, headers: { "content-type": "application/json" } }),
    redirect: "error",
    signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${url}: HTTP ${response.status}`);
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new Error(`${url}: ${declared} bytes, more than the cap of ${maxBytes}`);
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`${url}: more than the cap of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

// ---------------------------------------------------------------------------
// The docs: llms.txt, its pages, their OpenAPI blocks

/** The English `.md` pages llms.txt lists on KIE's docs origin (the `/cn/` translations left out). */
export function docPagesOf(llmsTxt: string): string[] {
  const pages = new Set<string>();
  for (const match of llmsTxt.matchAll(/\]\((https:\/\/docs\.kie\.ai\/[^)\s]+?\.md)(?:#[^)\s]*)?\)/g)) {
    const url = new URL(match[1]!);
    if (url.pathname === "/cn.md" || url.pathname.startsWith("/cn/")) continue;
    pages.add(`${KIE_DOCS_ORIGIN}${url.pathname}`);
  }
  return [...pages].sort();
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The OpenAPI document of a page: its ```yaml block that starts with `openapi:`. */
export function openApiOf(page: string): JsonObject | undefined {
  for (const fence of page.matchAll(/^(`{3,})ya?ml[^\S\r\n]*\r?\n([\s\S]*?)^\1[^\S\r\n]*$/gm)) {
    const text = fence[2]!;
    if (!/^openapi\s*:/m.test(text)) continue;
    const spec = parseYaml(text);
    if (isObject(spec) && isObject(spec.paths)) return spec;
  }
  return undefined;
}

/** A snapshot field, as endpoints-2026-08.json writes them. */
export interface SnapshotField {
  name: string;
  type: string | null;
  required: boolean;
  enum?: (string | number | boolean)[];
  default?: Json;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  itemType?: string;
  maxFileMb?: number;
  rangeInProse?: [number, number];
  fields?: SnapshotField[];
}

export interface SnapshotEndpoint {
  method: string;
  path: string;
  operationId?: string;
  docUrl: string;
  title: string;
  model?: string[];
  input?: SnapshotField[];
  topLevel?: SnapshotField[];
  fields?: SnapshotField[];
}

const MARKET_PATH = "/api/v1/jobs/createTask";
const NUMERIC_KEYS = ["minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum"] as const;

/** Follows local `$ref`s (`#/components/...`) and merges `allOf` members. */
function resolve(spec: JsonObject, schema: Json | undefined, depth = 0): JsonObject {
  if (!isObject(schema) || depth > 20) return {};
  let out: JsonObject = schema;
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) {
    let target: Json | undefined = spec;
    for (const part of ref.slice(2).split("/")) {
      const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
      target = isObject(target) ? target[key] : undefined;
    }
    const { $ref: _, ...siblings } = schema;
    out = { ...resolve(spec, target, depth + 1), ...siblings };
  }
  if (Array.isArray(out.allOf)) {
    const members = out.allOf.map((member) => resolve(spec, member, depth + 1));
    const properties: JsonObject = {};
    const required: Json[] = [];
    for (const member of [...members, out]) {
      if (isObject(member.properties)) Object.assign(properties, member.properties);
      if (Array.isArray(member.required)) required.push(...member.required);
    }
    const merged: JsonObject = Object.assign({}, ...members, out);
    delete merged.allOf;
    out = { ...merged, properties, required };
  }
  return out;
}

/** A limit KIE states only in prose: the largest file, in MB. */
export function maxFileMbOf(prose: string): number | undefined {
  const match =
    /max(?:imum)?\.?\s+(?:file\s+)?size(?:\s+per\s+\w+)?\s*(?:is\s*)?[:：]?\s*(\d+(?:\.\d+)?)\s*MB/i.exec(prose) ??
    /(?:up to|not exceed(?:ing)?|no (?:larger|more) than)\s+(\d+(?:\.\d+)?)\s*MB/i.exec(prose);
  return match === null ? undefined : Number(match[1]);
}

/** A limit KIE states only in prose: a number's range. */
export function rangeOf(prose: string): [number, number] | undefined {
  const match =
    /range\s*[:：]?\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|~|to)\s*(-?\d+(?:\.\d+)?)/i.exec(prose) ??
    /between\s+(-?\d+(?:\.\d+)?)\s+and\s+(-?\d+(?:\.\d+)?)/i.exec(prose);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

function fieldsOf(spec: JsonObject, schema: JsonObject): SnapshotField[] {
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const properties = isObject(schema.properties) ? schema.properties : {};
  return Object.entries(properties).map(([name, raw]) => fieldOf(spec, name, raw, required.has(name)));
}

function fieldOf(spec: JsonObject, name: string, raw: Json, required: boolean): SnapshotField {
  const schema = resolve(spec, raw);
  const types = Array.isArray(schema.type) ? schema.type.filter((type) => type !== "null") : [schema.type];
  const type = typeof types[0] === "string" ? types[0] : null;
  const field: SnapshotField = { name, type, required };
  const items = resolve(spec, schema.items);
  const options = Array.isArray(schema.enum) ? schema.enum : Array.isArray(items.enum) ? items.enum : undefined;
  const scalars = options?.filter((value): value is string | number | boolean => value !== null && !isObject(value));
  if (scalars !== undefined && scalars.length > 0) field.enum = scalars;
  if (schema.default !== undefined) field.default = schema.default;
  for (const key of NUMERIC_KEYS) {
    const value = schema[key];
    if (typeof value === "number") field[key] = value;
  }
  if (typeof items.type === "string") field.itemType = items.type;
  const prose = [schema.description, items.description].filter((text) => typeof text === "string").join("\n");
  const maxFileMb = maxFileMbOf(prose);
  if (maxFileMb !== undefined) field.maxFileMb = maxFileMb;
  if ((type === "number" || type === "integer") && field.minimum === undefined && field.maximum === undefined) {
    const range = rangeOf(prose);
    if (range !== undefined) field.rangeInProse = range;
  }
  if (type === "object") {
    const nested = fieldsOf(spec, schema);
    if (nested.length > 0) field.fields = nested;
  }
  return field;
}

/** The model strings a Market page documents: its `model` enum, else its const or default. */
function modelStrings(schema: JsonObject): string[] {
  const values = Array.isArray(schema.enum) ? schema.enum : [schema.const ?? schema.default];
  return [...new Set(values.filter((value): value is string => typeof value === "string" && value.trim() !== ""))].map(
    (value) => value.trim(),
  );
}

/** The endpoints a docs page documents, in the snapshot's shape. */
export function endpointsOfPage(docUrl: string, page: string): SnapshotEndpoint[] {
  const spec = openApiOf(page);
  if (spec === undefined) return [];
  const title = /^#\s+(.+)$/m.exec(page)?.[1]?.trim() ?? docUrl;
  const out: SnapshotEndpoint[] = [];
  for (const [path, item] of Object.entries(spec.paths as JsonObject)) {
    if (!isObject(item)) continue;
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const body = resolve(spec, operation.requestBody);
      const content = isObject(body.content) ? body.content : {};
      const media = resolve(spec, content["application/json"] ?? Object.values(content)[0]);
      const schema = resolve(spec, media.schema);
      const endpoint: SnapshotEndpoint = {
        method: method.toUpperCase(),
        path,
        ...(typeof operation.operationId === "string" ? { operationId: operation.operationId } : {}),
        docUrl,
        title: typeof operation.summary === "string" ? operation.summary : title,
      };
      const fields = fieldsOf(spec, schema);
      if (path === MARKET_PATH && method === "post") {
        const properties = isObject(schema.properties) ? schema.properties : {};
        endpoint.model = modelStrings(resolve(spec, properties.model));
        endpoint.input = fieldsOf(spec, resolve(spec, properties.input));
        endpoint.topLevel = fields.filter((field) => field.name !== "model" && field.name !== "input");
      } else endpoint.fields = fields;
      out.push(endpoint);
    }
  }
  return out;
}

/** Runs `work` on every item, `limit` at a time, results in the items' order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** KIE's docs as a snapshot: llms.txt from `docsBase`, then each page it lists (fetched from `docsBase` too). */
export async function fetchDocsSnapshot(docsBase: string, options: FetchOptions = {}): Promise<DocsSnapshot> {
  const base = docsBase.replace(/\/+$/, "");
  const index = await download(`${base}/llms.txt`, {}, options);
  const pages = docPagesOf(index);
  if (pages.length === 0) throw new Error(`${base}/llms.txt lists no docs pages`);
  const endpoints = await mapLimited(pages, 8, async (docUrl) => {
    const page = await download(`${base}${new URL(docUrl).pathname}`, {}, options);
    return endpointsOfPage(docUrl, page);
  });
  return {
    source: `docs.kie.ai OpenAPI blocks listed in ${KIE_DOCS_ORIGIN}/llms.txt (fetched from ${base})`,
    crawledAt: new Date().toISOString(),
    endpoints: endpoints.flat(),
  } as unknown as DocsSnapshot;
}

// ---------------------------------------------------------------------------
// The price feed

const FeedRecord = z.looseObject({
  modelDescription: z.string(),
  creditPrice: z.union([z.string(), z.number()]),
  creditUnit: z.string(),
  usdPrice: z.union([z.string(), z.number()]).nullish(),
  anchor: z.string().nullish(),
});
export type FeedRecord = z.infer<typeof FeedRecord>;
const FeedPage = z.object({
  code: z.number(),
  msg: z.string().nullish(),
  data: z
    .object({
      records: z.array(FeedRecord),
      total: z.number().nullish(),
      pages: z.number().nullish(),
    })
    .nullish(),
});
const PAGE_SIZE = 100;
const MAX_PAGES = 50;

/** Every record of KIE's price feed, page by page. */
export async function fetchFeedRecords(pricingBase: string, options: FetchOptions = {}): Promise<FeedRecord[]> {
  const url = `${pricingBase.replace(/\/+$/, "")}${PRICING_PATH}`;
  const records: FeedRecord[] = [];
  for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
    const text = await download(
      url,
      { method: "POST", body: JSON.stringify({ pageNum, pageSize: PAGE_SIZE }) },
      options,
    );
    const page = FeedPage.parse(JSON.parse(text));
    if (page.code !== 200) throw new Error(`${url}: KIE answered code ${page.code} (${page.msg ?? ""})`);
    const found = page.data?.records ?? [];
    records.push(...found);
    if (found.length < PAGE_SIZE || (page.data?.pages != null && pageNum >= page.data.pages)) return records;
  }
  throw new Error(`${url}: more than ${MAX_PAGES} pages`);
}

/** How descriptions are compared: spaces collapsed, case ignored. */
const descriptionKey = (text: string) => text.trim().replace(/\s+/g, " ").toLowerCase();

/**
 * The feed description a snapshot row was copied from: the first cell of its
 * `quote` ("desc | 250 per video | $1.25"), less a copyist's note such as
 * "(image-to-video row identical)". Undefined when the row has no quote.
 */
export function feedDescriptionOf(row: { quote?: string | undefined }): string | undefined {
  const cell = row.quote
    ?.split("|")
    .map((part) => part.trim())
    .find((part) => part !== "");
  return cell?.replace(/\s*\([^()]*row identical\)$/, "");
}

/** The unit text of a row's quote ("per video"), when it has one. */
export function quotedUnitOf(row: { quote?: string | undefined }): string | undefined {
  return /\|\s*[\d.]+\s+(per [^|]+?)\s*\|/.exec(row.quote ?? "")?.[1];
}

/** The live feed named by the snapshot rows with the same description, and the records no row describes. */
export function feedFromRecords(
  records: readonly FeedRecord[],
  known: PriceSnapshot,
): { rows: FeedRow[]; unnamed: FeedRecord[] } {
  const byDescription = new Map<string, PriceRow[]>();
  const unitOf = new Map<string, string>();
  for (const row of known.rows) {
    const description = feedDescriptionOf(row);
    if (description === undefined) continue;
    const key = descriptionKey(description);
    byDescription.set(key, [...(byDescription.get(key) ?? []), row]);
    const unit = quotedUnitOf(row);
    if (unit !== undefined) unitOf.set(descriptionKey(unit), row.unit);
  }
  const rows: FeedRow[] = [];
  const unnamed: FeedRecord[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    const key = descriptionKey(record.modelDescription);
    const named = byDescription.get(key);
    const price = String(record.creditPrice).trim();
    const credits = price === "" ? Number.NaN : Number(price);
    // A record without a readable price is for a person to read, never a 0-credit row.
    if (named === undefined || !Number.isFinite(credits) || credits < 0) {
      unnamed.push(record);
      continue;
    }
    if (seen.has(key)) continue; // KIE lists a few records twice
    seen.add(key);
    const unitText = descriptionKey(record.creditUnit);
    const unit = unitOf.get(unitText) ?? unitText.replace(/^per\s+/, "");
    for (const row of named) rows.push({ model: row.model, params: row.params, credits, unit });
  }
  return { rows, unnamed };
}

// ---------------------------------------------------------------------------
// A run

export interface DiffOptions {
  readonly docs?: string;
  readonly prices?: string;
  /** A directory of catalog data files; the shipped catalog/data when absent. */
  readonly catalogDir?: string;
  readonly marginBelow?: number;
  readonly fetch?: boolean;
  readonly docsBaseUrl?: string;
  readonly pricingBaseUrl?: string;
  readonly kopecksPerCredit?: number;
  /** What a credit costs the operator (`KIE_CREDIT_COST_KOPECKS`), when not the sale rate. */
  readonly costKopecksPerCredit?: number;
  readonly fetchOptions?: FetchOptions;
}

export interface DiffRun {
  readonly report: DriftReport;
  /** Feed records no snapshot row describes (`--fetch` only): new models or renamed rows, for a person to name. */
  readonly unnamedFeedRecords: readonly FeedRecord[];
  readonly sources: { readonly docs: string; readonly prices: string };
  readonly exitCode: 0 | 1;
}

const readJson = (path: string | URL): unknown => JSON.parse(readFileSync(path, "utf8"));

export async function loadCatalogFrom(dir: string | undefined, pricing: Pricing): Promise<CatalogIndex> {
  const read = (path: string | URL) => readFile(path, "utf8").catch(() => undefined);
  return buildCatalog(await readCatalogFiles(catalogReader(read, dir)), pricing);
}

export async function runDiff(options: DiffOptions = {}): Promise<DiffRun> {
  const pricing: Pricing = {
    kopecksPerCredit: options.kopecksPerCredit ?? DEFAULT_KOPECKS_PER_CREDIT,
    ...(options.costKopecksPerCredit === undefined ? {} : { costKopecksPerCredit: options.costKopecksPerCredit }),
  };
  const catalog = await loadCatalogFrom(options.catalogDir, pricing);
  const pricesPath = options.prices ?? DEFAULT_PRICES;
  const known = PriceSnapshot.parse(readJson(pricesPath));
  let facts: KieFactsIndex;
  let feed: FeedRow[];
  let unnamed: FeedRecord[] = [];
  let sources: DiffRun["sources"];
  if (options.fetch) {
    const docsBase = options.docsBaseUrl ?? KIE_DOCS_ORIGIN;
    const pricingBase = options.pricingBaseUrl ?? KIE_PRICING_ORIGIN;
    facts = factsFromSnapshot(await fetchDocsSnapshot(docsBase, options.fetchOptions), `${docsBase}/llms.txt`);
    ({ rows: feed, unnamed } = feedFromRecords(await fetchFeedRecords(pricingBase, options.fetchOptions), known));
    sources = {
      docs: `${docsBase}/llms.txt`,
      prices: `${pricingBase}${PRICING_PATH} (named by ${basename(pricesPath)})`,
    };
  } else {
    const docsPath = options.docs ?? DEFAULT_DOCS;
    facts = factsFromSnapshot(readJson(docsPath), basename(docsPath));
    feed = known.rows.map(({ model, params, credits, unit }) => ({ model, params, credits, unit }));
    sources = { docs: basename(docsPath), prices: basename(pricesPath) };
  }
  const report = diffCatalog({
    catalog,
    facts,
    previous: loadKieFacts(),
    feed,
    pricing,
    marginBelow: options.marginBelow ?? 0,
    sampleValue,
    exceptions: Exceptions.parse(readJson(new URL("exceptions.json", KIE_FACTS_DIR))).exceptions as SchemaException[],
    priceExceptions: PriceExceptions.parse(readJson(new URL("price-exceptions.json", KIE_FACTS_DIR)))
      .exceptions as PriceException[],
  });
  return { report, unnamedFeedRecords: unnamed, sources, exitCode: report.invalidModels.length > 0 ? 1 : 0 };
}

/** The run as text: the drift report, then the feed records no snapshot row names. */
export function formatRun(run: DiffRun): string {
  let text = formatDriftReport(run.report, run.sources);
  if (run.unnamedFeedRecords.length > 0) {
    text += `\n== Feed records no row of the price snapshot names (new models or renamed rows; name them in a new snapshot): ${run.unnamedFeedRecords.length} ==\n`;
    for (const record of run.unnamedFeedRecords)
      text += `  ${record.modelDescription.trim()}: ${record.creditPrice} credits ${record.creditUnit}\n`;
  }
  return text;
}

const USAGE =
  "usage: npm run catalog:diff -- [--docs FILE] [--prices FILE] [--catalog DIR] [--margin-below 0.2] [--fetch] [--base-url URL] [--json]";

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      docs: { type: "string" },
      prices: { type: "string" },
      catalog: { type: "string" },
      "margin-below": { type: "string" },
      fetch: { type: "boolean", default: false },
      "base-url": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const margin = z.coerce
    .number()
    .min(-10)
    .max(1)
    .safeParse(values["margin-below"] ?? 0);
  const rate = z.coerce
    .number()
    .positive()
    .max(10_000)
    .safeParse(process.env.KOPECKS_PER_CREDIT || DEFAULT_KOPECKS_PER_CREDIT);
  const cost = z.coerce
    .number()
    .positive()
    .max(10_000)
    .optional()
    .safeParse(process.env.KIE_CREDIT_COST_KOPECKS || undefined);
  if (!margin.success || !rate.success || !cost.success) {
    console.error(
      !margin.success
        ? "--margin-below must be a fraction such as 0.2"
        : !rate.success
          ? "bad KOPECKS_PER_CREDIT"
          : "bad KIE_CREDIT_COST_KOPECKS",
    );
    return 2;
  }
  const baseUrl = values["base-url"];
  const run = await runDiff({
    ...(values.docs === undefined ? {} : { docs: values.docs }),
    ...(values.prices === undefined ? {} : { prices: values.prices }),
    ...(values.catalog === undefined ? {} : { catalogDir: values.catalog }),
    marginBelow: margin.data,
    kopecksPerCredit: rate.data,
    ...(cost.data === undefined ? {} : { costKopecksPerCredit: cost.data }),
    fetch: values.fetch,
    docsBaseUrl: baseUrl ?? process.env.KIE_DOCS_BASE_URL ?? KIE_DOCS_ORIGIN,
    pricingBaseUrl: baseUrl ?? process.env.KIE_PRICING_BASE_URL ?? KIE_PRICING_ORIGIN,
  });
  process.stdout.write(values.json ? `${JSON.stringify(run, null, 2)}\n` : formatRun(run));
  return run.exitCode;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`catalog:diff: ${error instanceof Error ? error.message : String(error)}`);
      console.error(USAGE);
      process.exitCode = 2;
    },
  );
}

// ---------------------------------------------------------------------------
// YAML: the subset KIE's OpenAPI blocks are written in (block mappings and
// sequences, plain, quoted and block scalars, flow collections). The
// project has no YAML library; anchors, tags and multiple documents are not
// used by the docs and are not read.

/** Parses a YAML document of the subset KIE's docs use. */
export function parseYaml(text: string): Json {
  return new YamlReader(text.split(/\r?\n/)).document();
}

class YamlReader {
  private i = 0;
  constructor(private readonly lines: string[]) {}

  document(): Json {
    this.skip();
    if (this.i >= this.lines.length) return null;
    return this.node(this.indentAt(this.i));
  }

  private indentAt(i: number): number {
    return /^ */.exec(this.lines[i]!)![0].length;
  }

  /** Moves past blank lines and comments. */
  private skip(): void {
    while (this.i < this.lines.length && /^\s*(#.*)?$/.test(this.lines[this.i]!)) this.i++;
  }

  /** The node starting at line `i`, whose indent is `indent`. */
  private node(indent: number): Json {
    const text = this.lines[this.i]!.slice(indent);
    if (/^-( |$)/.test(text)) return this.sequence(indent);
    if (keyOf(text) !== undefined) return this.mapping(indent);
    this.i++;
    return this.value(text, indent - 1);
  }

  private sequence(indent: number): Json[] {
    const out: Json[] = [];
    for (;;) {
      this.skip();
      if (this.i >= this.lines.length || this.indentAt(this.i) !== indent) return out;
      const line = this.lines[this.i]!;
      const text = line.slice(indent);
      if (!/^-( |$)/.test(text)) return out;
      const rest = text.slice(1).trimStart();
      if (rest === "") {
        this.i++;
        this.skip();
        out.push(
          this.i < this.lines.length && this.indentAt(this.i) > indent ? this.node(this.indentAt(this.i)) : null,
        );
        continue;
      }
      // "- key: value" / "- - item": the item is a node at the column after the dash.
      const column = line.length - rest.length;
      this.lines[this.i] = " ".repeat(column) + rest;
      out.push(this.node(column));
    }
  }

  private mapping(indent: number): JsonObject {
    const out: JsonObject = {};
    for (;;) {
      this.skip();
      if (this.i >= this.lines.length || this.indentAt(this.i) !== indent) return out;
      const text = this.lines[this.i]!.slice(indent);
      const entry = keyOf(text);
      if (entry === undefined) return out;
      this.i++;
      if (entry.rest !== "") {
        out[entry.key] = this.value(entry.rest, indent);
        continue;
      }
      this.skip();
      if (this.i >= this.lines.length) out[entry.key] = null;
      else {
        const next = this.indentAt(this.i);
        const dash = /^-( |$)/.test(this.lines[this.i]!.slice(next));
        out[entry.key] = next > indent || (next === indent && dash) ? this.node(next) : null;
      }
    }
  }

  /** A value written after "key: " or "- " (its node's indent is `indent`): scalar, block scalar or flow. */
  private value(rest: string, indent: number): Json {
    if (/^[|>]/.test(rest)) return this.blockScalar(rest, indent);
    let text = rest;
    if (text.startsWith("'") || text.startsWith('"')) {
      while (!closedQuote(text) && this.i < this.lines.length) text += `\n${this.lines[this.i++]}`;
      return quoted(text);
    }
    if (text.startsWith("[") || text.startsWith("{")) {
      while (!balanced(text) && this.i < this.lines.length) text += ` ${this.lines[this.i++]!.trim()}`;
      return new FlowReader(text).value();
    }
    // A plain scalar may go on over more-indented lines.
    const parts = [text.replace(/\s+#.*$/, "")];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.trim() === "") {
        let j = this.i;
        while (j < this.lines.length && this.lines[j]!.trim() === "") j++;
        if (j >= this.lines.length || this.indentAt(j) <= indent) break;
        parts.push("\n");
        this.i = j;
        continue;
      }
      if (this.indentAt(this.i) <= indent || /^\s*#/.test(line)) break;
      parts.push(line.trim().replace(/\s+#.*$/, ""));
      this.i++;
    }
    return plain(parts.join(" ").replace(/ ?\n ?/g, "\n"));
  }

  private blockScalar(header: string, indent: number): string {
    const literal = header.startsWith("|");
    const chomp = header.includes("-") ? "strip" : header.includes("+") ? "keep" : "clip";
    const body: string[] = [];
    let contentIndent: number | undefined;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.trim() === "") {
        body.push("");
        this.i++;
        continue;
      }
      const lineIndent = this.indentAt(this.i);
      if (lineIndent <= indent) break;
      contentIndent ??= lineIndent;
      if (lineIndent < contentIndent) break;
      body.push(line.slice(contentIndent));
      this.i++;
    }
    let trailing = 0;
    while (body.length > 0 && body[body.length - 1] === "") {
      body.pop();
      trailing++;
    }
    let text: string;
    if (literal) text = body.join("\n");
    else {
      text = "";
      body.forEach((line, n) => {
        if (n === 0) text = line;
        else if (line === "" || body[n - 1] === "" || /^\s/.test(line) || /^\s/.test(body[n - 1]!)) text += `\n${line}`;
        else text += ` ${line}`;
      });
      text = text.replace(/\n(?=\n)/g, "");
    }
    if (body.length === 0) return "";
    if (chomp === "strip") return text;
    return chomp === "keep" ? `${text}\n${"\n".repeat(trailing)}` : `${text}\n`;
  }
}

/** The key of a mapping line and what follows its colon, or undefined when the line is no key. */
function keyOf(text: string): { key: string; rest: string } | undefined {
  if (/^[-[{|>!&*%@`]/.test(text) && !/^-[^\s]/.test(text)) return undefined;
  let end: number;
  let key: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    end = closingQuote(text);
    if (end < 0) return undefined;
    key = String(quoted(text.slice(0, end + 1)));
    end += 1;
    const after = text.slice(end);
    if (!/^\s*:(\s|$)/.test(after)) return undefined;
    end += after.indexOf(":");
  } else {
    const match = /:(\s|$)/.exec(text);
    if (match === null || /\s#/.test(text.slice(0, match.index))) return undefined;
    end = match.index;
    key = text.slice(0, end).trim();
  }
  return { key, rest: text.slice(end + 1).trim() };
}

function closingQuote(text: string): number {
  const quote = text[0];
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

function closedQuote(text: string): boolean {
  return closingQuote(text) >= 0;
}

/** A quoted scalar (lines folded into spaces, blank lines into newlines). */
function quoted(text: string): string {
  const end = closingQuote(text);
  const inner = text.slice(1, end < 0 ? undefined : end);
  // In double quotes a backslash at the end of a line joins the next one without a space.
  const folded = (text[0] === '"' ? inner.replace(/\\\n\s*/g, "") : inner)
    .split("\n")
    .map((line, n, all) =>
      all.length === 1 ? line : n === 0 ? line.trimEnd() : n === all.length - 1 ? line.trimStart() : line.trim(),
    )
    .reduce(
      (acc, line, n) =>
        n === 0 ? line : line === "" ? `${acc}\n` : acc.endsWith("\n") ? acc + line : `${acc} ${line}`,
      "",
    );
  if (text[0] === "'") return folded.replaceAll("''", "'");
  try {
    return JSON.parse(
      `"${folded
        .replace(/\\x([0-9a-fA-F]{2})/g, "\\u00$1")
        .replace(/\n/g, "\\n")
        .replace(/\t/g, "\\t")}"`,
    );
  } catch {
    return folded;
  }
}

/** A plain scalar's value: null, a boolean, a number or the text. */
function plain(text: string): Json {
  const value = text.trim();
  if (value === "" || value === "~" || /^null$/i.test(value)) return null;
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  if (/^[-+]?(\d+|\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return Number(value);
  return value;
}

function balanced(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
  }
  return depth <= 0 && quote === undefined;
}

/** A flow collection: `[a, 'b', {c: 1}]`. */
class FlowReader {
  private i = 0;
  constructor(private readonly text: string) {}

  value(): Json {
    this.space();
    const c = this.text[this.i];
    if (c === "[") {
      this.i++;
      const out: Json[] = [];
      for (;;) {
        this.space();
        if (this.text[this.i] === "]" || this.i >= this.text.length) {
          this.i++;
          return out;
        }
        out.push(this.value());
        this.space();
        if (this.text[this.i] === ",") this.i++;
      }
    }
    if (c === "{") {
      this.i++;
      const out: JsonObject = {};
      for (;;) {
        this.space();
        if (this.text[this.i] === "}" || this.i >= this.text.length) {
          this.i++;
          return out;
        }
        const key = this.value();
        this.space();
        let item: Json = null;
        if (this.text[this.i] === ":") {
          this.i++;
          item = this.value();
        }
        out[String(key)] = item;
        this.space();
        if (this.text[this.i] === ",") this.i++;
      }
    }
    if (c === '"' || c === "'") {
      const end = closingQuote(this.text.slice(this.i));
      const token = this.text.slice(this.i, end < 0 ? undefined : this.i + end + 1);
      this.i += token.length;
      return quoted(token);
    }
    const start = this.i;
    while (this.i < this.text.length && !/[,\]}]/.test(this.text[this.i]!) && !/^:(\s|$)/.test(this.text.slice(this.i)))
      this.i++;
    return plain(this.text.slice(start, this.i));
  }

  private space(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i]!)) this.i++;
  }
}
