/**
 * Catalog benchmark (`npm run bench:catalog`): index build time at start,
 * and p50/p99 latency of list, card, quote and KIE-request asks to the
 * catalog actor from a user-shard worker. Written to `bench/results/catalog.json`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { Supervisor } from "../actors/mod.ts";
import { buildCatalog } from "../catalog/build.ts";
import { catalogReader, readCatalogFiles } from "../catalog/files.ts";
import { createLogger } from "../src/log.ts";
import { platform } from "../src/platform/mod.ts";

const round = (n: number) => Math.round(n * 1000) / 1000;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

const files = await readCatalogFiles(catalogReader((path) => platform.readTextFile(path)));
const coldStarted = performance.now();
buildCatalog(files);
const firstBuild = performance.now() - coldStarted;
const builds: number[] = [];
for (let i = 0; i < 30; i++) {
  const started = performance.now();
  buildCatalog(files);
  builds.push(performance.now() - started);
}
builds.sort((a, b) => a - b);

const kv = await platform.openKv({ kind: "memory" });
const log = createLogger({ level: "silent", secrets: [] });
const supervisor = new Supervisor({
  mode: "workers",
  platform,
  kv,
  groups: [
    {
      name: "catalog",
      kinds: ["catalog"],
      size: 1,
      module: new URL("../catalog/app.ts", import.meta.url),
      appData: { files },
      direct: true,
    },
    { name: "user", kinds: ["probe"], size: 1, module: new URL("./fixtures/catalog-probe-app.ts", import.meta.url) },
  ],
  log,
  logging: { level: "silent", secrets: [] },
});
const startedAt = performance.now();
await supervisor.start();
const startMs = performance.now() - startedAt;

const params = { prompt: "A red fox in the snow", aspect_ratio: "16:9", quality: "high" };
const queries = [
  { type: "sections", lang: "ru" },
  { type: "models", section: "images", page: 0, pageSize: 8, lang: "ru", now: Date.now() },
  { type: "search", text: "клинг 3", lang: "ru", now: Date.now(), limit: 8 },
  { type: "card", modelId: "seedream/4.5-text-to-image", lang: "ru" },
  { type: "quote", modelId: "seedream/4.5-text-to-image", params },
  { type: "optionPrices", modelId: "seedream/4.5-text-to-image", field: "quality", params },
  { type: "kieRequest", modelId: "seedream/4.5-text-to-image", params, callBackUrl: "https://bot.example/kie" },
];
await supervisor.ask("probe", "p", { type: "run", queries, rounds: 500 }); // warm-up
await supervisor.ask("probe", "p", { type: "results" });
await supervisor.ask("probe", "p", { type: "run", queries, rounds: 3_000 });
let timings: Record<string, number[]> = {};
for (let i = 0; i < 600 && Object.keys(timings).length === 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const reply = await supervisor.ask<Record<string, number[]>>("probe", "p", { type: "results" });
  if (reply.ok && (reply.value.sections?.length ?? 0) === 3_000) timings = reply.value;
}
await supervisor.stop(5_000);
kv.close();

const asks: Record<string, { p50: number; p99: number; samples: number }> = {};
for (const [name, samples] of Object.entries(timings)) {
  samples.sort((a, b) => a - b);
  asks[name] = { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), samples: samples.length };
}
const results = {
  benchmark: "catalog",
  date: new Date().toISOString(),
  machine: { runtime: `${platform.name} ${process.version}`, cpus: cpus().length },
  indexBuildMs: {
    cold: round(firstBuild),
    warmP50: round(percentile(builds, 50)),
    warmMax: round(builds.at(-1) ?? Number.NaN),
  },
  workersStartMs: round(startMs),
  askFromShardMs: asks,
  targets: {
    indexBuildUnder50ms: firstBuild < 50,
    askP99UnderHalfMs: Object.values(asks).every((ask) => ask.p99 < 0.5),
  },
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/catalog.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
