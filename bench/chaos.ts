/**
 * Crash and fault suite (`npm run chaos`; `npm run chaos:ci` is the short
 * version). The bot runs as operators run it (its own process, webhook mode,
 * two shards, embedded KV) against a fake Bot API and a fake KIE in this
 * process, both injecting faults: Telegram answers 429 with retry_after,
 * 502, "message can't be edited" and 403 for users who blocked the bot; KIE
 * hangs past the client's timeout, answers 500, 429, broken JSON and
 * success without URLs, and calls back twice, early and out of order.
 *
 * Phases: the bad input corpus against the idle bot (`chaos/bad-inputs.ts`);
 * then simulated users (payments, generations, admin credits) through the
 * real webhook route while the bot is SIGKILLed at random moments and
 * restarted on the same KV file, `CHAOS_CYCLES` times; then the bot drains
 * (no open job, no credit owed), stops with SIGTERM, and the invariants are
 * checked over the whole KV (`chaos/invariants.ts`). Results go to
 * `bench/results/chaos.json`; the exit code is 1 when anything was violated.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeBotApi } from "../tests/helpers/fake-bot-api.ts";
import { defaultSuccess } from "../tests/helpers/fake-kie-core.ts";
import {
  type FakeKieTask,
  type FakeOutcome,
  type LargeResultKind,
  largeResult,
  startFakeKieServer,
} from "../tests/helpers/fake-kie-server.ts";
import { messageObject } from "../tests/helpers/telegram/mod.ts";
import { buildNode } from "../tools/build-node.ts";
import { checkBadInputs } from "./chaos/bad-inputs.ts";
import { BotApiWatch } from "./chaos/bot-api-watch.ts";
import { BotRunner, KIE_API_KEY, KIE_HMAC_KEY } from "./chaos/bot-runner.ts";
import { checkInvariants, editsFoundUnchanged, type Violation } from "./chaos/invariants.ts";
import { openWork } from "./chaos/kv-read.ts";
import { readKvState } from "./chaos/kv-state.ts";
import { Load } from "./chaos/load.ts";
import { Dice, seededRandom } from "./chaos/random.ts";
import { failureCodes, jobOutcomes, ledgerEntries, writeResults } from "./chaos/report.ts";
import { chaosSettings } from "./chaos/settings.ts";
import { UpdateFactory } from "./chaos/updates.ts";
import { TelegramWebhook } from "./chaos/webhook.ts";

const settings = chaosSettings(process.argv.slice(2), process.env);
// The bot runs as `npm start` runs it: from its build.
await buildNode();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
const FIRST_USER = 100_001;
const FIRST_ADMIN = 900_001;
const FIRST_PROBE = 700_001;

const startedAt = performance.now();
const timings: Record<string, number> = {};
// Separate streams: the users' choices do not shift which calls get faults, and the other way round.
const userDice = new Dice(seededRandom(settings.seed));
const faultDice = new Dice(seededRandom(settings.seed + 1));
const killDice = new Dice(seededRandom(settings.seed + 2));
/** While paused (the bad input phase), the fakes draw 1 and so never a fault. */
let faultsPaused = true;
const faultRandom = () => (faultsPaused ? 1 : faultDice.next());

const blocked = new Set<number>();
const watch = new BotApiWatch();
const fakeBot = await startFakeBotApi(
  {
    onCall: (call) => {
      // The watch keeps what the run needs; the fake's own list would only grow.
      fakeBot.calls.length = 0;
      watch.observe(call);
    },
  },
  { ...settings.faults.telegram, retryAfterSeconds: 1, blocked: (chatId) => blocked.has(chatId), random: faultRandom },
);
let bot: BotRunner | undefined;
/** Each task's success, drawn once (a share of them large), and the task each result URL belongs to. */
const successes = new Map<string, FakeOutcome>();
const taskOfUrl = new Map<string, string>();
const LARGE_KINDS: readonly LargeResultKind[] = ["long_text", "many_urls", "big_file", "slow_drip"];
const successOf = (task: FakeKieTask): FakeOutcome => {
  let success = successes.get(task.taskId);
  if (success === undefined) {
    success = faultDice.chance(settings.faults.kie.largeResult)
      ? largeResult(faultDice.pick(LARGE_KINDS), task.taskId)
      : defaultSuccess(task.family, task.taskId);
    successes.set(task.taskId, success);
    for (const url of success.state === "success" ? (success.urls ?? []) : []) taskOfUrl.set(url, task.taskId);
  }
  return success;
};
const kie = await startFakeKieServer({
  apiKey: KIE_API_KEY,
  generationMs: settings.generationMs,
  result: successOf,
  faults: { ...settings.faults.kie, random: faultRandom },
  callbacks: {
    hmacKey: KIE_HMAC_KEY,
    target: () => (bot?.baseUrl === undefined ? undefined : `${bot.baseUrl}/kie/callback`),
    ...settings.faults.callbacks,
  },
});

const dir = mkdtempSync(join(tmpdir(), "kie-bot-chaos-"));
const kvPath = join(dir, "bot.kv");
const userIds = Array.from({ length: settings.users }, (_, i) => FIRST_USER + i);
const adminIds = Array.from({ length: settings.admins }, (_, i) => FIRST_ADMIN + i);
bot = new BotRunner({
  dir,
  kvPath,
  telegramApiRoot: fakeBot.apiRoot,
  kieBaseUrl: kie.baseUrl,
  adminIds,
  shards: settings.shards,
});
const runner = bot;
// A press names the bot's message that carries its button, as Telegram does (the fake Telegram knows its chats).
const updates = new UpdateFactory((chatId, data) =>
  messageObject(chatId, fakeBot.telegram.pressedMessage(chatId, data)),
);
const webhook = new TelegramWebhook(runner, userDice, settings.faults.redeliverAfterOk);
const extraViolations: Violation[] = [];
/** When each SIGKILL was sent (wall-clock ms). */
const kills: number[] = [];

try {
  const restartMs: number[] = [await runner.start()];
  console.log(`bot ready in ${Math.round(restartMs[0] ?? 0)} ms; bad input corpus…`);

  let phase = performance.now();
  const badInputs = await checkBadInputs({ kvPath, watch, updates, webhook, dice: userDice, firstProbe: FIRST_PROBE });
  timings.badInputs = seconds(phase);

  phase = performance.now();
  faultsPaused = false;
  const load = new Load({
    updates,
    webhook,
    watch,
    dice: userDice,
    blocked,
    userIds,
    adminIds,
    generationMs: settings.generationMs,
    blockAfterConfirm: settings.faults.blockAfterConfirm,
  });
  load.start();
  for (let cycle = 1; cycle <= settings.cycles; cycle++) {
    await sleep(killDice.between(settings.upMs[0], settings.upMs[1]));
    kills.push(Date.now());
    await runner.kill();
    console.log(
      `cycle ${cycle}/${settings.cycles}: SIGKILL after ${Math.round(seconds(phase))} s of load; restarting…`,
    );
    restartMs.push(await runner.start());
  }
  // A last stretch of load on the last run, then the users stop.
  await sleep(killDice.between(settings.upMs[0], settings.upMs[1]));
  await load.stop();
  timings.loadWithKills = seconds(phase);

  phase = performance.now();
  const drained = await drain(settings.drainDeadlineMs);
  timings.drain = seconds(phase);
  if (!drained.done) extraViolations.push({ invariant: "drained_in_time", details: drained.left });
  const exitCode = await runner.stop();
  if (exitCode !== 0) extraViolations.push({ invariant: "stops_cleanly", details: { exitCode } });
  for (const exit of runner.unexpectedExits) extraViolations.push({ invariant: "no_crash", details: exit });

  phase = performance.now();
  const kv = await readKvState(kvPath);
  const violations = [
    ...extraViolations,
    ...checkInvariants({
      kv,
      payments: load.payments,
      orders: load.orders,
      results: watch.results,
      tasks: kie.tasks,
      taskOfUrl,
      successes,
      presses: load.presses,
      blockedPeriods: load.blockedPeriods,
      kills,
      watch,
      botApiRefusals: fakeBot.refusals,
      kieRefusals: kie.refused,
      bot: runner,
    }),
  ];
  timings.check = seconds(phase);
  timings.total = seconds(startedAt);

  const summary = writeResults({
    settings,
    seconds: timings,
    cycles: { run: settings.cycles, restartMs: restartMs.map(Math.round) },
    operations: {
      updatesByKind: load.operations,
      badInputs: badInputs.length,
      webhook: webhook.stats,
      stalledSteps: load.stalls,
      botApiCalls: watch.methods,
      kie: kie.counts,
      largeResults: largeResultCounts(),
    },
    faults: {
      sigkill: settings.cycles,
      telegram: fakeBot.faultCounts,
      kie: kie.faultCounts,
      webhookRedeliveries: webhook.stats.redeliveries,
      webhookRepeatsAfterOk: webhook.stats.repeatsAfterOk,
      usersBlockingTheBot: load.operations.blocked_bot ?? 0,
    },
    outcomes: {
      jobs: jobOutcomes(kv),
      jobFailures: failureCodes(kv),
      ordersPlaced: load.orders.size,
      ordersWithoutJob: [...load.orders.values()].filter((order) => !kv.users.get(order.userId)?.jobs.has(order.jobId))
        .length,
      resultsSent: [...watch.results.values()].reduce((sum, chats) => sum + chats.length, 0),
      editsTelegramFoundUnchanged: editsFoundUnchanged(fakeBot.refusals),
      starsPaymentsReported: load.payments.size,
      starsPaymentsRecorded: kv.starsPayments.size,
      ledgerEntries: ledgerEntries(kv),
      adminCredits: load.adminCredits,
      kieCallbacks: kie.callbackCounts,
      users: kv.users.size,
    },
    badInputs,
    violations,
    botLog: runner.problems(),
  });
  console.log(summary);
  process.exitCode = violations.length > 0 || badInputs.some((item) => !item.pass) ? 1 : 0;
} finally {
  if (runner.baseUrl !== undefined) await runner.kill();
  await fakeBot.close();
  await kie.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Tasks given a large success, by kind. */
function largeResultCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const success of successes.values()) {
    if (success.state !== "success") continue;
    const kind =
      success.text !== undefined
        ? "long_text"
        : (success.urls?.length ?? 0) > 1
          ? "many_urls"
          : success.urls?.[0]?.includes("/f/")
            ? "big_file_or_drip"
            : undefined;
    if (kind !== undefined) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** Waits until the bot owes nothing: no open job or order, no Stars payment unrecorded, no credit unacknowledged. */
async function drain(deadlineMs: number) {
  const deadline = performance.now() + deadlineMs;
  let left = await openWork(kvPath);
  while (left.openJobs + left.openPayments + left.outbox + left.pendingOrders > 0 && performance.now() < deadline) {
    await sleep(500);
    left = await openWork(kvPath);
  }
  const done = left.openJobs + left.openPayments + left.outbox + left.pendingOrders === 0;
  // The last deliveries' follow-up calls (buttons, status edits) land before the stop.
  if (done) await sleep(1_000);
  return { done, left };
}
