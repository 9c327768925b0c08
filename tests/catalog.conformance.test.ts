/**
 * Catalog conformance: every request the bot can send for an offered model,
 * for its defaults and every priced parameter combination, passes KIE's
 * documented schema (catalog/kie-facts/endpoints.json); and every limit the
 * catalog lets users reach is within what KIE documents. A known, explained
 * difference is a data entry in catalog/kie-facts/exceptions.json.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { CatalogIndex, IndexedModel, ParamValue } from "../catalog/build.ts";
import { kieRequestFor } from "../catalog/kie-request.ts";
import {
  checkKieCreate,
  checkKieValue,
  type KieEndpointFact,
  type KieFieldFact,
  kieEndpointFact,
  loadKieFacts,
} from "../catalog/kie-schema.ts";
import type { Field } from "../catalog/schema.ts";
import { loadCatalog, sampleValue } from "./helpers/catalog.ts";

const Exceptions = z.object({
  exceptions: z.array(z.object({ model: z.string(), field: z.string(), reason: z.string().min(20) })),
});
const { exceptions } = Exceptions.parse(
  JSON.parse(readFileSync(new URL("../catalog/kie-facts/exceptions.json", import.meta.url), "utf8")),
);
const Prices = z.object({ rows: z.array(z.object({ model: z.string() })) });
const priced = new Set(
  Prices.parse(
    JSON.parse(readFileSync(new URL("../catalog/kie-facts/snapshots/prices-2026-10.json", import.meta.url), "utf8")),
  ).rows.map((row) => row.model),
);

/** The callback URL the bot always sends: its own route, never a third party's. */
const CALLBACK = "https://bot.example/kie/callback/3f9c2a";
const URLS = {
  image: "https://tempfile.redpandaai.co/u/photo.jpg",
  video: "https://tempfile.redpandaai.co/u/clip.mp4",
  audio: "https://tempfile.redpandaai.co/u/voice.mp3",
};
/** Text at a limit, in scripts that count differently: Cyrillic, emoji with a joiner, RTL, combining marks. */
function textOf(length: number): string {
  const pieces = [..."Лиса 🦊‍🔥 שועל é̃ "];
  return Array.from({ length }, (_, i) => pieces[i % pieces.length]).join("");
}

/** A dialogue of exactly `length` characters in which every one of `speakers` speaks. */
function scriptOf(speakers: number, length: number): string {
  const lines = Array.from({ length: speakers }, (_, i) => `Голос ${i + 1}: Привет 🦊`);
  const head = lines.join("\n");
  return `${head}${textOf(length - [...head].length)}`;
}

const excused = (model: string, field: string) => exceptions.some((e) => e.model === model && e.field === field);
const used = new Set<string>();
function tolerated(model: string, violation: string): boolean {
  const match = exceptions.find(
    (e) =>
      e.model === model &&
      new RegExp(`^(input\\.)?${e.field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(violation),
  );
  if (match) used.add(`${match.model} ${match.field}`);
  return match !== undefined;
}

let catalog: CatalogIndex;
let offered: IndexedModel[];
let requests: string[];
let limits: string[];
beforeAll(async () => {
  catalog = await loadCatalog();
  offered = [...catalog.models.values()].filter((indexed) => indexed.visible);
  requests = requestFailures();
  limits = limitFailures();
});

/** The documented endpoint of a model, found from the request the bot builds. */
function endpointOf(indexed: IndexedModel): KieEndpointFact | undefined {
  const result = kieRequestFor(indexed, requiredParams(indexed, "min"), CALLBACK);
  if (!result.ok) return undefined;
  const { path, body } = result.request;
  return kieEndpointFact(loadKieFacts(), path, typeof body.model === "string" ? body.model : undefined);
}

/** Where a field's value lives in the documented schema: Market input fields, or a dedicated API's body fields. */
function factOf(endpoint: KieEndpointFact, name: string): KieFieldFact | undefined {
  return endpoint.fields.find((field) => field.name === name);
}

/** A value as the bot would collect it; media at the fewest or most items, text at its limit. */
function collectedValue(indexed: IndexedModel, field: Field, size: "min" | "max"): ParamValue {
  if (field.kind === "media")
    return Array.from({ length: size === "min" ? field.minItems : field.maxItems }, () => URLS[field.media]);
  if (field.kind === "prompt" && field.dialogue) {
    return size === "min" ? "Аня: Привет! 👋" : scriptOf(field.dialogue.voices.length, field.maxLength);
  }
  if (field.kind === "prompt" || field.kind === "text") return size === "min" ? "A red fox" : textOf(field.maxLength);
  return sampleValue(indexed, field);
}

function requiredParams(indexed: IndexedModel, size: "min" | "max"): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const field of indexed.model.fields) if (field.required) out[field.name] = collectedValue(indexed, field, size);
  return out;
}

function allParams(indexed: IndexedModel, size: "min" | "max"): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const field of indexed.model.fields) out[field.name] = collectedValue(indexed, field, size);
  return out;
}

/** Every request the bot may send: defaults, and each SKU's combination with the fewest and the most. */
function requestsOf(indexed: IndexedModel): { label: string; params: Record<string, ParamValue> }[] {
  const out = [
    { label: "defaults", params: requiredParams(indexed, "min") },
    { label: "defaults, largest", params: requiredParams(indexed, "max") },
  ];
  for (const sku of indexed.model.skus) {
    for (const size of ["min", "max"] as const) {
      out.push({
        label: `${JSON.stringify(sku.params)} ${size}`,
        params: { ...allParams(indexed, size), ...indexed.defaults, ...sku.params },
      });
    }
  }
  return out;
}

/** Every violation of a request the bot may send, but those the exceptions excuse. */
function requestFailures(): string[] {
  const failures: string[] = [];
  for (const indexed of offered) {
    const id = indexed.model.id;
    for (const { label, params } of requestsOf(indexed)) {
      const result = kieRequestFor(indexed, params, CALLBACK);
      if (!result.ok) {
        failures.push(`${id} [${label}]: the catalog refuses its own values: ${JSON.stringify(result.errors)}`);
        continue;
      }
      const { path, body } = result.request;
      expect(body.callBackUrl, id).toBe(CALLBACK);
      const check = checkKieCreate(path, body);
      if (check.ok) continue;
      const left = check.violations.filter((violation) => !tolerated(id, violation));
      for (const violation of left) failures.push(`${id} ${path}: ${violation}`);
    }
  }
  return [...new Set(failures)];
}

/** Every limit a user can reach beyond KIE's documented one, but those the exceptions excuse. */
function limitFailures(): string[] {
  const failures: string[] = [];
  for (const indexed of offered) {
    const id = indexed.model.id;
    const endpoint = endpointOf(indexed);
    if (endpoint === undefined) {
      failures.push(`${id}: no documented endpoint`);
      continue;
    }
    for (const field of indexed.model.fields) {
      if (excused(id, field.name)) {
        used.add(`${id} ${field.name}`);
        continue;
      }
      const fact = factOf(endpoint, field.name);
      const where = `${id}.${field.name}`;
      if (fact === undefined) {
        failures.push(`${where}: not documented`);
        continue;
      }
      failures.push(...limitProblems(indexed, field, fact).map((problem) => `${where}: ${problem}`));
    }
  }
  return failures;
}

describe("catalog conformance with KIE's documented schemas", () => {
  it("sends, for every offered model, only requests KIE documents", () => {
    expect(requests).toEqual([]);
  });

  it("keeps every limit a user can reach within KIE's documented limits", () => {
    expect(limits).toEqual([]);
  });

  it("offers only models that KIE's docs or price feed still carry, and each unavailable model says why", () => {
    const facts = loadKieFacts();
    for (const indexed of catalog.models.values()) {
      const { model } = indexed;
      if (!model.available) {
        expect(model.unavailableReason, model.id).toMatch(/\S{3,}/);
        continue;
      }
      if (model.endpoint !== "market") continue;
      const carried = facts.market.has(model.kieModel ?? "") || priced.has(model.kieModel ?? "");
      expect(carried, `${model.id} (${model.kieModel})`).toBe(true);
    }
    const unavailable = [...catalog.models.values()].filter((indexed) => !indexed.model.available);
    expect(unavailable.map((indexed) => indexed.model.id)).toEqual(
      expect.arrayContaining([
        "sora-2-text-to-video",
        "sora-2-pro-text-to-video",
        "sora-2-image-to-video",
        "sora-2-pro-image-to-video",
        "sora-watermark-remover",
        "midjourney/api",
      ]),
    );
  });

  it("lists only exceptions the checks above use, each with its reason", () => {
    for (const exception of exceptions) {
      expect(catalog.models.has(exception.model), exception.model).toBe(true);
      expect(used.has(`${exception.model} ${exception.field}`), `${exception.model} ${exception.field}`).toBe(true);
    }
    expect(exceptions.length).toBeLessThanOrEqual(5);
  });
});

/** How a catalog field's reachable values exceed the documented field. */
function limitProblems(indexed: IndexedModel, field: Field, fact: KieFieldFact): string[] {
  const problems: string[] = [];
  const values = (list: readonly unknown[]) => list.flatMap((value) => checkKieValue(fact, value));
  if (field.kind === "prompt" && field.dialogue) {
    // Sent as turns: [{ text, voice }].
    if (fact.type !== "array" || (fact.itemType ?? "object") !== "object")
      problems.push(`dialogue turns sent where KIE documents ${fact.type} of ${fact.itemType}`);
    return problems;
  }
  switch (field.kind) {
    case "prompt":
    case "text":
    case "link":
      if (fact.type !== "string" && fact.type !== "any") problems.push(`text sent where KIE documents ${fact.type}`);
      if (fact.maxLength !== undefined && field.maxLength > fact.maxLength)
        problems.push(`maxLength ${field.maxLength} is above the documented ${fact.maxLength}`);
      if (field.kind === "prompt" && fact.minLength !== undefined && (field.minLength ?? 1) < fact.minLength)
        problems.push(`minLength ${field.minLength ?? 1} is below the documented ${fact.minLength}`);
      break;
    case "enum":
      problems.push(...values(indexed.offered.get(field.name) ?? field.values));
      break;
    case "boolean":
      problems.push(...values([true, false]));
      break;
    case "number": {
      problems.push(...values([field.min, field.max]));
      if (!field.integer && fact.type === "integer") problems.push("fractions allowed where KIE documents an integer");
      break;
    }
    case "media": {
      const sample = Array.from({ length: field.maxItems }, () => URLS[field.media]);
      problems.push(...values([field.multiple ? sample : sample[0]]));
      if (field.multiple && fact.minItems !== undefined && field.minItems < fact.minItems)
        problems.push(`minItems ${field.minItems} is below the documented ${fact.minItems}`);
      if (fact.maxFileMb !== undefined && field.maxMb > fact.maxFileMb)
        problems.push(`files up to ${field.maxMb} MB where KIE documents ${fact.maxFileMb} MB`);
      break;
    }
  }
  return problems;
}
