/**
 * Jobs benchmark (`npm run bench:jobs`): 1,000 generations through the whole
 * path at once. The bot runs as in production (`startApp` on worker threads,
 * 2 shards, embedded KV, long polling, KV-queue polls) in a child process;
 * this process plays Telegram (`tests/helpers/fake-bot-api.ts`) and KIE
 * (`tests/helpers/fake-kie-server.ts`), so their sockets and bookkeeping stay out of
 * the bot's memory, and every time is taken on one clock here.
 *
 * 1,000 users, half on each shard, are brought to the confirmation of a free
 * `z-image` order (not timed with the rest); then their Generate presses go
 * out in getUpdates answers of 100, as Telegram sends them. Measured: presses
 * to 1,000 tasks created at KIE (submitted/s), jobs in flight (created at KIE,
 * result not yet at Telegram), the bot's RSS before the presses and while the
 * most jobs were in flight (memory per in-flight job), presses to 1,000
 * results sent to Telegram (completed/s) and each job's press-to-result
 * latency. A fake task generates for 5 s; the first status read is due after
 * about 0.5 s (`JOB_POLL_FIRST_SECONDS`), later ones double. Probes show
 * where time goes: the bot's main-thread load, a `tell` to an idle actor on
 * each shard, and how late the KV queue hands out polls. Correctness is
 * recorded, not asserted. Written to `bench/results/jobs.json`.
 * `BENCH_JOBS` changes the number of jobs, `BENCH_SHARDS` the shards and
 * `BENCH_GENERATION_MS` the fake's generation time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance as nodePerformance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Update } from "grammy/types";
import { workerIndexFor } from "../actors/mod.ts";
import type { InputPlan } from "../catalog/plan.ts";
import { type App, startApp } from "../src/app.ts";
import { secretsOf } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { platform } from "../src/platform/mod.ts";
import type { KvAtomic, KvStore, Platform } from "../src/platform/types.ts";
import { testConfig } from "../tests/helpers/app.ts";
import { userOf } from "../tests/helpers/bot-harness.ts";
import { startFakeBotApi } from "../tests/helpers/fake-bot-api.ts";
import { type FakeKieTask, startFakeKieServer } from "../tests/helpers/fake-kie-server.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 2);
const KIE_KEY = "kie-bench-key-123";
/**
 * How long a fake KIE task generates: well beyond the time the presses take
 * to arrive, so all jobs are in flight at once for a few seconds.
 */
const GENERATION_MS = Number(process.env.BENCH_GENERATION_MS ?? 5_000);
/** The first status read after this many seconds; later ones double, up to 20 times it. */
const POLL_FIRST_SECONDS = 0.5;
/** Telegram answers getUpdates with at most 100 updates. */
const UPDATES_PER_ANSWER = 100;
/** The whole run gives up after this long (and records what did not finish). */
const RUN_DEADLINE_MS = 90_000;
/** After the last result, how long to watch for a second result to anyone. */
const QUIET_MS = 1_000;
const MODEL = "z-image";

/** Messages from the bot's process. */
type FromApp =
  | {
      readonly type: "ready";
      readonly orders: readonly { readonly userId: number; readonly data: string }[];
      readonly prepareMs: number;
      readonly memory: Memory;
    }
  | {
      readonly type: "memory";
      readonly memory: Memory;
      readonly mainLoopUtilization: number;
      /** How long a `tell` to an idle actor on each shard took to be accepted (one worker hop). */
      readonly tellMs: readonly number[];
    }
  | {
      readonly type: "done";
      readonly openJobsLeft: number;
      readonly jobStates: Record<string, number>;
      readonly drained: boolean;
      readonly mainLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
      readonly polls: ReturnType<ReturnType<typeof tracePolls>["figures"]>;
      readonly store: { commits: number; batches: number; conflicts: number; lockedRetries: number; commitMs: number };
    };
type ToApp = { readonly type: "stop" };
interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
const median = (values: readonly number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const mean = (values: readonly number[]) => values.reduce((sum, n) => sum + n, 0) / values.length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv.includes("--app")) await runBot();
else await runBench();

/** The bot's side: starts the program, prepares the orders, reports memory, stops on request. */
async function runBot(): Promise<void> {
  const send = (message: FromApp) => process.send?.(message);
  const memory = (): Memory => {
    const usage = process.memoryUsage();
    return { rss: usage.rss, heapUsed: usage.heapUsed };
  };
  // The benchmark's process made the folder and removes it, whatever becomes of this one.
  const dir = String(process.env.BENCH_KV_DIR);
  const config = testConfig(join(dir, "bot.kv"), {
    KIE_API_KEY: KIE_KEY,
    TELEGRAM_API_ROOT: String(process.env.BENCH_BOT_API_ROOT),
    KIE_API_BASE_URL: String(process.env.BENCH_KIE_BASE),
    KIE_UPLOAD_BASE_URL: String(process.env.BENCH_KIE_BASE),
    SHARDS: String(SHARDS),
    LOG_LEVEL: "warn",
    JOB_POLL_FIRST_SECONDS: String(POLL_FIRST_SECONDS),
    // The most the configuration allows (KIE's real account limit is 20): each shard may create 500 per 10 s.
    KIE_CREATES_PER_10S: "1000",
    FREE_DAILY_LIMIT: "5",
  });
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) }, { worker: "main" });
  const polls = tracePolls();
  const app: App = await startApp({ config, platform: { ...platform, openKv: polls.openKv }, log, mode: "workers" });

  // Users split evenly over the shards: each shard's create limit (500 per 10 s) then holds its half.
  const users: number[] = [];
  const perShard = new Array<number>(SHARDS).fill(0);
  for (let id = 100_000; users.length < JOBS; id++) {
    const shard = workerIndexFor(id, SHARDS);
    if ((perShard[shard] ?? 0) >= Math.ceil(JOBS / SHARDS)) continue;
    perShard[shard] = (perShard[shard] ?? 0) + 1;
    users.push(id);
  }
  const prepareStarted = performance.now();
  const plan = await app.supervisor.ask<InputPlan>("catalog", "main", { type: "plan", modelId: MODEL });
  if (!plan.ok) throw new Error(`no plan for ${MODEL}`);
  const orders: { userId: number; data: string }[] = [];
  // The way Repeat opens an order at its confirmation (tests/helpers/job-harness.ts `orderFor`), 50 at a time.
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      users.slice(i, i + 50).map(async (userId) => {
        const wizardId = `b${userId.toString(36)}`;
        const told = await app.supervisor.ask("user", userId, {
          type: "plan",
          wizardId,
          modelId: MODEL,
          page: 0,
          plan: plan.value,
          target: { chatId: userId },
          prefill: { values: { prompt: `bench user ${userId}`, aspect_ratio: "1:1" }, media: {}, at: "confirm" },
        });
        if (!told.ok) throw new Error(`the order of ${userId} did not open: ${told.error.code}`);
        orders.push({ userId, data: `1|y|${wizardId}` });
      }),
    );
  }
  const prepareMs = performance.now() - prepareStarted;
  await app.startPolling();
  // Let the confirmations' follow-up turns settle, then take the baseline.
  await sleep(1_000);
  // Workers inherit exec flags and refuse --expose-gc: the main thread turns it on for itself.
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  await sleep(200);
  send({ type: "ready", orders, prepareMs, memory: memory() });
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let loopBefore = nodePerformance.eventLoopUtilization();
  // One idle actor per shard (negative ids belong to no user, as in the app's warm-up) to time a tell.
  const probes: number[] = [];
  for (let id = -1; probes.length < SHARDS; id--) {
    if (!probes.some((probe) => workerIndexFor(probe, SHARDS) === workerIndexFor(id, SHARDS))) probes.push(id);
  }
  await Promise.all(probes.map((id) => app.supervisor.ask("user", id, { type: "warm" })));
  const timedTell = async (id: number) => {
    const started = performance.now();
    await app.supervisor.tell("user", id, { type: "warm" });
    return performance.now() - started;
  };
  const sampler = setInterval(async () => {
    const loopNow = nodePerformance.eventLoopUtilization();
    const { utilization } = nodePerformance.eventLoopUtilization(loopNow, loopBefore);
    loopBefore = loopNow;
    const sampled = memory();
    const tellMs = await Promise.all(probes.map(timedTell));
    send({ type: "memory", memory: sampled, mainLoopUtilization: utilization, tellMs });
  }, 50);

  process.on("message", async (message: ToApp) => {
    if (message.type !== "stop") return;
    clearInterval(sampler);
    loopDelay.disable();
    const ms = (ns: number) => round(ns / 1e6, 1);
    const mainLoopDelayMs = {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    };
    let openJobsLeft = 0;
    for await (const _ of app.kv.list({ prefix: ["open_job"] })) openJobsLeft++;
    const jobStates: Record<string, number> = {};
    for (const { userId, data } of orders) {
      const entry = await app.kv.get(["job", userId, data.split("|")[2] ?? ""]);
      const state = (entry.value as { state?: string } | null)?.state ?? "missing";
      jobStates[state] = (jobStates[state] ?? 0) + 1;
    }
    const store = { ...app.supervisor.store.stats };
    const pollFigures = polls.figures();
    const drained = await app.stop();
    send({ type: "done", openJobsLeft, jobStates, drained, store, mainLoopDelayMs, polls: pollFigures });
    process.disconnect?.();
    // Whatever might still hold the event loop, the bot's process ends here.
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}

/** This side: Telegram and KIE, the presses, the clock and the report. */
async function runBench(): Promise<void> {
  const pressedAt = new Map<number, number>();
  const createdAt = new Map<number, number>();
  const taskOf = new Map<number, FakeKieTask>();
  const createsOf = new Map<number, number>();
  const deliveredAt = new Map<number, number>();
  const resultsOf = new Map<number, number>();
  const botCalls: Record<string, number> = {};
  let inFlight = 0;
  let peakInFlight = 0;
  let firstPress = Number.NaN;
  let lastPress = Number.NaN;
  let lastCreate = Number.NaN;
  let firstDelivery = Number.NaN;
  let lastDelivery = Number.NaN;
  let counting = false;
  const samples: { at: number; inFlight: number; memory: Memory; loop: number; tellMs: readonly number[] }[] = [];
  let allDelivered: () => void = () => undefined;
  const delivered = new Promise<void>((resolve) => {
    allDelivered = resolve;
  });

  let pending: Update[] = [];
  const fakeBot = await startFakeBotApi({
    onUpdatesSent: (updates) => {
      const now = performance.now();
      if (Number.isNaN(firstPress)) firstPress = now;
      lastPress = now;
      for (const update of updates as Update[]) {
        const from = update.callback_query?.from.id;
        if (from !== undefined) pressedAt.set(from, now);
      }
      // The fake empties its queue after this hook: the next batch waits for the next getUpdates.
      setImmediate(() => {
        const batch = pending.slice(0, UPDATES_PER_ANSWER);
        pending = pending.slice(UPDATES_PER_ANSWER);
        if (batch.length > 0) fakeBot.push(...batch);
      });
    },
    onCall: (call) => {
      // Only counts are kept: the recorded calls would grow with every job.
      fakeBot.calls.length = 0;
      if (!counting) return;
      botCalls[call.method] = (botCalls[call.method] ?? 0) + 1;
      if (call.method !== "sendPhoto") return;
      const chat = Number(call.payload.chat_id);
      const now = performance.now();
      resultsOf.set(chat, (resultsOf.get(chat) ?? 0) + 1);
      if (deliveredAt.has(chat)) return;
      deliveredAt.set(chat, now);
      if (createsOf.has(chat)) inFlight--;
      if (Number.isNaN(firstDelivery)) firstDelivery = now;
      lastDelivery = now;
      if (deliveredAt.size === JOBS) allDelivered();
    },
  });
  const kie = await startFakeKieServer({
    apiKey: KIE_KEY,
    generationMs: GENERATION_MS,
    onCreate: (task) => {
      const prompt = String((task.body.input as { prompt?: unknown }).prompt ?? "");
      const userId = Number(prompt.match(/^bench user (\d+)$/)?.[1]);
      createsOf.set(userId, (createsOf.get(userId) ?? 0) + 1);
      if (createdAt.has(userId)) return;
      createdAt.set(userId, task.createdAt);
      taskOf.set(userId, task);
      lastCreate = task.createdAt;
      if (!deliveredAt.has(userId)) inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
    },
  });

  const logged: Record<string, number> = {};
  const kvDir = mkdtempSync(join(tmpdir(), "kie-bot-bench-"));
  const bot = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--app"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, BENCH_BOT_API_ROOT: fakeBot.apiRoot, BENCH_KIE_BASE: kie.baseUrl, BENCH_KV_DIR: kvDir },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  tallyLogs(bot, logged);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => bot.once("exit", resolve));
  bot.once("exit", (code) => {
    if (stopping) return;
    console.error(`the bot exited (code ${code}) before the benchmark finished`);
    rmSync(kvDir, { recursive: true, force: true });
    process.exit(1);
  });
  const fromBot = <T extends FromApp["type"]>(type: T) =>
    new Promise<Extract<FromApp, { type: T }>>((resolve) => {
      const listen = (message: FromApp) => {
        if (message.type !== type) return;
        bot.off("message", listen);
        resolve(message as Extract<FromApp, { type: T }>);
      };
      bot.on("message", listen);
    });
  bot.on("message", (message: FromApp) => {
    if (message.type !== "memory") return;
    samples.push({
      at: performance.now(),
      inFlight,
      memory: message.memory,
      loop: message.mainLoopUtilization,
      tellMs: message.tellMs,
    });
  });

  const ready = await fromBot("ready");
  // A second of the idle bot, for the idle figures of the probes.
  await sleep(1_000);
  counting = true;
  pending = ready.orders.map((order) => userOf(order.userId, "en").press(order.data));
  const first = pending.slice(0, UPDATES_PER_ANSWER);
  pending = pending.slice(UPDATES_PER_ANSWER);
  fakeBot.push(...first);
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    delivered.then(() => true),
    new Promise<boolean>((resolve) => {
      deadline = setTimeout(() => resolve(false), RUN_DEADLINE_MS);
    }),
  ]);
  clearTimeout(deadline);
  await sleep(QUIET_MS);
  counting = false;
  stopping = true;
  const done = fromBot("done");
  bot.send({ type: "stop" } satisfies ToApp);
  const report = await Promise.race([
    done,
    exited.then((code) => {
      rmSync(kvDir, { recursive: true, force: true });
      return Promise.reject(new Error(`the bot exited (code ${code}) without its report`));
    }),
  ]);
  await exited;
  rmSync(kvDir, { recursive: true, force: true });
  await fakeBot.close();
  await kie.close();

  const users = ready.orders.map((order) => order.userId);
  const latencies = (to: Map<number, number>) =>
    users
      .flatMap((id) => {
        const end = to.get(id);
        const start = pressedAt.get(id);
        return end === undefined || start === undefined ? [] : [end - start];
      })
      .sort((a, b) => a - b);
  const summary = (values: readonly number[]) => ({
    p50: round(percentile(values, 50), 2),
    p99: round(percentile(values, 99), 2),
    max: round(values.at(-1) ?? Number.NaN, 2),
    samples: values.length,
  });
  const during = samples.filter((sample) => sample.at >= firstPress && sample.at <= lastDelivery);
  const atPeak = samples.filter((sample) => sample.inFlight === peakInFlight);
  // The median of the samples taken while the most jobs were in flight (RSS moves with garbage between collections).
  const rssAtPeak = median(atPeak.map((sample) => sample.memory.rss));
  const heapAtPeak = median(atPeak.map((sample) => sample.memory.heapUsed));
  const maxRss = Math.max(...samples.map((sample) => sample.memory.rss));
  const submitSeconds = (lastCreate - firstPress) / 1000;
  const completeSeconds = (lastDelivery - firstPress) / 1000;
  const deliverySeconds = (lastDelivery - firstDelivery) / 1000;
  const results = {
    benchmark: "jobs",
    date: new Date().toISOString(),
    machine: {
      runtime: `node ${process.version}`,
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      shards: SHARDS,
    },
    setup: {
      jobs: JOBS,
      model: MODEL,
      fakeGenerationMs: GENERATION_MS,
      jobPollFirstSeconds: POLL_FIRST_SECONDS,
      kieCreatesPer10s: 1000,
      updatesPerGetUpdates: UPDATES_PER_ANSWER,
      prepareOrdersMs: round(ready.prepareMs, 0),
    },
    presses: {
      // Presses leave in getUpdates answers of 100; the next answer waits for the bot's next getUpdates.
      sentOverSeconds: round((lastPress - firstPress) / 1000, 2),
      perSecond: round(pressedAt.size / ((lastPress - firstPress) / 1000), 0),
    },
    submitted: {
      seconds: round(submitSeconds, 2),
      perSecond: round(createdAt.size / submitSeconds, 0),
      pressToCreateMs: summary(latencies(createdAt)),
    },
    completed: {
      seconds: round(completeSeconds, 2),
      perSecond: round(deliveredAt.size / completeSeconds, 0),
      deliveryWindowSeconds: round(deliverySeconds, 2),
      deliveredPerSecondInWindow: round(deliveredAt.size / deliverySeconds, 0),
      pressToResultMs: summary(latencies(deliveredAt)),
      // The bot's part of completing a job: KIE answering `success` to a status read, to the result at Telegram.
      successReadToResultMs: summary(
        users
          .flatMap((id) => {
            const end = deliveredAt.get(id);
            const start = taskOf.get(id)?.succeededAt;
            return end === undefined || start === undefined ? [] : [end - start];
          })
          .sort((a, b) => a - b),
      ),
    },
    inFlight: { peak: peakInFlight, samplesAtPeak: atPeak.length },
    botMainThread: {
      // Share of the time the main thread (KV, poller, KV queue, routing) was busy, first press to last result.
      loopUtilization: round(mean(during.map((sample) => sample.loop)), 2),
      loopDelayMs: report.mainLoopDelayMs,
      // A tell to an idle actor, every 50 ms per shard: idle before the presses, and while the jobs ran.
      tellAcceptedMs: {
        idle: summary(
          samples
            .filter((sample) => sample.at < firstPress)
            .flatMap((sample) => sample.tellMs)
            .sort((a, b) => a - b),
        ),
        underLoad: summary(during.flatMap((sample) => sample.tellMs).sort((a, b) => a - b)),
      },
    },
    statusReadsAfterCreateMs: readTimes(kie.tasks),
    pollQueue: report.polls,
    memory: {
      rssBeforeMb: mb(ready.memory.rss),
      rssAtPeakMb: mb(rssAtPeak),
      maxRssMb: mb(maxRss),
      mainHeapBeforeMb: mb(ready.memory.heapUsed),
      mainHeapAtPeakMb: mb(heapAtPeak),
      perInFlightJobKb: round((rssAtPeak - ready.memory.rss) / peakInFlight / 1024, 1),
    },
    requests: {
      kie: { ...kie.counts, statusReadsPerJob: round(kie.counts.statusReads / Math.max(1, kie.counts.creates), 2) },
      botApi: botCalls,
    },
    kvCommits: {
      saves: report.store.commits,
      atomicCommits: report.store.batches,
      conflicts: report.store.conflicts,
      lockedRetries: report.store.lockedRetries,
    },
    correctness: {
      finishedInTime: finished,
      deliveries: [...resultsOf.values()].reduce((sum, n) => sum + n, 0),
      usersWithAResult: deliveredAt.size,
      usersWithTwoResults: [...resultsOf.values()].filter((n) => n > 1).length,
      kieCreates: kie.counts.creates,
      usersWithTwoTasks: [...createsOf.values()].filter((n) => n > 1).length,
      openJobsLeft: report.openJobsLeft,
      jobStates: report.jobStates,
      stoppedDrained: report.drained,
    },
    logLinesWarnOrWorse: logged,
    notes: [
      "The bot runs in a child process (startApp, workers mode, long polling, LOG_LEVEL warn); Telegram and KIE are fakes in the benchmark's process, so all times are on one clock and the fakes' sockets and bookkeeping are not in the bot's memory. Both processes share the machine's cores.",
      "Presses leave in getUpdates answers of 100; the next answer goes when the bot asks again, so the bot's intake sets the press rate. Submitted: first press sent to the last task created at KIE. Completed: first press sent to the last sendPhoto. A job's latency: its press sent to its sendPhoto.",
      `Completion is mostly the fake's ${GENERATION_MS / 1000} s of generation and the poll cadence: reads are due 0.375-0.5 s after the task is recorded, then 0.75-1 s and 1.5-2 s later (JOB_POLL_FIRST_SECONDS ${POLL_FIRST_SECONDS}, doubling); statusReadsAfterCreateMs shows when they came and pollQueue how late the KV queue delivered them. successReadToResultMs is the bot's own part of finishing a job.`,
      "Memory per in-flight job: (the bot process's RSS, all threads, median of the 50 ms samples taken while the most jobs were in flight - its RSS after the 1,000 orders were prepared and the main thread collected) / jobs in flight. Worker heaps are not collected before the baseline, so garbage made by the burst counts too: an upper bound of what a job keeps.",
      "KIE_CREATES_PER_10S is 1000, the most the configuration allows, with users split evenly over the shards (each shard may create 500 per 10 s). At the default of 20 (KIE's account limit) submitting 1,000 jobs takes about 500 s whatever the bot's speed.",
    ],
  };
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/jobs.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    [
      `jobs: ${JOBS} on ${SHARDS} shards, node ${process.version}, ${cpus().length} cpus`,
      `submitted: ${results.submitted.perSecond}/s (${results.submitted.seconds} s for all)`,
      `completed: ${results.completed.perSecond}/s (${results.completed.seconds} s for all), press to result p50 ${results.completed.pressToResultMs.p50} ms, p99 ${results.completed.pressToResultMs.p99} ms`,
      `in flight: peak ${peakInFlight}; RSS ${results.memory.rssBeforeMb} -> ${results.memory.rssAtPeakMb} MB, ${results.memory.perInFlightJobKb} KB per in-flight job`,
      `correctness: ${results.correctness.deliveries} results to ${results.correctness.usersWithAResult} users, ${results.correctness.kieCreates} KIE tasks, ${results.correctness.usersWithTwoResults} users with two results, ${results.correctness.openJobsLeft} open jobs left`,
      `log lines at warn or worse: ${JSON.stringify(logged)}`,
      "written to bench/results/jobs.json",
    ].join("\n"),
  );
}

/**
 * Wraps the bot's KV to time its job polls: when each poll was due (its
 * commit plus its delay), when the KV queue handed it to the bot (late by),
 * and how long the bot's handler (a `tell` to the user's actor) held the
 * queue. Reads and writes pass through unchanged.
 */
function tracePolls() {
  const dueAt = new Map<string, number>();
  const lateMs: number[] = [];
  const handlerMs: number[] = [];
  const keyOf = (value: unknown) => {
    const poll = value as { t?: unknown; jobId?: unknown; seq?: unknown };
    return poll?.t === "poll" ? `${String(poll.jobId)}#${String(poll.seq)}` : undefined;
  };
  const wrapAtomic = (atomic: KvAtomic): KvAtomic => {
    const queued: { key: string; delay: number }[] = [];
    const wrapped: KvAtomic = {
      check: (...checks) => {
        atomic.check(...checks);
        return wrapped;
      },
      set: (key, value, options) => {
        atomic.set(key, value, options);
        return wrapped;
      },
      delete: (key) => {
        atomic.delete(key);
        return wrapped;
      },
      enqueue: (value, options) => {
        const key = keyOf(value);
        if (key !== undefined) queued.push({ key, delay: options?.delay ?? 0 });
        atomic.enqueue(value, options);
        return wrapped;
      },
      commit: async () => {
        const outcome = await atomic.commit();
        const now = performance.now();
        if (outcome.ok) for (const { key, delay } of queued) dueAt.set(key, now + delay);
        return outcome;
      },
    };
    return wrapped;
  };
  const openKv: Platform["openKv"] = async (location) => {
    const kv = await platform.openKv(location);
    return {
      get: (key) => kv.get(key),
      getMany: (keys) => kv.getMany(keys),
      list: (selector, options) => kv.list(selector, options),
      atomic: () => wrapAtomic(kv.atomic()),
      listenQueue: (handler) =>
        kv.listenQueue(async (value) => {
          const started = performance.now();
          const key = keyOf(value);
          const due = key === undefined ? undefined : dueAt.get(key);
          if (key !== undefined && due !== undefined) {
            lateMs.push(started - due);
            dueAt.delete(key);
          }
          try {
            await handler(value);
          } finally {
            handlerMs.push(performance.now() - started);
          }
        }),
      close: () => kv.close(),
    } as KvStore;
  };
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const figures = () => {
    const late = sorted(lateMs);
    const held = sorted(handlerMs);
    return {
      polls: late.length,
      lateMs: {
        p50: round(percentile(late, 50), 0),
        p99: round(percentile(late, 99), 0),
        max: round(late.at(-1) ?? Number.NaN, 0),
      },
      handlerMs: {
        p50: round(percentile(held, 50), 2),
        p99: round(percentile(held, 99), 2),
        max: round(held.at(-1) ?? Number.NaN, 2),
        totalSeconds: round(held.reduce((sum, n) => sum + n, 0) / 1000, 2),
      },
    };
  };
  return { openKv, figures };
}

/** When the n-th status read of a task arrived after its creation, over all tasks (p50, p99, max). */
function readTimes(tasks: ReadonlyMap<string, { readonly readsAt: readonly number[] }>) {
  const byRead: number[][] = [];
  for (const task of tasks.values()) {
    for (const [index, ms] of task.readsAt.entries()) {
      const reads = byRead[index] ?? [];
      reads.push(ms);
      byRead[index] = reads;
    }
  }
  return byRead.map((values, index) => {
    values.sort((a, b) => a - b);
    return {
      read: index + 1,
      p50: round(percentile(values, 50), 0),
      p99: round(percentile(values, 99), 0),
      max: round(values.at(-1) ?? Number.NaN, 0),
      tasks: values.length,
    };
  });
}

/** Counts the bot's log lines at warn or worse by level and message; other output passes through. */
function tallyLogs(bot: ChildProcess, logged: Record<string, number>): void {
  if (bot.stdout === null) return;
  const names: Record<number, string> = { 40: "warn", 50: "error", 60: "fatal" };
  createInterface({ input: bot.stdout }).on("line", (line) => {
    let entry: { level?: number; msg?: string } | undefined;
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      entry = undefined;
    }
    if (entry?.level === undefined) {
      console.log(line);
      return;
    }
    if (entry.level < 40) return;
    const key = `${names[entry.level] ?? entry.level}: ${entry.msg ?? ""}`;
    logged[key] = (logged[key] ?? 0) + 1;
  });
}
