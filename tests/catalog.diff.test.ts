/**
 * The catalog diff (tools/catalog-diff.ts, catalog/drift.ts): the shipped
 * catalog against the shipped snapshots finds no offered model invalid;
 * modified copies of the snapshots (a model removed, an enum value removed, a
 * field renamed, a price raised) give exactly those findings, and exit 1
 * where a model becomes invalid; `--fetch` from a local stand-in of KIE's
 * sites gives the same report as the files.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogIndex, IndexedModel } from "../catalog/build.ts";
import { type Finding, feedRowKey } from "../catalog/drift.ts";
import { loadKieFacts } from "../catalog/kie-schema.ts";
import {
  DEFAULT_DOCS,
  DEFAULT_PRICES,
  type DiffOptions,
  type DiffRun,
  download,
  endpointsOfPage,
  factsFromSnapshot,
  fetchDocsSnapshot,
  formatRun,
  parseYaml,
  runDiff,
} from "../tools/catalog-diff.ts";
import { type DocsSnapshotFile, type PriceSnapshotFile, serveKieSite } from "./fixtures/catalog-diff/kie-site.ts";
import { loadCatalog } from "./helpers/catalog.ts";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const docs = readJson<DocsSnapshotFile>(DEFAULT_DOCS);
const prices = readJson<PriceSnapshotFile>(DEFAULT_PRICES);
const copy = <T>(value: T): T => structuredClone(value);

let dir: string;
let catalog: CatalogIndex;
let baseline: DiffRun;
const keyOf = (f: Finding) => `${f.group} | ${f.model ?? "-"} | ${f.subject} | ${f.message}`;
/** What a run finds that the baseline does not. */
const added = (result: DiffRun) => {
  const before = new Set(baseline.report.findings.map(keyOf));
  return result.report.findings.filter((finding) => !before.has(keyOf(finding)));
};
const write = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "catalog-diff-"));
  catalog = await loadCatalog();
  baseline = await runDiff();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Offered Market models whose KIE model string no other offered model uses, by id. */
function soleMarketModels(): IndexedModel[] {
  const offered = [...catalog.models.values()].filter((m) => m.visible && m.model.endpoint === "market");
  const uses = (kieModel: string | null) => offered.filter((m) => m.model.kieModel === kieModel).length;
  return offered.filter((m) => uses(m.model.kieModel) === 1).sort((a, b) => a.model.id.localeCompare(b.model.id));
}

const marketPage = (snapshot: DocsSnapshotFile, kieModel: string) => {
  const page = snapshot.endpoints.find((e) => e.path === "/api/v1/jobs/createTask" && e.model?.includes(kieModel));
  if (page === undefined) throw new Error(`no docs page for ${kieModel}`);
  return page;
};

describe("the catalog against the shipped snapshots", () => {
  it("finds no offered model invalid, and exits 0", () => {
    expect(baseline.report.invalidModels).toEqual([]);
    expect(baseline.exitCode).toBe(0);
    expect(baseline.report.findings.filter((f) => f.invalid)).toEqual([]);
    for (const group of ["models-dropped", "requests", "fields", "limits", "prices", "margins"])
      expect(
        baseline.report.findings.filter((f) => f.group === group),
        group,
      ).toEqual([]);
    expect(baseline.report.offeredModels).toBe([...catalog.models.values()].filter((m) => m.visible).length);
    expect(formatRun(baseline)).toContain("Every offered model is still valid.");
  });

  it("lists the KIE models the catalog does not carry, from the docs and the feed", () => {
    const known = new Set(
      [...catalog.models.values()].flatMap(({ model }) => [
        model.kieModel,
        ...model.skus.flatMap((sku) => (sku.feed ? [sku.feed.model] : [])),
      ]),
    );
    const expected = new Set([
      ...[...loadKieFacts().market.keys()].filter((model) => !known.has(model)),
      ...prices.rows.map((row) => row.model).filter((model) => !known.has(model)),
    ]);
    const listed = baseline.report.findings.filter((f) => f.group === "models-added").map((f) => f.subject);
    expect(new Set(listed)).toEqual(expected);
    expect(listed.length).toBe(expected.size);
  });

  it("lists SKUs under a margin threshold, at the configured rate", async () => {
    // At cost (markup 1) every derived price is within a kopeck of KIE's cost: under a 20% margin.
    const strict = await runDiff({ marginBelow: 0.2 });
    const margins = strict.report.findings.filter((f) => f.group === "margins");
    const offeredSkus = [...catalog.models.values()].filter((m) => m.visible).flatMap((m) => m.model.skus);
    expect(margins.length).toBeGreaterThan(0);
    expect(margins.length).toBeLessThanOrEqual(offeredSkus.length);
    expect(margins.every((f) => /^margin -?\d/.test(f.message))).toBe(true);
    expect(strict.exitCode).toBe(0);
  });
});

describe("modified copies of the snapshots", () => {
  it("reports an offered model whose KIE model is gone from the docs as dropped, and exits 1", async () => {
    const target = soleMarketModels()[0]!;
    const kieModel = target.model.kieModel!;
    const modified = copy(docs);
    modified.endpoints = modified.endpoints.filter((e) => !e.model?.includes(kieModel));
    const result = await runDiff({ docs: write("dropped.json", modified) });
    expect(added(result).map((f) => [f.group, f.model, f.subject, f.invalid])).toEqual([
      ["models-dropped", target.model.id, kieModel, true],
    ]);
    expect(result.report.invalidModels).toEqual([target.model.id]);
    expect(result.exitCode).toBe(1);
  });

  it("reports an offered enum value KIE no longer accepts, and the requests that now fail", async () => {
    const facts = loadKieFacts();
    const target = soleMarketModels().find((m) =>
      m.model.fields.some((f) => f.kind === "enum" && (m.offered.get(f.name)?.length ?? 0) >= 2),
    )!;
    const field = target.model.fields.find((f) => f.kind === "enum" && (target.offered.get(f.name)?.length ?? 0) >= 2)!;
    const value = target.offered.get(field.name)!.at(-1)!;
    expect(facts.market.get(target.model.kieModel!)?.fields.find((f) => f.name === field.name)?.enum).toContain(value);
    const modified = copy(docs);
    const fact = marketPage(modified, target.model.kieModel!).input!.find((f) => f.name === field.name)!;
    fact.enum = fact.enum!.filter((option) => option !== value);
    const result = await runDiff({ docs: write("enum.json", modified) });
    const found = added(result);
    expect(found.map((f) => [f.group, f.model, f.subject, f.invalid])).toEqual([
      ["requests", target.model.id, target.model.kieModel, true],
      ["limits", target.model.id, field.name, false],
    ]);
    expect(found[1]!.message).toContain(`no longer accepts ${JSON.stringify(value)}`);
    expect(found[0]!.message).toContain(`input.${field.name} must be one of`);
    expect(result.report.invalidModels).toEqual([target.model.id]);
    expect(result.exitCode).toBe(1);
  });

  it("reports a renamed field, and the requests that now fail", async () => {
    const target = soleMarketModels().find((m) => m.model.fields.some((f) => f.name === "prompt" && f.required))!;
    const modified = copy(docs);
    const prompt = marketPage(modified, target.model.kieModel!).input!.find((f) => f.name === "prompt")!;
    prompt.name = "text_prompt";
    const result = await runDiff({ docs: write("renamed.json", modified) });
    const found = added(result);
    expect(found.map((f) => [f.group, f.model, f.subject, f.invalid])).toEqual([
      ["requests", target.model.id, target.model.kieModel, true],
      ["fields", target.model.id, "prompt", false],
    ]);
    expect(found[1]!.message).toMatch(/^renamed: KIE no longer documents "prompt" .* "text_prompt"/);
    expect(found[0]!.message).toContain("input.prompt is not a documented field");
    expect(found[0]!.message).toContain("input.text_prompt is required");
    expect(result.exitCode).toBe(1);
  });

  it("reports a raised price and the margin it takes under the threshold, and still exits 0", async () => {
    const offered = [...catalog.models.values()].filter((m) => m.visible);
    const rowKeys = new Set(prices.rows.map((row) => feedRowKey(row.model, row.params as never)));
    const sku = offered
      .flatMap((m) => m.model.skus.map((s) => ({ id: m.model.id, sku: s })))
      .find(({ sku: s }) => s.feed !== undefined && rowKeys.has(feedRowKey(s.feed.model, s.feed.params)));
    expect(sku, "an offered SKU that names a feed row").toBeDefined();
    const feed = sku!.sku.feed!;
    const key = feedRowKey(feed.model, feed.params);
    const modified = copy(prices);
    for (const row of modified.rows)
      if (feedRowKey(row.model, row.params as never) === key) row.credits = Math.round(row.credits * 300) / 100;
    const result = await runDiff({ prices: write("raised.json", modified) });
    const citing = offered
      .flatMap((m) =>
        m.model.skus
          .filter((s) => s.feed && feedRowKey(s.feed.model, s.feed.params) === key)
          .map((s) => ({ id: m.model.id, s })),
      )
      .flatMap(({ id, s }) => [
        ["prices", id, JSON.stringify(s.params)],
        ["margins", id, JSON.stringify(s.params)],
      ]);
    const found = added(result);
    expect(found.map((f) => [f.group, f.model, f.subject]).sort()).toEqual(citing.sort());
    expect(found.find((f) => f.group === "prices")!.message).toMatch(/the feed now says .*\(\+/);
    expect(found.find((f) => f.group === "margins")!.message).toMatch(/^margin -\d/);
    expect(result.exitCode).toBe(0);
  });
});

describe("the CLI, as a child process", () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ["--import", "tsx", "tools/catalog-diff.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );

  it("prints the grouped report of the shipped snapshots and exits 0", async () => {
    const { code, stdout } = await cli([]);
    expect(code).toBe(0);
    expect(stdout).toContain("Every offered model is still valid.");
    expect(stdout).toMatch(/== Offered models KIE dropped .*: none ==/);
    expect(stdout).toMatch(/== Prices changed: none ==/);
    expect(stdout).toMatch(/== Models KIE added .*: \d+ ==/);
  });

  it("exits 1 on a docs snapshot without an offered model, and says which", async () => {
    const target = soleMarketModels()[0]!;
    const modified = copy(docs);
    modified.endpoints = modified.endpoints.filter((e) => !e.model?.includes(target.model.kieModel!));
    const { code, stdout } = await cli(["--docs", write("cli-dropped.json", modified), "--json"]);
    expect(code).toBe(1);
    expect((JSON.parse(stdout) as DiffRun).report.invalidModels).toEqual([target.model.id]);
  });

  it("exits 2 on a file it cannot read", async () => {
    const { code, stderr } = await cli(["--docs", join(dir, "missing.json")]);
    expect(code).toBe(2);
    expect(stderr).toContain("catalog:diff:");
  });

  it("fetches from KIE_DOCS_BASE_URL and KIE_PRICING_BASE_URL, with the report of the files", async () => {
    const site = await serveKieSite(docs, prices);
    try {
      const { code, stdout } = await cli(["--fetch", "--json"], {
        KIE_DOCS_BASE_URL: site.url,
        KIE_PRICING_BASE_URL: site.url,
      });
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as DiffRun).report).toEqual(baseline.report);
    } finally {
      await site.close();
    }
  });
});

describe("--fetch", () => {
  const fetched = async (docsFile: DocsSnapshotFile, pricesFile: PriceSnapshotFile, options: DiffOptions = {}) => {
    const site = await serveKieSite(docsFile, pricesFile);
    try {
      const result = await runDiff({ fetch: true, docsBaseUrl: site.url, pricingBaseUrl: site.url, ...options });
      return { result, requests: site.requests };
    } finally {
      await site.close();
    }
  };

  it("turns the pages llms.txt lists into the facts the snapshot gives", async () => {
    const site = await serveKieSite(docs, prices);
    try {
      const snapshot = await fetchDocsSnapshot(site.url);
      expect(factsFromSnapshot(snapshot, "x").facts.endpoints).toEqual(factsFromSnapshot(docs, "x").facts.endpoints);
      expect(site.requests).toContain("GET /market/quickstart.md");
      expect(site.requests.some((request) => request.includes("/cn/"))).toBe(false);
    } finally {
      await site.close();
    }
  });

  it("gives the same report as the files, reading the feed page by page", async () => {
    const { result, requests } = await fetched(docs, prices);
    expect(result.report).toEqual(baseline.report);
    expect(result.unnamedFeedRecords).toEqual([]);
    expect(requests.filter((r) => r === "POST /client/v1/model-pricing/page").length).toBeGreaterThan(1);
  });

  it("gives the same findings as the files for a modified copy, and names feed records no row describes", async () => {
    const target = soleMarketModels()[0]!;
    const modified = copy(docs);
    modified.endpoints = modified.endpoints.filter((e) => !e.model?.includes(target.model.kieModel!));
    const newFeed = copy(prices);
    newFeed.rows.push({
      model: "unnamed",
      params: "flat",
      credits: 7,
      unit: "image",
      quote: "Brand new model, 1K | 7 per image | $0.035",
    });
    const files = await runDiff({ docs: write("fetch-dropped.json", modified) });
    const { result } = await fetched(modified, newFeed);
    expect(result.report).toEqual(files.report);
    expect(result.exitCode).toBe(1);
    expect(result.unnamedFeedRecords.map((r) => [r.modelDescription, r.creditPrice, r.creditUnit])).toEqual([
      ["Brand new model, 1K", "7", "per image"],
    ]);
    expect(formatRun(result)).toContain("Brand new model, 1K: 7 credits per image");
  });

  it("caps what it downloads, in size and time, and refuses an error status", async () => {
    const site = await serveKieSite(docs, prices, {
      "/big.md": (respond) => respond(200, "x".repeat(64 * 1024)),
      "/slow.md": () => {},
      "/gone.md": (respond) => respond(500, "error"),
    });
    try {
      await expect(download(`${site.url}/big.md`, {}, { maxBytes: 1024 })).rejects.toThrow(/cap of 1024/);
      await expect(download(`${site.url}/slow.md`, {}, { timeoutMs: 200 })).rejects.toThrow(/abort|timeout/i);
      await expect(download(`${site.url}/gone.md`)).rejects.toThrow(/HTTP 500/);
      expect(await download(`${site.url}/big.md`, {}, { maxBytes: 128 * 1024 })).toHaveLength(64 * 1024);
    } finally {
      await site.close();
    }
  });
});

describe("reading KIE's docs pages", () => {
  it("reads a page in the docs' own YAML style into the snapshot's facts for its model", () => {
    const page = readFileSync(new URL("./fixtures/catalog-diff/seedance-1-5-pro.md", import.meta.url), "utf8");
    const want = docs.endpoints.find((e) => e.model?.[0] === "bytedance/seedance-1.5-pro")!;
    expect(endpointsOfPage(want.docUrl, page)).toEqual([want]);
  });

  it("reads YAML scalars, block scalars and flow collections", () => {
    expect(
      parseYaml(
        [
          "a: plain text",
          "b: '1:1'",
          'c: "x\\ty"',
          "d: 720p",
          "e: 8",
          "f: 0.5",
          "g: true",
          "h: null",
          "i: [480p, '720p', 3]",
          "j: {k: v, n: 2}",
          "l: |-",
          "  one",
          "  two",
          "m: >-",
          "  folded",
          "  line",
          "",
          "  next",
          "o:",
          "- x",
          "- - y",
          "  - z",
          "p: []",
          "'q r': 1",
        ].join("\n"),
      ),
    ).toEqual({
      a: "plain text",
      b: "1:1",
      c: "x\ty",
      d: "720p",
      e: 8,
      f: 0.5,
      g: true,
      h: null,
      i: ["480p", "720p", 3],
      j: { k: "v", n: 2 },
      l: "one\ntwo",
      m: "folded line\nnext",
      o: ["x", ["y", "z"]],
      p: [],
      "q r": 1,
    });
  });
});
