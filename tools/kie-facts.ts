/**
 * Writes the project's copy of KIE's documented create-request schemas,
 * `catalog/kie-facts/endpoints.json`, from a docs snapshot such as
 * `catalog/kie-facts/snapshots/endpoints-2026-08.json` (facts from the OpenAPI
 * pages listed in docs.kie.ai/llms.txt). A newer snapshot replaces the copy:
 *
 *   npm run catalog:facts -- <snapshot.json>
 *
 * Kept: the POST endpoints that create tasks (Market `jobs/createTask`, one
 * entry per model string, and the dedicated APIs under `/api/v1/`), with
 * each field's name, type, required flag and limits. Dropped: defaults,
 * titles, GET endpoints, file uploads, download links and the LLM chat APIs.
 * The output is sorted and stable: the same snapshot gives the same bytes.
 *
 * Merge rule for a model string listed on more than one page: pages with the
 * same facts are one entry (every page kept in `docUrls`). When they differ,
 * the page whose URL names the model (`…/market/<model>.md`) defines it; a
 * page that copied another page's model string is a docs error, listed in
 * `MODEL_STRING_FIXES` with the model it documents. Anything else stops
 * the script, so a person decides.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";

const SnapshotField: z.ZodType<SnapshotField> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    /** null on a few pages that give a field no type: any JSON value. */
    type: z.string().nullable(),
    required: z.boolean(),
    enum: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
    minLength: z.number().optional(),
    maxLength: z.number().optional(),
    minItems: z.number().optional(),
    maxItems: z.number().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    itemType: z.string().optional(),
    maxFileMb: z.number().optional(),
    rangeInProse: z.tuple([z.number(), z.number()]).optional(),
    fields: z.array(SnapshotField).optional(),
  }),
);
interface SnapshotField {
  name: string;
  type: string | null;
  required: boolean;
  enum?: (string | number | boolean)[] | undefined;
  minLength?: number | undefined;
  maxLength?: number | undefined;
  minItems?: number | undefined;
  maxItems?: number | undefined;
  minimum?: number | undefined;
  maximum?: number | undefined;
  itemType?: string | undefined;
  maxFileMb?: number | undefined;
  rangeInProse?: [number, number] | undefined;
  fields?: SnapshotField[] | undefined;
}

const Snapshot = z.object({
  source: z.string(),
  crawledAt: z.string(),
  endpoints: z.array(
    z.looseObject({
      method: z.string(),
      path: z.string(),
      docUrl: z.string(),
      model: z.array(z.string()).optional(),
      input: z.array(SnapshotField).optional(),
      topLevel: z.array(SnapshotField).optional(),
      fields: z.array(SnapshotField).optional(),
    }),
  ),
});
type SnapshotEndpoint = z.infer<typeof Snapshot>["endpoints"][number];

const MARKET_PATH = "/api/v1/jobs/createTask";

/** Pages that list another page's model string: the model each really documents, and why we know. */
const MODEL_STRING_FIXES: Readonly<Record<string, { listed: string; model: string; reason: string }>> = {
  "https://docs.kie.ai/market/kling/v25-turbo-image-to-video-pro.md": {
    listed: "kling/v2-1-master-image-to-video",
    model: "kling/v2-5-turbo-image-to-video-pro",
    reason:
      "the Kling V2.5 Turbo Image to Video Pro page lists the V2.1 Master model string; KIE's price feed sells kling/v2-5-turbo-image-to-video-pro",
  },
  "https://docs.kie.ai/market/qwen2/text-to-image.md": {
    listed: "qwen2/image-edit",
    model: "qwen2/text-to-image",
    reason:
      "the Qwen2 Text To Image page lists the Image Edit model string; KIE's price feed sells qwen2/text-to-image",
  },
};

/**
 * Limits KIE states only in prose, which the OpenAPI blocks leave out.
 * Each is a field patch with its source.
 */
const PROSE_FACTS: readonly { path: string; field: string; patch: Partial<SnapshotField>; source: string }[] = [
  {
    path: "/api/v1/runway/generate",
    field: "callBackUrl",
    patch: { required: true },
    source: "docs.kie.ai/runway-api/generate-ai-video: callBackUrl is required for every request",
  },
  {
    path: "/api/v1/runway/generate",
    field: "duration",
    patch: { enum: [5, 10] },
    source: "docs.kie.ai/runway-api/generate-ai-video: duration is 5 or 10 seconds",
  },
  {
    path: "/api/v1/runway/generate",
    field: "quality",
    patch: { enum: ["720p", "1080p"] },
    source: "docs.kie.ai/runway-api/generate-ai-video: quality is 720p or 1080p",
  },
];

/** Dedicated POST endpoints that are not task creation. */
function isCreateEndpoint(endpoint: SnapshotEndpoint): boolean {
  if (endpoint.method !== "POST") return false;
  if (endpoint.path === MARKET_PATH) return true;
  if (!endpoint.path.startsWith("/api/v1/")) return false; // uploads, LLM chat APIs
  return !endpoint.path.endsWith("/download-url") && endpoint.path !== "/api/v1/responses";
}

/** One field with only what a request check needs, keys in a fixed order. */
function factOf(field: SnapshotField): Record<string, unknown> {
  const fact: Record<string, unknown> = { name: field.name, type: field.type ?? "any", required: field.required };
  for (const key of [
    "enum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "rangeInProse",
    "itemType",
    "maxFileMb",
  ] as const) {
    if (field[key] !== undefined) fact[key] = field[key];
  }
  if (field.fields !== undefined && field.fields.length > 0) fact.fields = field.fields.map(factOf);
  return fact;
}

interface FactEndpoint {
  path: string;
  model?: string;
  docUrls: string[];
  fields: Record<string, unknown>[];
  topLevel?: Record<string, unknown>[];
}

function marketEntry(model: string, endpoint: SnapshotEndpoint): FactEndpoint {
  const topLevel = (endpoint.topLevel ?? []).map(factOf);
  // The Market quickstart documents `callBackUrl` for every model; a page without top-level fields still takes it.
  if (!topLevel.some((field) => field.name === "callBackUrl"))
    topLevel.push({ name: "callBackUrl", type: "string", required: false });
  return { path: MARKET_PATH, model, docUrls: [endpoint.docUrl], fields: (endpoint.input ?? []).map(factOf), topLevel };
}

const schemaOf = (entry: FactEndpoint) => JSON.stringify({ fields: entry.fields, topLevel: entry.topLevel });
const pageNames = (docUrl: string, model: string) => docUrl.endsWith(`/${model}.md`);

export function factsOf(snapshot: z.infer<typeof Snapshot>, snapshotName: string) {
  const byModel = new Map<string, FactEndpoint[]>();
  const dedicated = new Map<string, FactEndpoint>();
  const fixes: { docUrl: string; listed: string; model: string; reason: string }[] = [];
  for (const endpoint of snapshot.endpoints.filter(isCreateEndpoint)) {
    if (endpoint.path !== MARKET_PATH) {
      if (dedicated.has(endpoint.path)) throw new Error(`${endpoint.path} is listed twice`);
      dedicated.set(endpoint.path, {
        path: endpoint.path,
        docUrls: [endpoint.docUrl],
        fields: (endpoint.fields ?? []).map(factOf),
      });
      continue;
    }
    for (const listed of endpoint.model ?? []) {
      const fix = MODEL_STRING_FIXES[endpoint.docUrl];
      const model = fix?.listed === listed ? fix.model : listed;
      if (fix?.listed === listed) fixes.push({ docUrl: endpoint.docUrl, ...fix });
      byModel.set(model, [...(byModel.get(model) ?? []), marketEntry(model, endpoint)]);
    }
  }
  const market: FactEndpoint[] = [];
  for (const [model, entries] of byModel) {
    const distinct = [...new Map(entries.map((entry) => [schemaOf(entry), entry])).values()];
    const docUrls = [...new Set(entries.flatMap((entry) => entry.docUrls))].sort();
    if (distinct.length === 1) {
      market.push({ ...distinct[0]!, docUrls });
      continue;
    }
    const named = entries.filter((entry) => entry.docUrls.some((url) => pageNames(url, model)));
    if (named.length !== 1)
      throw new Error(`${model}: ${entries.length} pages disagree and no single page is named after it: ${docUrls}`);
    market.push({ ...named[0]!, docUrls });
  }
  for (const prose of PROSE_FACTS) {
    const endpoint = dedicated.get(prose.path);
    const field = endpoint?.fields.find((candidate) => candidate.name === prose.field);
    if (field === undefined) throw new Error(`prose fact for a field the snapshot lacks: ${prose.path} ${prose.field}`);
    Object.assign(field, prose.patch);
  }
  const endpoints = [
    ...market.sort((a, b) => (a.model! < b.model! ? -1 : 1)),
    ...[...dedicated.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  ];
  return {
    source: snapshot.source,
    crawledAt: snapshot.crawledAt,
    snapshot: snapshotName,
    generatedBy: "tools/kie-facts.ts",
    rules: [
      "Market: body {model, input, callBackUrl?}; `fields` are the input fields, `topLevel` the body fields besides model and input.",
      "A model string on several pages with the same facts is one entry; when pages differ the page named after the model wins.",
      "maxFileMb and rangeInProse are limits KIE states only in prose.",
    ],
    modelStringFixes: fixes.sort((a, b) => (a.docUrl < b.docUrl ? -1 : 1)),
    proseFacts: PROSE_FACTS.map(({ path, field, patch, source }) => ({ path, field, patch, source })),
    endpoints,
  };
}

const OUTPUT = new URL("../catalog/kie-facts/endpoints.json", import.meta.url);

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = process.argv[2];
  if (input === undefined) {
    console.error("usage: node --import tsx tools/kie-facts.ts <endpoints snapshot.json>");
    process.exit(2);
  }
  const snapshot = Snapshot.parse(JSON.parse(readFileSync(input, "utf8")));
  const facts = factsOf(snapshot, basename(input));
  writeFileSync(OUTPUT, `${JSON.stringify(facts, null, 2)}\n`);
  // The repository's formatter has the last word on layout, so `biome check` stays clean.
  execFileSync("npx", ["biome", "format", "--write", OUTPUT.pathname], { stdio: "ignore" });
  console.log(`wrote ${facts.endpoints.length} create endpoints to ${OUTPUT.pathname}`);
}
