/**
 * Crash and fault suite (`npm run chaos`; `npm run chaos:ci` is the short
 * version). The bot runs as operators run it (its own process, webhook mode,
 * two shards, embedded KV) against a fake Bot API and a fake KIE in this
 * process, both injecting faults: Telegram answers 429 with retry_after,
 * 502, "message can't be edited" and 403 for users who blocked the bot; KIE
 * hangs past the client's timeout, answers 500, 429, broken JSON and
 * success without URLs, and calls back twice, early and out of order; Stars
 * refunds fail or lose their answer. A fake YooKassa decides each card
 * bill's fate (paid, canceled, never), hangs, resets and fails requests
 * (refunds more often) and notifies once, twice, late or never.
 *
 * Phases: the bad input corpus against the idle bot (`chaos/bad-inputs.ts`);
 * then simulated users (Stars and card payments, generations, admin
 * credits, debits, refunds and a broadcast) through the real webhook route
 * while the bot is SIGKILLed at random moments and restarted on the same KV
 * file, `CHAOS_CYCLES` times, a second process serving the same KV during
 * some cycles; then the bot drains (no open job, credit owed, refund open
 * or broadcast running; users press "Check payment" on paid bills whose
 * notification never came), stops with SIGTERM, and the invariants are
 * checked over the whole KV (`chaos/invariants.ts`,
 * `chaos/money-invariants.ts`). Results go to `bench/results/chaos.json`;
 * the exit code is 1 when anything was violated.
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
import { startFakeYooKassaServer } from "../tests/helpers/fake-yookassa-server.ts";
import { messageObject } from "../tests/helpers/telegram/mod.ts";
import { buildNode } from "../tools/build-node.ts";
import { checkBadInputs } from "./chaos/bad-inputs.ts";
import { BotApiWatch, textOf } from "./chaos/bot-api-watch.ts";
import { BotRunner, KIE_API_KEY, KIE_HMAC_KEY } from "./chaos/bot-runner.ts";
import { checkInvariants, editsFoundUnchanged, type Violation } from "./chaos/invariants.ts";
import { listAll, openWork, withKv } from "./chaos/kv-read.ts";
import { readKvState } from "./chaos/kv-state.ts";
import { BROADCAST_TEXT, type CardBill, Load } from "./chaos/load.ts";
import { checkMoneyInvariants } from "./chaos/money-invariants.ts";
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
/** How long the drain waits for open refunds before it restarts the bot to settle them. */
const REFUND_RESTART_MS = 5_000;

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

/** Both processes, once made: YooKassa notifies whichever listens (a random one when both do). */
let processes: readonly BotRunner[] = [];
const listening = () => {
  const up = processes.flatMap((each) => each.baseUrl ?? []);
  return up.length === 0 ? undefined : faultDice.pick(up);
};
const yooShop = { shopId: "506751", secretKey: "test_chaos_secret_key_0123" };
const yookassa = await startFakeYooKassaServer({
  ...yooShop,
  fate: () => {
    const roll = faultDice.next();
    const afterMs = faultDice.between(settings.cardFates.afterMs[0], settings.cardFates.afterMs[1]);
    if (roll < settings.cardFates.paid) return { outcome: "paid", afterMs };
    if (roll < settings.cardFates.paid + settings.cardFates.canceled) return { outcome: "canceled", afterMs };
    return { outcome: "never" };
  },
  faults: { ...settings.faults.yookassa, random: faultRandom },
  notifications: {
    target: () => {
      const base = listening();
      return base === undefined ? undefined : `${base}/yookassa/notification`;
    },
    ...settings.faults.yookassaNotifications,
    random: faultRandom,
  },
});

const dir = mkdtempSync(join(tmpdir(), "kie-bot-chaos-"));
const kvPath = join(dir, "bot.kv");
const userIds = Array.from({ length: settings.users }, (_, i) => FIRST_USER + i);
const adminIds = Array.from({ length: settings.admins }, (_, i) => FIRST_ADMIN + i);
const runnerOptions = {
  dir,
  kvPath,
  telegramApiRoot: fakeBot.apiRoot,
  kieBaseUrl: kie.baseUrl,
  adminIds,
  shards: settings.shards,
  env: {
    YOOKASSA_SHOP_ID: yooShop.shopId,
    YOOKASSA_SECRET_KEY: yooShop.secretKey,
    YOOKASSA_API_URL: yookassa.apiUrl,
    YOOKASSA_PACKAGES: settings.cardPackagesRubles.join(","),
    // The fake YooKassa notifies from loopback.
    YOOKASSA_IPS: "127.0.0.1",
    // Part of the time a second process serves the same KV.
    KV_SHARED: "true",
    // The shortest reconciliation: a bill whose notification never came, or whose creation a kill cut off, is
    // found within the drain.
    YOOKASSA_RECONCILE_SECONDS: "30",
  },
  ...(settings.logFile === undefined ? {} : { logFile: settings.logFile }),
};
bot = new BotRunner(runnerOptions);
const runner = bot;
const second = new BotRunner({ ...runnerOptions, sharedLogs: { logs: runner.logs, process: "second" } });
processes = [runner, second];
// A press names the bot's message that carries its button, as Telegram does (the fake Telegram knows its chats).
const updates = new UpdateFactory((chatId, data) =>
  messageObject(chatId, fakeBot.telegram.pressedMessage(chatId, data)),
);
const webhook = new TelegramWebhook(processes, userDice, settings.faults.redeliverAfterOk);
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
    cardPackages: settings.cardPackagesRubles.map((rubles) => rubles * 100),
    telegram: fakeBot.telegram,
  });
  load.start();
  let secondRuns = 0;
  /** When the second process was killed or (at the end of the load) stopped, wall-clock ms. */
  const secondEnds: number[] = [];
  for (let cycle = 1; cycle <= settings.cycles; cycle++) {
    await sleep(killDice.between(settings.upMs[0], settings.upMs[1]));
    kills.push(Date.now());
    await runner.kill();
    // The second process comes, stays or is killed along with the first.
    const withSecond = killDice.chance(settings.secondProcess);
    if (!withSecond && second.running) {
      secondEnds.push(Date.now());
      await second.kill();
    }
    console.log(
      `cycle ${cycle}/${settings.cycles}: SIGKILL after ${Math.round(seconds(phase))} s of load; restarting…` +
        (withSecond ? " (with a second process)" : ""),
    );
    restartMs.push(await runner.start());
    if (withSecond && !second.running) {
      await second.start();
      secondRuns++;
    }
  }
  // A last stretch of load on the last run, then the users stop.
  await sleep(killDice.between(settings.upMs[0], settings.upMs[1]));
  await load.stop();
  if (second.running) {
    secondEnds.push(Date.now());
    const secondExit = await second.stop();
    if (secondExit !== 0) extraViolations.push({ invariant: "stops_cleanly", details: { second: secondExit } });
  }
  timings.loadWithKills = seconds(phase);

  phase = performance.now();
  const drained = await drain(settings.drainDeadlineMs, load);
  timings.drain = seconds(phase);
  if (!drained.done) extraViolations.push({ invariant: "drained_in_time", details: drained.left });
  const exitCode = await runner.stop();
  if (exitCode !== 0) extraViolations.push({ invariant: "stops_cleanly", details: { exitCode } });
  for (const exit of [...runner.unexpectedExits, ...second.unexpectedExits]) {
    extraViolations.push({ invariant: "no_crash", details: exit });
  }
  extraViolations.push(...broadcastViolations(load));

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
      // A pre-checkout answered too late is Telegram's refusal too: the money invariants judge its lateness
      // (excused only when a kill took the query), so it is not counted twice here.
      botApiRefusals: fakeBot.refusals.filter(
        (refusal) => !(refusal.method === "answerPreCheckoutQuery" && /query is too old/.test(refusal.description)),
      ),
      kieRefusals: kie.refused,
      bot: runner,
    }),
  ];
  checkMoneyInvariants(
    {
      kv,
      starsPaid: load.payments,
      starsRefunded: fakeBot.telegram.refundedCharges(),
      yookassa: yookassa.core,
      preCheckouts: load.preCheckouts,
      kills,
    },
    (violation) => violations.push(violation),
  );
  timings.check = seconds(phase);
  timings.total = seconds(startedAt);

  const summary = writeResults({
    settings,
    seconds: timings,
    cycles: {
      run: settings.cycles,
      secondProcessRuns: secondRuns,
      restartMs: restartMs.map(Math.round),
      killedAt: kills,
      secondEndedAt: secondEnds,
    },
    operations: {
      updatesByKind: load.operations,
      badInputs: badInputs.length,
      webhook: webhook.stats,
      stalledSteps: load.stalls,
      botApiCalls: watch.methods,
      kie: kie.counts,
      yookassa: yookassa.core.counts,
      largeResults: largeResultCounts(),
    },
    faults: {
      sigkill: settings.cycles,
      telegram: fakeBot.faultCounts,
      kie: kie.faultCounts,
      yookassa: yookassa.faultCounts,
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
      adminDebits: load.adminDebits,
      refundsAsked: load.refunds,
      starsRefunded: fakeBot.telegram.refundedCharges().size,
      preCheckouts: load.preCheckouts.size,
      cardBills: load.cardBills.size,
      cardPayments: cardPaymentCounts(),
      yookassaRefunds: yookassa.core.refunds.size,
      yookassaNotifications: yookassa.notificationCounts,
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
  for (const each of processes) if (each.running) await each.kill();
  await fakeBot.close();
  await kie.close();
  await yookassa.close();
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

/** Card bills by what the fake YooKassa made of them. */
function cardPaymentCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const payment of yookassa.core.payments.values()) counts[payment.status] = (counts[payment.status] ?? 0) + 1;
  return counts;
}

/** Work the bot still owes, with the broadcasts still running and the card payments YooKassa took but not credited. */
async function owed() {
  const work = await openWork(kvPath);
  const { broadcasts, credited } = await withKv(kvPath, async (kv) => ({
    broadcasts: (await listAll(kv, ["broadcast_active"])).length,
    credited: new Set((await listAll(kv, ["payment", "yookassa"])).map((entry) => String(entry.key[2]))),
  }));
  const cardsUncredited = [...yookassa.core.payments.values()].filter(
    (payment) => payment.status === "succeeded" && !credited.has(payment.id),
  ).length;
  return { ...work, broadcasts, cardsUncredited };
}

/**
 * Waits until the bot owes nothing: no open job or order, no Stars payment
 * unrecorded, no credit unacknowledged, no refund unsettled, no broadcast
 * running. First the users whose bill YooKassa took press "Check payment"
 * (some were never notified), as people do when the money has not come.
 * A refund left unknown is asked again a minute later, or at once by a
 * process that starts after it was asked: the bot is restarted once if
 * refunds are still open a few seconds into the drain.
 */
async function drain(deadlineMs: number, load: Load) {
  const started = performance.now();
  const deadline = started + deadlineMs;
  const paid = [...load.cardBills].filter(
    ([paymentId]) => yookassa.core.payments.get(paymentId)?.status === "succeeded",
  );
  const byUser = new Map<number, CardBill[]>();
  for (const [, bill] of paid) byUser.set(bill.userId, [...(byUser.get(bill.userId) ?? []), bill]);
  await Promise.all(
    [...byUser.values()].map(async (bills) => {
      for (const bill of bills) await load.checkCard(bill);
    }),
  );
  const total = (left: Record<string, number>) => Object.values(left).reduce((sum, n) => sum + n, 0);
  let left = await owed();
  let restarted = false;
  while (total(left) > 0 && performance.now() < deadline) {
    if (!restarted && left.openRefunds > 0 && performance.now() - started > REFUND_RESTART_MS) {
      restarted = true;
      await runner.stop();
      await runner.start();
    }
    await sleep(500);
    left = await owed();
  }
  const done = total(left) === 0;
  // The last deliveries' follow-up calls (buttons, status edits) land before the stop.
  if (done) await sleep(1_000);
  return { done, left };
}

/** The broadcast reached every user at most once, finished, and its admin heard how it went. */
function broadcastViolations(load: Load): Violation[] {
  if (load.broadcast === undefined) return [{ invariant: "broadcast_sent", details: {} }];
  const violations: Violation[] = [];
  for (const userId of userIds) {
    const copies = watch.since(userId, 0).filter((call) => call.payload.text === BROADCAST_TEXT).length;
    if (copies > 1) violations.push({ invariant: "broadcast_once_per_user", userId, details: { copies } });
  }
  const reported = watch
    .since(load.broadcast.adminId, load.broadcast.since)
    .some((call) => textOf(call).startsWith("Broadcast done"));
  if (!reported) violations.push({ invariant: "broadcast_reported", details: load.broadcast });
  return violations;
}
