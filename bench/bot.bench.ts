/**
 * Bot benchmark (`npm run bench:bot`): time from an update entering the
 * process to the first Bot API request leaving it, for /start, a section
 * button, a wizard start and a wizard step, with the bot on workers and the
 * Bot API answered by a local HTTP server. The first update after start is
 * reported apart from warm ones. Written to `bench/results/bot.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { Update } from "grammy/types";
import { startApp } from "../src/app.ts";
import { createLogger } from "../src/log.ts";
import { platform } from "../src/platform/mod.ts";
import { testConfig } from "../tests/helpers/app.ts";
import { userOf } from "../tests/helpers/bot-harness.ts";
import { type RecordedCall, startFakeBotApi } from "../tests/helpers/fake-bot-api.ts";

const round = (n: number) => Math.round(n * 1000) / 1000;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** Resolves the first Bot API request that concerns a chat (or a callback), with its arrival time. */
const waiting = new Map<string, (at: number) => void>();
const keyOf = (call: RecordedCall) =>
  call.payload.callback_query_id !== undefined
    ? `cb:${String(call.payload.callback_query_id)}`
    : `chat:${String(call.payload.chat_id)}`;
const fake = await startFakeBotApi((call) => {
  const key = keyOf(call);
  const resolve = waiting.get(key);
  if (resolve) {
    waiting.delete(key);
    resolve(performance.now());
  }
});
const dir = mkdtempSync(join(tmpdir(), "kie-bot-bench-"));
const config = testConfig(join(dir, "bot.kv"), { TELEGRAM_API_ROOT: fake.apiRoot, SHARDS: "2" });
const app = await startApp({ config, platform, log: createLogger({ level: "silent", secrets: [] }), mode: "workers" });

/** Sends one update the way the poller does and waits for its first outgoing request. */
async function timed(update: Update): Promise<number> {
  const key = update.callback_query ? `cb:${update.callback_query.id}` : `chat:${update.message?.chat.id}`;
  const arrived = new Promise<number>((resolve) => waiting.set(key, resolve));
  const started = performance.now();
  await app.supervisor.tell("user", update.callback_query?.from.id ?? update.message?.from?.id ?? 0, {
    type: "update",
    update,
  });
  const at = await arrived;
  // Let the rest of the turn (edits, follow-ups) finish before the next update.
  await new Promise((resolve) => setTimeout(resolve, 2));
  return at - started;
}

const first = await timed(userOf(1).text("/start"));
const samples: Record<string, number[]> = { start: [], section: [], wizardStart: [], wizardStep: [] };
for (let i = 0; i < 400; i++) {
  const user = userOf(10_000 + i, i % 2 === 0 ? "ru" : "en");
  samples.start?.push(await timed(user.text("/start")));
  samples.section?.push(await timed(user.press("1|s|images|0")));
  samples.wizardStart?.push(await timed(user.press("1|g|z-image")));
  await new Promise((resolve) => setTimeout(resolve, 3));
  samples.wizardStep?.push(await timed(user.text("A red fox in the snow")));
}
await app.stop();
await fake.close();
rmSync(dir, { recursive: true, force: true });

const latencyMs: Record<string, { p50: number; p99: number; samples: number }> = {};
for (const [name, values] of Object.entries(samples)) {
  values.sort((a, b) => a - b);
  latencyMs[name] = { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)), samples: values.length };
}
const warmP99 = Math.max(...Object.values(latencyMs).map((entry) => entry.p99));
const results = {
  benchmark: "bot",
  date: new Date().toISOString(),
  machine: { runtime: `${platform.name} ${process.version}`, cpus: cpus().length, shards: 2 },
  firstUpdateAfterStartMs: round(first),
  latencyMs,
  targets: { p99Under5ms: warmP99 < 5, firstNoSlowerThanWarmP99: first <= warmP99 },
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/bot.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
