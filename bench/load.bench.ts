/**
 * Load benchmark (`npm run bench:load`, part of `npm run bench`): simulated
 * users (see `load/users.ts`) drive a bot through its webhook route over
 * loopback HTTP, against a local Bot API and a local KIE whose tasks
 * complete after a delay; the same run drives the baseline bot (grammY's
 * session middleware on the same Deno KV, the runner's `sequentialize`).
 *
 * For each bot: updates/s at saturation (every user steps as soon as the
 * previous step's screen arrived); p50/p95/p99 latency from posting an
 * update to the first Bot API request it causes, at 25%, 50% and 100% of
 * that rate and at 1,000 updates/s; CPU and RSS of the bot's process; KV
 * commits per update. For ours also: `LOAD_KNOWN_USERS` users stored in KV
 * before the start (default 100,000), `LOAD_RESIDENT_USERS` of them made
 * resident (default 10,000), and the memory per resident user.
 *
 * Written to `bench/results/load.json` and `load.md`. Settings:
 * `LOAD_USERS` (default 1,000, up to 100,000), `LOAD_PHASE_SECONDS`
 * (default 10), `BENCH_SHARDS` (default 2).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { initialUserState } from "../src/bot/state.ts";
import { platform } from "../src/platform/mod.ts";
import { startFakeBotApi } from "../tests/helpers/fake-bot-api.ts";
import { startFakeKieServer } from "../tests/helpers/fake-kie-server.ts";
import { messageObject } from "../tests/helpers/telegram/mod.ts";
import {
  type BotUnderLoad,
  buildBots,
  KIE_API_KEY,
  startActorBot,
  startBaselineBot,
  WEBHOOK_SECRET,
} from "./load/bots.ts";
import { rssBytes, sampleProcess } from "./load/proc-stats.ts";
import { summarizeProfiles, type ThreadProfile } from "./load/profile.ts";
import { LoadTally, Pacer, UserPool } from "./load/users.ts";
import { webhookClient } from "./load/webhook-client.ts";

const USERS = Number(process.env.LOAD_USERS ?? 1_000);
const KNOWN_USERS = Number(process.env.LOAD_KNOWN_USERS ?? 100_000);
const RESIDENT_USERS = Number(process.env.LOAD_RESIDENT_USERS ?? 10_000);
const PHASE_MS = Number(process.env.LOAD_PHASE_SECONDS ?? 10) * 1000;
const SHARDS = Number(process.env.BENCH_SHARDS ?? 2);
const GENERATION_MS = 2_000;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN);
  return { p50: at(50), p95: at(95), p99: at(99), max: round(sorted.at(-1) ?? NaN), samples: sorted.length };
}

await buildBots();
const dir = mkdtempSync(join(tmpdir(), "kie-bot-load-"));
let pool: UserPool | undefined;
const fakeBot = await startFakeBotApi({ onCall: (call) => pool?.observe(call) });
/** The bot's message a press comes from, as Telegram names it (the fake Telegram keeps every chat). */
const pressedMessage = (chatId: number, data: string) =>
  messageObject(chatId, fakeBot.telegram.pressedMessage(chatId, data));
const kie = await startFakeKieServer({ apiKey: KIE_API_KEY, generationMs: GENERATION_MS });
const env = { apiRoot: fakeBot.apiRoot, kieBase: kie.baseUrl, dir, shards: SHARDS };

/** Users step in parallel, each walking sessions until `untilMs`. */
async function drive(users: number, untilMs: number): Promise<void> {
  const active = pool;
  if (active === undefined) return;
  await Promise.all(
    Array.from({ length: users }, async (_, index) => {
      const userId = index + 1;
      for (let session = 0; performance.now() < untilMs; session++) {
        await active.session(userId, (index + session) % 4 === 0, index % 2 === 0 ? "ru" : "en");
      }
    }),
  );
}

/** Steps counted from now until `ms` later (sessions running past the end are not counted). */
async function stepsWithin(ms: number): Promise<number> {
  const before = pool?.tally.steps ?? 0;
  await sleep(ms);
  return (pool?.tally.steps ?? 0) - before;
}

async function metricsOf(bot: BotUnderLoad): Promise<string> {
  const path = bot.name === "actors" ? "/metrics" : "/stats";
  const response = await fetch(`http://127.0.0.1:${bot.port}${path}`).catch(() => undefined);
  return response?.ok ? await response.text() : "";
}

/** KV commits so far, as the bot reports them (ours: /metrics; the baseline: its /stats). */
async function kvCommits(bot: BotUnderLoad): Promise<number | undefined> {
  const text = await metricsOf(bot);
  if (bot.name === "baseline") {
    try {
      return (JSON.parse(text) as { kvCommits?: number }).kvCommits;
    } catch {
      return undefined;
    }
  }
  const value = (kind: string) =>
    Number(new RegExp(`kv_commits_total\\{kind="${kind}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return value("batch") + value("inbox");
}

/** Stores `count` users in the bot's KV before it starts (users who came before). */
async function seedKnownUsers(path: string, count: number): Promise<void> {
  const kv = await platform.openKv({ kind: "file", path });
  try {
    const state = { ...initialUserState("ru"), starts: 1, welcomed: true };
    for (let first = 1; first <= count; first += 500) {
      const op = kv.atomic();
      for (let id = first; id < Math.min(first + 500, count + 1); id++) op.set(["user", id], state);
      await op.commit();
    }
  } finally {
    kv.close();
  }
}

/** Runs every phase against one bot and returns its figures. */
async function measure(start: () => Promise<BotUnderLoad>) {
  const bot = await start();
  const client = webhookClient({ port: bot.port, path: bot.webhookPath, secret: WEBHOOK_SECRET }, 128);
  pool = new UserPool((update) => client.post(update), pressedMessage);
  const pid = bot.child.pid ?? 0;
  // The fakes are as strict as Telegram and KIE: what they refused during this bot's run.
  const refusalsBefore = { telegram: fakeBot.refusals.length, kie: kie.refused.length };
  try {
    // Warm-up: every user's first session (new users: activation, welcome).
    await drive(USERS, performance.now() + 1);

    pool.tally = new LoadTally();
    const commitsBefore = await kvCommits(bot);
    const sampler = sampleProcess(pid);
    const saturation = drive(USERS, performance.now() + PHASE_MS);
    const counted = await stepsWithin(PHASE_MS);
    const usage = sampler.stop();
    await saturation;
    const commitsAfter = await kvCommits(bot);
    const saturationTally = pool.tally;
    const updatesPerSecond = counted / (PHASE_MS / 1000);

    const latencyAt: Record<string, ReturnType<typeof percentiles> & { rate: number }> = {};
    const rates: [string, number][] = [
      ["25%", updatesPerSecond * 0.25],
      ["50%", updatesPerSecond * 0.5],
      ["100%", updatesPerSecond],
      ["1000/s", 1_000],
    ];
    for (const [name, rate] of rates) {
      pool.tally = new LoadTally();
      pool.pacer = new Pacer(rate);
      await drive(USERS, performance.now() + PHASE_MS / 2);
      pool.pacer.stop();
      pool.pacer = undefined;
      latencyAt[name] = { rate: Math.round(rate), ...percentiles(pool.tally.all()) };
    }

    let memory: Record<string, number> | undefined;
    if (bot.name === "actors") {
      const before = rssBytes(pid);
      const residentBefore = residentOf(await metricsOf(bot));
      // Users who come back: stored, not resident until their update arrives.
      const ids = Array.from({ length: RESIDENT_USERS }, (_, i) => USERS + 1 + i);
      for (let i = 0; i < ids.length; i += 200) {
        await Promise.all(ids.slice(i, i + 200).map((id) => pool?.visit(id, "ru")));
      }
      await sleep(1_000);
      const resident = residentOf(await metricsOf(bot));
      const after = rssBytes(pid);
      memory = {
        knownUsers: KNOWN_USERS,
        residentActors: resident,
        rssMB: mb(after),
        kbPerResidentUser: round((after - before) / 1024 / Math.max(1, resident - residentBefore), 1),
      };
    }
    // Results of the generations still running arrive within a few seconds.
    const generations = saturationTally.generations;
    await sleep(GENERATION_MS + 3_000);
    return {
      updatesPerSecond: Math.round(updatesPerSecond),
      saturationUsers: USERS,
      saturationLatencyMs: percentiles(saturationTally.all()),
      latencyMs: latencyAt,
      cpuCores: round(usage.cpuCores),
      cpuMsPerUpdate: round((usage.cpuCores * 1000) / Math.max(1, updatesPerSecond)),
      peakRssMB: mb(usage.peakRssBytes),
      kvCommitsPerUpdate:
        commitsBefore === undefined || commitsAfter === undefined
          ? undefined
          : round((commitsAfter - commitsBefore) / Math.max(1, saturationTally.steps)),
      timeouts: saturationTally.timeouts,
      refused: saturationTally.refused,
      generationsInSaturation: generations,
      telegramRefusals: fakeBot.refusals.length - refusalsBefore.telegram,
      kieRefusals: kie.refused.length - refusalsBefore.kie,
      ...(memory ? { memory } : {}),
    };
  } finally {
    client.close();
    await bot.stop();
  }
}

/** The figures behind each target this run missed. */
function missedTargetReasons(
  actors: Awaited<ReturnType<typeof measure>>,
  baseline: Awaited<ReturnType<typeof measure>>,
  threads: ThreadProfile[],
): Record<string, string> {
  const reasons: Record<string, string> = {};
  const busiest = [...threads].sort((a, b) => b.cpuMsPerUpdate - a.cpuMsPerUpdate)[0];
  const kinds = Object.entries(busiest?.cpuMsPerUpdateByKind ?? {})
    .slice(0, 3)
    .map(([kind]) => kind)
    .join(", ");
  const cpuBound =
    `CPU-bound: ${actors.cpuMsPerUpdate} ms of CPU per update (the baseline ${baseline.cpuMsPerUpdate}) used ` +
    `${actors.cpuCores} of the ${cpus().length} cores at ${actors.updatesPerSecond} updates/s, the load generator and ` +
    `the fakes the rest; the busiest thread is ${busiest?.thread} (${kinds} first)`;
  if (actors.updatesPerSecond < 5_000) reasons.atLeast5000UpdatesPerSecond = cpuBound;
  if (actors.updatesPerSecond < 3 * baseline.updatesPerSecond) {
    reasons.atLeast3xBaseline =
      `${cpuBound}; ours does more per update by design: a KV record before the 200, a durable commit before ` +
      `the first reply, two thread hops (${actors.kvCommitsPerUpdate} KV commits per update against ${baseline.kvCommitsPerUpdate})`;
  }
  const at1000 = actors.latencyMs["1000/s"];
  if (at1000 !== undefined && at1000.p99 >= 5) {
    reasons.p99Under5msAt1000PerSecond =
      actors.updatesPerSecond < 1_000
        ? `1,000 updates/s is past saturation here (${actors.updatesPerSecond}/s): updates queue`
        : `p99 ${at1000.p99} ms at 1,000/s`;
  }
  if ((actors.memory?.rssMB ?? 0) >= 400) {
    reasons.residentUnder400MB =
      `${actors.memory?.rssMB} MB with ${actors.memory?.residentActors} resident actors, ${actors.memory?.kbPerResidentUser} ` +
      "KB each: most of it is the five threads' own heaps (about 190 MB idle) and their growth under the load before";
  }
  return reasons;
}

/** Our bot at saturation under `node --cpu-prof` (one profile per thread), summed up per thread. */
async function profileSaturation() {
  const profiles = mkdtempSync(join(tmpdir(), "kie-bot-profile-"));
  try {
    // A KV of its own: update ids start again at 1, and the first run's inbox would take them for redeliveries.
    const bot = await startActorBot({ ...env, dir: profiles, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profiles}`] });
    const client = webhookClient({ port: bot.port, path: bot.webhookPath, secret: WEBHOOK_SECRET }, 128);
    pool = new UserPool((update) => client.post(update), pressedMessage);
    try {
      await drive(USERS, performance.now() + PHASE_MS / 2);
    } finally {
      client.close();
      await bot.stop();
    }
    return summarizeProfiles(profiles, pool.tally.steps);
  } finally {
    rmSync(profiles, { recursive: true, force: true });
  }
}

function residentOf(metrics: string): number {
  return Number(/actors_resident\{group="user"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

try {
  const baseline = await measure(() => startBaselineBot(env));
  await seedKnownUsers(join(dir, "actors.kv"), KNOWN_USERS);
  const actors = await measure(() => startActorBot(env));
  const profile = await profileSaturation();
  const ratio = (ours: number | undefined, theirs: number | undefined, higherIsBetter: boolean) =>
    ours === undefined || theirs === undefined || ours === 0 || theirs === 0
      ? undefined
      : round(higherIsBetter ? ours / theirs : theirs / ours);
  const p99At1000 = actors.latencyMs["1000/s"]?.p99 ?? NaN;
  const results = {
    benchmark: "load",
    date: new Date().toISOString(),
    machine: { runtime: `node ${process.version}`, cpus: cpus().length, shards: SHARDS },
    settings: { users: USERS, phaseSeconds: PHASE_MS / 1000, generationMs: GENERATION_MS },
    note: "The load generator, the fake Bot API and the fake KIE run in the benchmark's own process on the same 2 cores as the bot under test.",
    actors,
    baseline,
    /** Ours against the baseline: above 1 means ours is better (throughput up; latency, CPU, RSS, commits down). */
    ratioToBaseline: {
      updatesPerSecond: ratio(actors.updatesPerSecond, baseline.updatesPerSecond, true),
      p99At1000PerSecond: ratio(p99At1000, baseline.latencyMs["1000/s"]?.p99, false),
      cpuCores: ratio(actors.cpuCores, baseline.cpuCores, false),
      cpuMsPerUpdate: ratio(actors.cpuMsPerUpdate, baseline.cpuMsPerUpdate, false),
      peakRssMB: ratio(actors.peakRssMB, baseline.peakRssMB, false),
      kvCommitsPerUpdate: ratio(actors.kvCommitsPerUpdate, baseline.kvCommitsPerUpdate, false),
    },
    /** Our bot at saturation again under `node --cpu-prof`: each thread's CPU per update, by kind of work. */
    profile: {
      note: "CPU profiles of a saturation run of ours; profiling adds its own cost, so compare the kinds with each other",
      threads: profile,
    },
    targets: {
      atLeast5000UpdatesPerSecond: actors.updatesPerSecond >= 5_000,
      p99Under5msAt1000PerSecond: p99At1000 < 5,
      residentUnder400MB: (actors.memory?.rssMB ?? Infinity) < 400,
      atLeast3xBaseline: actors.updatesPerSecond >= 3 * baseline.updatesPerSecond,
    },
    /** Why a target is missed, from this run's own figures (the profile above says where the time goes). */
    reasons: missedTargetReasons(actors, baseline, profile),
  };
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/load.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL("./results/load.md", import.meta.url), markdown(results));
  console.log(JSON.stringify(results, null, 2));
} finally {
  await fakeBot.close();
  await kie.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The results as a Markdown table, ours next to the baseline. */
function markdown(results: {
  actors: Awaited<ReturnType<typeof measure>>;
  baseline: Awaited<ReturnType<typeof measure>>;
  ratioToBaseline: Record<string, number | undefined>;
  profile: { threads: ThreadProfile[] };
  reasons: Record<string, string>;
  date: string;
  settings: { users: number };
}): string {
  const { actors, baseline } = results;
  const row = (name: string, ours: unknown, theirs: unknown, ratio?: number) =>
    `| ${name} | ${String(ours ?? "–")} | ${String(theirs ?? "–")} | ${ratio === undefined ? "–" : `${ratio}×`} |`;
  const lines = [
    `# Load benchmark (${results.date}, ${results.settings.users} users)`,
    "",
    "| | actors | baseline | ours vs baseline |",
    "|---|---|---|---|",
    row(
      "updates/s at saturation",
      actors.updatesPerSecond,
      baseline.updatesPerSecond,
      results.ratioToBaseline.updatesPerSecond,
    ),
  ];
  for (const name of ["25%", "50%", "100%", "1000/s"]) {
    const ours = actors.latencyMs[name];
    const theirs = baseline.latencyMs[name];
    lines.push(
      row(
        `p50 / p95 / p99 ms at ${name}`,
        ours && `${ours.p50} / ${ours.p95} / ${ours.p99}`,
        theirs && `${theirs.p50} / ${theirs.p95} / ${theirs.p99}`,
      ),
    );
  }
  lines.push(
    row("CPU cores at saturation", actors.cpuCores, baseline.cpuCores, results.ratioToBaseline.cpuCores),
    row("CPU ms per update", actors.cpuMsPerUpdate, baseline.cpuMsPerUpdate, results.ratioToBaseline.cpuMsPerUpdate),
    row("peak RSS MB", actors.peakRssMB, baseline.peakRssMB, results.ratioToBaseline.peakRssMB),
    row(
      "KV commits per update",
      actors.kvCommitsPerUpdate,
      baseline.kvCommitsPerUpdate,
      results.ratioToBaseline.kvCommitsPerUpdate,
    ),
  );
  if (actors.memory) {
    lines.push(
      row("known users / resident actors", `${actors.memory.knownUsers} / ${actors.memory.residentActors}`, "–"),
      row(
        "RSS MB with them / KB per resident user",
        `${actors.memory.rssMB} / ${actors.memory.kbPerResidentUser}`,
        "–",
      ),
    );
  }
  lines.push(
    "",
    "Where our bot's time goes at saturation (CPU profiles: each thread's CPU ms per update, by kind):",
    "",
  );
  for (const thread of results.profile.threads) {
    const kinds = Object.entries(thread.cpuMsPerUpdateByKind)
      .slice(0, 5)
      .map(([kind, ms]) => `${kind} ${ms}`)
      .join(", ");
    lines.push(`- ${thread.thread}: ${thread.cpuMsPerUpdate} ms; ${kinds}`);
  }
  const missed = Object.entries(results.reasons);
  if (missed.length > 0)
    lines.push("", "Targets missed, and why:", "", ...missed.map(([target, why]) => `- ${target}: ${why}`));
  return `${lines.join("\n")}\n`;
}
