/**
 * Catalog drift: what changed at KIE that the catalog has not followed. The
 * catalog is compared with KIE's documented create schemas (facts made by
 * `tools/kie-facts.ts` from a docs snapshot) and with KIE's price feed:
 * models KIE added or dropped, fields renamed, added or removed, enum values
 * and limits KIE no longer accepts, requests the bot would send that KIE's
 * schema now refuses, SKU credits that differ from their feed row, and SKUs
 * whose margin fell under a threshold. Pure: every input is passed in, the
 * report is data (and `formatDriftReport` its text); the CLI
 * `tools/catalog-diff.ts` reads the files, downloads and prints.
 *
 * An offered model is no longer valid when KIE's docs no longer carry it, or
 * when a request it sends fails KIE's new schema: the report names those in
 * `invalidModels`, and the CLI exits 1.
 */
import type { CatalogIndex, IndexedModel, ParamValue } from "./build.ts";
import { CREATE_PATHS, kieRequestFor } from "./kie-request.ts";
import {
  checkKieCreate,
  checkKieValue,
  type KieEndpointFact,
  type KieFactsIndex,
  type KieFieldFact,
  kieEndpointFact,
} from "./kie-schema.ts";
import { costKopecks, costRate, type Pricing } from "./pricing.ts";
import type { FeedRef, Field, Meter, OptionValue } from "./schema.ts";

/** One row of KIE's price feed, as the snapshot (`kie-facts/snapshots/prices-*.json`) holds it. */
export interface FeedRow {
  readonly model: string;
  readonly params: FeedRef["params"];
  readonly credits: number;
  readonly unit: string;
}

/** A known, explained difference from KIE's docs (`kie-facts/exceptions.json`). */
export interface SchemaException {
  readonly model: string;
  readonly field: string;
}

/** A feed row a catalog model knowingly does not sell (`kie-facts/price-exceptions.json`). */
export interface PriceException {
  readonly catalogModel: string;
  readonly feedModel: string;
  readonly params: FeedRef["params"];
}

/** The report's groups, in the order they are printed. */
export const DRIFT_GROUPS = [
  "models-dropped",
  "requests",
  "fields",
  "limits",
  "prices",
  "margins",
  "models-added",
] as const;
export type DriftGroup = (typeof DRIFT_GROUPS)[number];

const GROUP_TITLES: Readonly<Record<DriftGroup, string>> = {
  "models-dropped": "Offered models KIE dropped (their KIE model is gone from the docs)",
  requests: "Offered models whose requests KIE's schema now refuses",
  fields: "Fields renamed, added or removed",
  limits: "Enums and limits changed",
  prices: "Prices changed",
  margins: "Margins under the threshold",
  "models-added": "Models KIE added (in its docs or price feed, not in the catalog)",
};

/** One thing that changed. `invalid`: it makes an offered model no longer valid. */
export interface Finding {
  readonly group: DriftGroup;
  /** The catalog model's id; absent for a KIE model the catalog lacks. */
  readonly model?: string;
  /** What changed: a KIE model string, a field, a SKU. */
  readonly subject: string;
  readonly message: string;
  readonly invalid: boolean;
}

export interface DriftReport {
  readonly findings: readonly Finding[];
  /** Offered models that are no longer valid, sorted. */
  readonly invalidModels: readonly string[];
  readonly offeredModels: number;
  readonly offeredSkus: number;
  /** SKUs of offered models that name no feed row (their model has a creditsNote), so no price check. */
  readonly skusWithoutFeed: number;
  readonly marginBelow: number;
}

/** A plausible value for a field, as the wizard would collect it (tests/helpers/catalog.ts `sampleValue`). */
export type SampleValue = (indexed: IndexedModel, field: Field) => ParamValue;

export interface DriftInput {
  readonly catalog: CatalogIndex;
  /** KIE's documented schemas to compare with. */
  readonly facts: KieFactsIndex;
  /** The facts the catalog was last checked against (the committed `endpoints.json`), to tell what is new. */
  readonly previous: KieFactsIndex;
  readonly feed: readonly FeedRow[];
  readonly pricing: Pricing;
  /** A SKU whose margin, (price − KIE's cost) / price, is under this is reported. */
  readonly marginBelow: number;
  readonly sampleValue: SampleValue;
  readonly exceptions?: readonly SchemaException[];
  readonly priceExceptions?: readonly PriceException[];
}

/** The callback URL the bot sends (its own route); KIE's schema checks only that it is a string. */
const CALLBACK = "https://bot.example/kie/callback/drift";

/** A feed row's identity: its model and its params, keys sorted. */
export function feedRowKey(model: string, params: FeedRef["params"]): string {
  if (params === "flat") return `${model} flat`;
  const sorted = Object.keys(params)
    .sort()
    .map((key) => [key, params[key]]);
  return `${model} ${JSON.stringify(sorted)}`;
}

/** The feed's unit for each meter unit: a metered SKU's credits are per one of them. */
export const FEED_UNIT: Readonly<Record<Meter["unit"], string>> = {
  second: "second",
  minute: "minute",
  "1000_chars": "1000 chars",
  megapixel: "megapixel",
};

/** Compares the catalog with KIE's docs and price feed. */
export function diffCatalog(input: DriftInput): DriftReport {
  const { catalog, facts, previous } = input;
  const findings: Finding[] = [];
  const invalid = new Set<string>();
  const add = (finding: Finding) => {
    findings.push(finding);
    if (finding.invalid && finding.model !== undefined) invalid.add(finding.model);
  };
  const offered = [...catalog.models.values()].filter((indexed) => indexed.visible);
  const exceptions = input.exceptions ?? [];

  for (const indexed of offered) {
    const { model } = indexed;
    const endpoint = endpointOf(indexed, facts);
    if (endpoint === undefined) {
      add({
        group: "models-dropped",
        model: model.id,
        subject: model.kieModel ?? model.endpoint,
        message:
          model.endpoint === "market"
            ? `KIE's docs no longer list the Market model ${JSON.stringify(model.kieModel)}`
            : `KIE's docs no longer list the ${model.endpoint} create endpoint`,
        invalid: true,
      });
      continue;
    }
    const excused = (field: string) => exceptions.some((e) => e.model === model.id && e.field === field);
    const before = endpointOf(indexed, previous);
    for (const finding of fieldFindings(indexed, endpoint, before, excused)) add(finding);
    for (const finding of limitFindings(indexed, endpoint, before, excused)) add(finding);
    const refused = refusedRequests(indexed, facts, input.sampleValue, exceptions);
    if (refused.length > 0) {
      const shown = refused.slice(0, 4).join("; ");
      add({
        group: "requests",
        model: model.id,
        subject: model.kieModel ?? model.endpoint,
        message: refused.length > 4 ? `${shown}; … (${refused.length} in all)` : shown,
        invalid: true,
      });
    }
  }

  const prices = priceFindings(input, offered);
  for (const finding of prices.findings) add(finding);
  for (const finding of addedModels(input)) add(finding);

  findings.sort(
    (a, b) =>
      DRIFT_GROUPS.indexOf(a.group) - DRIFT_GROUPS.indexOf(b.group) ||
      (a.model ?? "").localeCompare(b.model ?? "") ||
      a.subject.localeCompare(b.subject) ||
      a.message.localeCompare(b.message),
  );
  return {
    findings,
    invalidModels: [...invalid].sort(),
    offeredModels: offered.length,
    offeredSkus: offered.reduce((sum, indexed) => sum + indexed.model.skus.length, 0),
    skusWithoutFeed: prices.withoutFeed,
    marginBelow: input.marginBelow,
  };
}

/** The documented endpoint the model's requests go to, or undefined when the docs no longer carry it. */
function endpointOf(indexed: IndexedModel, facts: KieFactsIndex): KieEndpointFact | undefined {
  const { model } = indexed;
  const path = CREATE_PATHS[model.endpoint];
  return kieEndpointFact(facts, path, model.endpoint === "market" ? (model.kieModel ?? undefined) : undefined);
}

/** JSON types a catalog field kind sends. */
function typesOf(field: Field): readonly string[] {
  switch (field.kind) {
    case "prompt":
      return field.dialogue ? ["array"] : ["string"];
    case "text":
    case "link":
      return ["string"];
    case "boolean":
      return ["boolean"];
    case "number":
      return field.integer ? ["integer", "number"] : ["number"];
    case "enum":
      return field.values.every((value) => typeof value === "number") ? ["number", "integer"] : ["string"];
    case "media":
      return field.multiple ? ["array"] : ["string"];
  }
}

/** Catalog fields KIE no longer documents (renamed when exactly one new field of the same type appeared), and new required fields. */
function fieldFindings(
  indexed: IndexedModel,
  endpoint: KieEndpointFact,
  before: KieEndpointFact | undefined,
  excused: (field: string) => boolean,
): Finding[] {
  const { model } = indexed;
  const out: Finding[] = [];
  const documented = new Map(endpoint.fields.map((field) => [field.name, field]));
  const sent = new Set([...model.fields.map((field) => field.name), ...Object.keys(model.constants)]);
  const isNew = (name: string) => before !== undefined && !before.fields.some((field) => field.name === name);
  const newFields = endpoint.fields.filter((fact) => !sent.has(fact.name) && isNew(fact.name));
  const claimed = new Set<string>();
  for (const field of model.fields) {
    if (documented.has(field.name) || excused(field.name)) continue;
    const candidates = newFields.filter((fact) => fact.type === "any" || typesOf(field).includes(fact.type));
    const renamed = candidates.length === 1 ? candidates[0] : undefined;
    if (renamed !== undefined) claimed.add(renamed.name);
    out.push({
      group: "fields",
      model: model.id,
      subject: field.name,
      message:
        renamed === undefined
          ? `KIE no longer documents the field "${field.name}"`
          : `renamed: KIE no longer documents "${field.name}" and documents a new ${renamed.type} field "${renamed.name}"${renamed.required ? " (required)" : ""}`,
      invalid: false,
    });
  }
  for (const name of Object.keys(model.constants)) {
    if (documented.has(name) || excused(name)) continue;
    out.push({
      group: "fields",
      model: model.id,
      subject: name,
      message: `KIE no longer documents "${name}", which the catalog sends as a constant`,
      invalid: false,
    });
  }
  for (const fact of endpoint.fields) {
    if (sent.has(fact.name) || claimed.has(fact.name) || fact.name === "callBackUrl") continue;
    if (fact.required) {
      out.push({
        group: "fields",
        model: model.id,
        subject: fact.name,
        message: `KIE now requires the field "${fact.name}" (${fact.type}), which the catalog does not send`,
        invalid: false,
      });
    } else if (isNew(fact.name)) {
      out.push({
        group: "fields",
        model: model.id,
        subject: fact.name,
        message: `KIE documents a new optional field "${fact.name}" (${fact.type})`,
        invalid: false,
      });
    }
  }
  return out;
}

/** The limit keys of a documented field, compared between two versions of the docs. */
const LIMIT_KEYS = [
  "type",
  "enum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "rangeInProse",
  "maxFileMb",
] as const;

/** Where the catalog lets users go beyond KIE's documented limits, and limits KIE changed. */
function limitFindings(
  indexed: IndexedModel,
  endpoint: KieEndpointFact,
  before: KieEndpointFact | undefined,
  excused: (field: string) => boolean,
): Finding[] {
  const { model } = indexed;
  const out: Finding[] = [];
  for (const field of model.fields) {
    const fact = endpoint.fields.find((candidate) => candidate.name === field.name);
    if (fact === undefined || excused(field.name)) continue;
    const problems = limitProblems(indexed, field, fact);
    for (const problem of problems) {
      out.push({ group: "limits", model: model.id, subject: field.name, message: problem, invalid: false });
    }
    if (problems.length > 0) continue;
    const old = before?.fields.find((candidate) => candidate.name === field.name);
    if (old === undefined) continue;
    for (const key of LIMIT_KEYS) {
      const [was, now] = [old[key], fact[key]];
      if (JSON.stringify(was) === JSON.stringify(now)) continue;
      out.push({
        group: "limits",
        model: model.id,
        subject: field.name,
        message: `KIE changed ${key} from ${show(was)} to ${show(now)}; the catalog is still within it`,
        invalid: false,
      });
    }
  }
  return out;
}

function show(value: unknown): string {
  return value === undefined ? "none" : JSON.stringify(value);
}

/** How a catalog field's reachable values exceed the documented field. */
function limitProblems(indexed: IndexedModel, field: Field, fact: KieFieldFact): string[] {
  const problems: string[] = [];
  const refused = (values: readonly unknown[]) =>
    values.flatMap((value) => checkKieValue(fact, value).map(() => value));
  if (field.kind === "prompt" && field.dialogue) {
    // Sent as turns: [{ text, voice }].
    if (fact.type !== "array" || (fact.itemType ?? "object") !== "object")
      problems.push(`KIE now documents ${fact.type} of ${fact.itemType}, not dialogue turns`);
    return problems;
  }
  switch (field.kind) {
    case "prompt":
    case "text":
    case "link":
      if (fact.type !== "string" && fact.type !== "any") problems.push(`KIE now documents ${fact.type}, not text`);
      if (fact.maxLength !== undefined && field.maxLength > fact.maxLength)
        problems.push(`maxLength: the catalog allows ${field.maxLength} characters, KIE now ${fact.maxLength}`);
      if (fact.minLength !== undefined && (field.kind === "prompt" ? (field.minLength ?? 1) : 0) < fact.minLength)
        problems.push(
          `minLength: the catalog allows ${field.kind === "prompt" ? (field.minLength ?? 1) : 0}, KIE now ${fact.minLength}`,
        );
      break;
    case "enum": {
      const values = indexed.offered.get(field.name) ?? field.values;
      for (const value of [...new Set(refused(values))])
        problems.push(`KIE no longer accepts ${JSON.stringify(value)}${describeEnum(fact)}`);
      break;
    }
    case "boolean":
      if (refused([true, false]).length > 0) problems.push(`KIE now documents ${fact.type}${describeEnum(fact)}`);
      break;
    case "number": {
      const [min, max] = [fact.minimum ?? fact.rangeInProse?.[0], fact.maximum ?? fact.rangeInProse?.[1]];
      if (refused([field.min, field.max]).length > 0)
        problems.push(`range: the catalog allows ${field.min} to ${field.max}, KIE now ${show(min)} to ${show(max)}`);
      if (!field.integer && fact.type === "integer") problems.push("KIE now takes integers only");
      break;
    }
    case "media": {
      if (fact.type !== "any" && fact.type !== (field.multiple ? "array" : "string"))
        problems.push(
          `KIE now documents ${fact.type}, the catalog sends ${field.multiple ? "a list of URLs" : "a URL"}`,
        );
      if (field.multiple && fact.maxItems !== undefined && field.maxItems > fact.maxItems)
        problems.push(`maxItems: the catalog allows ${field.maxItems}, KIE now ${fact.maxItems}`);
      if (field.multiple && fact.minItems !== undefined && field.minItems < fact.minItems)
        problems.push(`minItems: the catalog allows ${field.minItems}, KIE now ${fact.minItems}`);
      if (fact.maxFileMb !== undefined && field.maxMb > fact.maxFileMb)
        problems.push(`files up to ${field.maxMb} MB, KIE now takes ${fact.maxFileMb} MB`);
      break;
    }
  }
  return problems;
}

function describeEnum(fact: KieFieldFact): string {
  if (fact.enum === undefined) return "";
  const shown = fact.enum.slice(0, 12).map((value) => JSON.stringify(value));
  return ` (KIE takes ${shown.join(", ")}${fact.enum.length > shown.length ? ", …" : ""})`;
}

/** Text of a length, in scripts that count differently (Cyrillic, emoji with a joiner). */
function textOf(length: number): string {
  const pieces = [..."Лиса 🦊‍🔥 fox "];
  return Array.from({ length }, (_, i) => pieces[i % pieces.length]).join("");
}

/** A value as the bot would collect it: the sample, or the largest a user can send. */
function sizedValue(indexed: IndexedModel, field: Field, size: "min" | "max", sample: SampleValue): ParamValue {
  const value = sample(indexed, field);
  if (size === "min") return value;
  if (field.kind === "media") {
    const url = Array.isArray(value) && typeof value[0] === "string" ? value[0] : "https://example.com/file";
    return Array.from({ length: field.maxItems }, () => url);
  }
  if (field.kind === "prompt" || field.kind === "text") return textOf(field.maxLength);
  return value;
}

/** Every request the bot may send for the model: defaults, each SKU's combination, each offered option. */
function requestsOf(
  indexed: IndexedModel,
  sample: SampleValue,
): { label: string; params: Record<string, ParamValue> }[] {
  const { model } = indexed;
  const filled = (which: "required" | "all", size: "min" | "max") => {
    const out: Record<string, ParamValue> = {};
    for (const field of model.fields)
      if (which === "all" || field.required) out[field.name] = sizedValue(indexed, field, size, sample);
    return out;
  };
  const out: { label: string; params: Record<string, ParamValue> }[] = [];
  for (const size of ["min", "max"] as const) {
    out.push({ label: `defaults${size === "max" ? ", largest" : ""}`, params: filled("required", size) });
    const all = { ...filled("all", size), ...indexed.defaults };
    for (const sku of model.skus)
      out.push({
        label: `${JSON.stringify(sku.params)}${size === "max" ? ", largest" : ""}`,
        params: { ...all, ...sku.params },
      });
  }
  const base = { ...filled("all", "min"), ...indexed.defaults };
  for (const field of model.fields) {
    if (indexed.pricedFields.includes(field.name)) continue;
    let options: readonly (OptionValue | boolean)[] = [];
    if (field.kind === "enum") options = indexed.offered.get(field.name) ?? field.values;
    else if (field.kind === "boolean") options = [true, false];
    else if (field.kind === "number") options = [field.min, field.max];
    for (const option of options)
      out.push({ label: `${field.name}=${JSON.stringify(option)}`, params: { ...base, [field.name]: option } });
  }
  return out;
}

/** Tolerated by an explained exception: the violation names the excused field. */
function tolerated(exceptions: readonly SchemaException[], model: string, violation: string): boolean {
  return exceptions.some(
    (e) =>
      e.model === model &&
      new RegExp(`^(input\\.)?${e.field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(violation),
  );
}

/** What KIE's schema refuses of the requests the model sends, as "[label] violation" lines. */
function refusedRequests(
  indexed: IndexedModel,
  facts: KieFactsIndex,
  sample: SampleValue,
  exceptions: readonly SchemaException[],
): string[] {
  const id = indexed.model.id;
  const refused: string[] = [];
  const seen = new Set<string>();
  for (const { label, params } of requestsOf(indexed, sample)) {
    const result = kieRequestFor(indexed, params, CALLBACK);
    if (!result.ok) continue; // the catalog refuses its own values: the catalog tests' business, not KIE's
    const check = checkKieCreate(result.request.path, result.request.body, facts);
    if (check.ok) continue;
    for (const violation of check.violations) {
      if (tolerated(exceptions, id, violation) || seen.has(violation)) continue;
      seen.add(violation);
      refused.push(`[${label}] ${violation}`);
    }
  }
  return refused;
}

/** SKU credits against the feed rows they name, rows KIE added to a model the catalog sells, and margins. */
function priceFindings(
  input: DriftInput,
  offered: readonly IndexedModel[],
): { findings: Finding[]; withoutFeed: number } {
  const findings: Finding[] = [];
  const rows = new Map(input.feed.map((row) => [feedRowKey(row.model, row.params), row]));
  let withoutFeed = 0;
  for (const { model } of offered) {
    for (const sku of model.skus) {
      const subject = JSON.stringify(sku.params);
      let credits = sku.credits;
      if (sku.feed === undefined) withoutFeed += 1;
      else {
        const key = feedRowKey(sku.feed.model, sku.feed.params);
        const row = rows.get(key);
        if (row === undefined) {
          findings.push({
            group: "prices",
            model: model.id,
            subject,
            message: `its feed row ${key} is gone from the feed`,
            invalid: false,
          });
        } else {
          credits = row.credits * (sku.feed.times ?? 1);
          if (Math.abs(sku.credits - credits) > 1e-9 * Math.max(1, credits)) {
            const change = sku.credits > 0 ? ` (${percent(credits / sku.credits - 1, true)})` : "";
            findings.push({
              group: "prices",
              model: model.id,
              subject,
              message: `${sku.credits} credits in the catalog, the feed now says ${round(credits)}${change}`,
              invalid: false,
            });
          }
          if (model.meter !== undefined && FEED_UNIT[model.meter.unit] !== row.unit) {
            findings.push({
              group: "prices",
              model: model.id,
              subject,
              message: `metered per ${model.meter.unit}, the feed row is now per ${row.unit}`,
              invalid: false,
            });
          }
        }
      }
      const cost = costKopecks(credits, input.pricing);
      const margin = sku.kopecks > 0 ? (sku.kopecks - cost) / sku.kopecks : Number.NEGATIVE_INFINITY;
      if (margin < input.marginBelow - 1e-9) {
        findings.push({
          group: "margins",
          model: model.id,
          subject,
          message: `margin ${percent(margin)}: price ${sku.kopecks} kopecks${model.meter ? ` per ${model.meter.unit}` : ""}, KIE's cost ${round(cost)} kopecks (${round(credits)} credits at ${costRate(input.pricing)})`,
          invalid: false,
        });
      }
    }
    const cited = new Set(model.skus.flatMap((sku) => (sku.feed ? [feedRowKey(sku.feed.model, sku.feed.params)] : [])));
    const feedModels = new Set(model.skus.flatMap((sku) => (sku.feed ? [sku.feed.model] : [])));
    for (const row of input.feed) {
      if (!feedModels.has(row.model)) continue;
      const key = feedRowKey(row.model, row.params);
      if (cited.has(key)) continue;
      const excused = (input.priceExceptions ?? []).some(
        (e) => e.catalogModel === model.id && feedRowKey(e.feedModel, e.params) === key,
      );
      if (excused) continue;
      findings.push({
        group: "prices",
        model: model.id,
        subject: key,
        message: `KIE prices a combination no SKU sells: ${row.credits} credits per ${row.unit}`,
        invalid: false,
      });
    }
  }
  return { findings, withoutFeed };
}

function percent(fraction: number, signed = false): string {
  const value = `${round(fraction * 100, 1)}%`;
  return signed && fraction > 0 ? `+${value}` : value;
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** KIE model strings its docs or feed carry that no catalog model uses (offered or not). */
function addedModels(input: DriftInput): Finding[] {
  const known = new Set<string>();
  for (const { model } of input.catalog.models.values()) {
    if (model.kieModel !== null) known.add(model.kieModel);
    for (const sku of model.skus) if (sku.feed) known.add(sku.feed.model);
  }
  const sources = new Map<string, Set<string>>();
  const note = (model: string, source: string) => sources.set(model, (sources.get(model) ?? new Set()).add(source));
  for (const model of input.facts.market.keys()) {
    if (known.has(model)) continue;
    note(model, input.previous.market.has(model) ? "docs" : "docs (new since the committed facts)");
  }
  for (const row of input.feed) if (!known.has(row.model)) note(row.model, "price feed");
  return [...sources].map(([model, where]) => ({
    group: "models-added",
    subject: model,
    message: `in KIE's ${[...where].join(" and ")}`,
    invalid: false,
  }));
}

/** The report as text for a person: a summary, then each group that has findings. */
export function formatDriftReport(report: DriftReport, sources: { docs: string; prices: string }): string {
  const lines: string[] = [
    `Catalog drift: ${report.offeredModels} offered models (${report.offeredSkus} SKUs) against KIE's docs ${sources.docs} and price feed ${sources.prices}`,
    report.invalidModels.length === 0
      ? "Every offered model is still valid."
      : `NO LONGER VALID (${report.invalidModels.length}): ${report.invalidModels.join(", ")}`,
  ];
  if (report.skusWithoutFeed > 0)
    lines.push(`${report.skusWithoutFeed} SKUs of offered models name no feed row (their credits have a creditsNote).`);
  for (const group of DRIFT_GROUPS) {
    const found = report.findings.filter((finding) => finding.group === group);
    const title = group === "margins" ? `${GROUP_TITLES[group]} (${percent(report.marginBelow)})` : GROUP_TITLES[group];
    lines.push("", `== ${title}: ${found.length === 0 ? "none" : found.length} ==`);
    let lastModel: string | undefined;
    for (const finding of found) {
      if (finding.model === undefined) {
        lines.push(`  ${finding.subject}: ${finding.message}`);
        continue;
      }
      if (finding.model !== lastModel) lines.push(`  ${finding.model}${finding.invalid ? "  [no longer valid]" : ""}`);
      lastModel = finding.model;
      lines.push(`    ${finding.subject}: ${finding.message}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
