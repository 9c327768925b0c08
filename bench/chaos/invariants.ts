/**
 * The invariants checked over the whole KV once the bot has drained and
 * stopped: money (every balance is the sum of its ledger, holds only for
 * live jobs, each job charged once), payments (each credited exactly once,
 * none lost), jobs (all finished, each delivered one result to its own
 * user, every delivered one in the history) and updates (every update
 * answered 200 was handled). Each violation carries its evidence: the KV
 * records and the bot's log lines that concern it.
 */

import { availableOf } from "../../src/ledger/wallet.ts";
import type { FakeKieTask, FakeOutcome, KieRefusal } from "../../tests/helpers/fake-kie-server.ts";
import type { RefusalRecord } from "../../tests/helpers/telegram/mod.ts";
import { type BotApiWatch, buttonsOf, textOf } from "./bot-api-watch.ts";
import type { BotRunner } from "./bot-runner.ts";
import { balanceChangeOf, type KvState, type UserRecords } from "./kv-state.ts";
import type { PlacedOrder, ReportedPayment } from "./load.ts";
import { TAG } from "./prompts.ts";

export interface Violation {
  readonly invariant: string;
  readonly userId?: number;
  readonly jobId?: string;
  readonly details: unknown;
  readonly logs?: unknown[];
}

export interface InvariantInputs {
  readonly kv: KvState;
  /** Stars payments Telegram reported to the bot (answered 200). */
  readonly payments: ReadonlyMap<string, ReportedPayment>;
  /** Orders by prompt (what the fake KIE saw). */
  readonly orders: ReadonlyMap<string, PlacedOrder>;
  /** Result file URLs sent to Telegram, with the chat of each send. */
  readonly results: ReadonlyMap<string, readonly number[]>;
  readonly tasks: ReadonlyMap<string, FakeKieTask>;
  /** The task each result URL the fake KIE handed out belongs to. */
  readonly taskOfUrl: ReadonlyMap<string, string>;
  /** What each task's success carried, by task id. */
  readonly successes: ReadonlyMap<string, FakeOutcome>;
  /** When each user had the bot blocked (wall-clock ms): a result delivered then cannot be shown. */
  readonly blockedPeriods: ReadonlyMap<number, readonly (readonly [number, number])[]>;
  /** Button presses the bot took (answered 200), by callback query id: their user and when. */
  readonly presses: ReadonlyMap<string, { readonly userId: number; readonly at: number }>;
  /** When each SIGKILL was sent (wall-clock ms). */
  readonly kills: readonly number[];
  readonly watch: BotApiWatch;
  /** Calls the fake Bot API refused by Telegram's rules. */
  readonly botApiRefusals: readonly RefusalRecord[];
  /** Requests the fake KIE refused by KIE's documented schemas. */
  readonly kieRefusals: readonly KieRefusal[];
  readonly bot: BotRunner;
}

/** What a generation's user is told when Generate is refused (en.ftl): no job, and the user knows why. */
const ORDER_REFUSALS = [
  "You need",
  "already have generations running",
  "already running",
  "already finished",
  "order was not placed",
  "will not accept these parameters",
  "There is no price for these parameters",
  "Generations are disabled for your account",
];

const LIVE_STATES = ["created", "submitted"];

export function checkInvariants(inputs: InvariantInputs): Violation[] {
  const violations: Violation[] = [];
  const add = (violation: Violation) => {
    const needles = [violation.jobId, violation.userId].filter((needle) => needle !== undefined);
    const logs = needles.length === 0 ? [] : inputs.bot.linesAbout(...needles).slice(-20);
    violations.push({ ...violation, ...(logs.length > 0 ? { logs } : {}) });
  };
  for (const item of inputs.kv.unreadable) add({ invariant: "kv_entry_readable", details: item });
  for (const [userId, records] of inputs.kv.users) {
    checkMoney(userId, records, add);
    checkJobs(userId, records, add);
  }
  checkPayments(inputs, add);
  checkResults(inputs, add);
  checkWhatUsersSaw(inputs, add);
  checkPeersAccepted(inputs, add);
  for (const updateId of inputs.kv.unhandledUpdates) {
    add({ invariant: "accepted_update_handled", details: { updateId } });
  }
  return violations;
}

type Add = (violation: Violation) => void;

/** Balance = sum of the ledger; holds = holds not yet captured or released, each for a job still waiting for KIE. */
function checkMoney(userId: number, records: UserRecords, add: Add): void {
  const { wallet } = records.state;
  const ledger = [...records.ledger.values()];
  if (ledger.length > 0 && !records.stored)
    add({ invariant: "ledger_has_user", userId, details: { entries: ledger.length } });
  const sum = ledger.reduce((total, record) => total + balanceChangeOf(record), 0);
  if (sum !== wallet.balance) {
    add({
      invariant: "balance_equals_ledger",
      userId,
      details: { balance: wallet.balance, ledgerSum: sum, entries: ledger.map((r) => [r.entry.key, r.amount]) },
    });
  }
  if (availableOf(wallet) < 0) add({ invariant: "available_not_negative", userId, details: { wallet } });
  const settled = new Set(
    ledger.filter((r) => r.entry.type === "capture" || r.entry.type === "release").map((r) => jobIdOf(r.entry)),
  );
  const openHolds = ledger.filter((r) => r.entry.type === "hold" && !settled.has(jobIdOf(r.entry)));
  const held = Object.entries(wallet.holds).map(([jobId, hold]) => `${jobId}:${hold.amount}`);
  const ledgerHeld = openHolds.map((r) => `${jobIdOf(r.entry)}:${r.amount}`);
  if (held.sort().join() !== ledgerHeld.sort().join()) {
    add({ invariant: "holds_equal_ledger", userId, details: { walletHolds: held, ledgerHolds: ledgerHeld } });
  }
  for (const jobId of Object.keys(wallet.holds)) {
    const job = records.jobs.get(jobId);
    if (job === undefined || !LIVE_STATES.includes(job.state)) {
      add({ invariant: "hold_has_live_job", userId, jobId, details: { hold: wallet.holds[jobId], job } });
    }
  }
}

/** Every job finished and delivered, in the history, charged (captured or released) exactly once. */
function checkJobs(userId: number, records: UserRecords, add: Add): void {
  for (const jobId of Object.keys(records.state.jobs)) {
    add({ invariant: "no_job_left_open", userId, jobId, details: { job: records.state.jobs[jobId] } });
  }
  for (const jobId of records.openJobs) add({ invariant: "no_open_job_index_left", userId, jobId, details: {} });
  for (const [jobId, job] of records.jobs) {
    if (job.state !== "delivered") {
      add({ invariant: "every_job_finished", userId, jobId, details: { job } });
      continue;
    }
    const entry = records.history.find((item) => item.jobId === jobId);
    if (entry === undefined) {
      add({ invariant: "delivered_job_in_history", userId, jobId, details: { job } });
    } else if (entry.state !== job.outcome) {
      add({ invariant: "history_matches_job", userId, jobId, details: { job, entry } });
    }
    if (job.charge.kind !== "money") continue;
    const has = (key: string) => records.ledger.has(key);
    const charged = has(`capture:${jobId}`);
    const released = has(`release:${jobId}`);
    const right = has(`hold:${jobId}`) && (job.outcome === "succeeded" ? charged && !released : released && !charged);
    if (!right) {
      const entries = [...records.ledger.values()].filter((record) => jobIdOf(record.entry) === jobId);
      add({ invariant: "job_charged_once", userId, jobId, details: { job, entries } });
    }
  }
}

/** Each Stars payment credited exactly once, to its payer, and none that Telegram reported lost. */
function checkPayments(inputs: InvariantInputs, add: Add): void {
  const { kv, payments } = inputs;
  const credits = new Map<string, number[]>();
  for (const [userId, records] of kv.users) {
    for (const key of records.ledger.keys()) {
      if (!key.startsWith("stars:")) continue;
      const chargeId = key.slice("stars:".length);
      credits.set(chargeId, [...(credits.get(chargeId) ?? []), userId]);
    }
    if (Object.keys(records.state.pendingStars).length > 0 || records.openPayments.length > 0) {
      add({
        invariant: "every_payment_recorded",
        userId,
        details: { pendingStars: records.state.pendingStars, openPayments: records.openPayments },
      });
    }
  }
  for (const [chargeId, users] of credits) {
    if (users.length > 1) add({ invariant: "payment_credited_once", details: { chargeId, creditedTo: users } });
  }
  const paid = [...kv.starsPayments.values()].filter((record) => record.status === "paid");
  if (paid.length !== credits.size) {
    add({ invariant: "credits_equal_payments", details: { paidPayments: paid.length, credits: credits.size } });
  }
  for (const record of paid) {
    const ledger = kv.users.get(record.userId)?.ledger.get(`stars:${record.chargeId}`);
    if (ledger?.amount !== record.kopecks) {
      add({ invariant: "payment_credited", userId: record.userId, details: { payment: record, credit: ledger } });
    }
  }
  for (const [chargeId, reported] of payments) {
    const record = kv.starsPayments.get(chargeId);
    if (record?.status !== "paid" || record.userId !== reported.userId || record.kopecks !== reported.kopecks) {
      add({ invariant: "payment_not_lost", userId: reported.userId, details: { chargeId, reported, record } });
    }
  }
  if (Object.keys(kv.outbox).length > 0) add({ invariant: "credit_outbox_empty", details: { outbox: kv.outbox } });
}

/** One KIE task per order; each result sent at most once, to its own user, for a job that succeeded. */
function checkResults(inputs: InvariantInputs, add: Add): void {
  const tasksByPrompt = new Map<string, string[]>();
  for (const task of inputs.tasks.values()) {
    const prompt = String((task.body.input as { prompt?: unknown } | undefined)?.prompt ?? "");
    tasksByPrompt.set(prompt, [...(tasksByPrompt.get(prompt) ?? []), task.taskId]);
  }
  for (const [prompt, taskIds] of tasksByPrompt) {
    const order = inputs.orders.get(prompt);
    if (taskIds.length > 1) {
      add({ invariant: "one_task_per_job", userId: order?.userId, jobId: order?.jobId, details: { prompt, taskIds } });
    }
  }
  for (const [url, chats] of inputs.results) {
    const taskId = inputs.taskOfUrl.get(url) ?? "";
    const task = inputs.tasks.get(taskId);
    const prompt = String((task?.body.input as { prompt?: unknown } | undefined)?.prompt ?? "");
    // The load writes whose order it is at the start of the prompt (`chaos u<user> w<wizard>`): a step that
    // stalled (its screen came late) leaves the order out of the load's list, while the bot still took it.
    const named = prompt.match(TAG);
    const order =
      inputs.orders.get(prompt) ?? (named ? { userId: Number(named[1]), jobId: named[2] ?? "" } : undefined);
    const ids = { userId: order?.userId, jobId: order?.jobId };
    if (chats.length > 1) add({ invariant: "result_delivered_once", ...ids, details: { url, sentTo: chats } });
    if (order === undefined || chats.some((chat) => chat !== order.userId)) {
      add({
        invariant: "result_to_its_user",
        ...ids,
        details: { url, sentTo: chats, prompt, model: task?.body.model },
      });
      continue;
    }
    // The job that owns the task (a prompt Telegram delivered late may have gone into the user's next wizard).
    const job = [...(inputs.kv.users.get(order.userId)?.jobs.values() ?? [])].find((each) => each.taskId === taskId);
    if ((job?.outcome ?? job?.state) !== "succeeded") {
      add({ invariant: "result_of_a_succeeded_job", ...ids, details: { url, job } });
    }
  }
}

/**
 * What users saw: every captured generation showed its result (a file of its
 * task, or a link to one); every Generate press made a job or told the user
 * why not; every button press the bot took was answered.
 */
function checkWhatUsersSaw(inputs: InvariantInputs, add: Add): void {
  const { kv, watch, orders } = inputs;
  const blockedOrders = new Set(
    [...orders.values()].filter((o) => o.blockedAfter).map((o) => `${o.userId}:${o.jobId}`),
  );
  for (const [userId, records] of kv.users) {
    const shown = new Set<string>();
    for (const call of watch.since(userId, 0)) {
      for (const url of textOf(call).match(/https:\/\/\S+/g) ?? []) shown.add(url);
    }
    for (const [url, chats] of inputs.results) if (chats.includes(userId)) shown.add(url);
    for (const [jobId, job] of records.jobs) {
      if ((job.outcome ?? job.state) !== "succeeded" || job.taskId === undefined) continue;
      // A user who blocked the bot meanwhile cannot be shown anything (the history keeps the result),
      // and a result Telegram refused in every form was given back. A delivery that reached nothing is
      // tried again, so it is the last try that counts: a delivered job's `updatedAt` is when it ended
      // (its `deliveringAt` is when it became final, long before a try after a restart or a block).
      const deliveredAt = job.state === "delivered" ? job.updatedAt : (job.deliveringAt ?? job.updatedAt);
      const blockedThen = (inputs.blockedPeriods.get(userId) ?? []).some(
        ([from, to]) => deliveredAt >= from - 1_000 && deliveredAt <= to + 1_000,
      );
      if (blockedOrders.has(`${userId}:${jobId}`) || blockedThen) continue;
      if (records.ledger.has(`undeliverable:${jobId}`)) continue;
      const success = inputs.successes.get(job.taskId);
      const urls = success?.state === "success" ? (success.urls ?? []) : [];
      // After a restart mid-delivery the result may have gone out: the user is shown its history entry instead.
      const pointed = watch.since(userId, 0).some((call) => buttonsOf(call).includes(`1|r|${job.historySeq}`));
      if (!pointed && !urls.some((url) => shown.has(url))) {
        add({ invariant: "captured_job_showed_its_result", userId, jobId, details: { job, resultUrls: urls.length } });
      }
    }
  }
  // A Generate press's price is asked after its commit: a SIGKILL right after it takes the question
  // along, and the order's queued look (5 s later) asks again, maybe after the run has stopped the bot.
  // Only orders pressed just before a kill are excused. The load notes a press when the webhook's 200 is
  // back, so a kill sent a moment before that note may still have come after the bot took the press.
  const justBeforeKill = (at: number) => inputs.kills.some((kill) => Math.abs(kill - at) < KILL_WINDOW_MS);
  for (const order of orders.values()) {
    if (kv.users.get(order.userId)?.jobs.has(order.jobId)) continue;
    // Why there is no job: on the screen (not enough money, too many running) or in the press's answer.
    const toldOnScreen = watch
      .since(order.userId, order.since)
      .some((call) => ORDER_REFUSALS.some((part) => textOf(call).includes(part)));
    const toldInAnswer = order.queries.some((query) => String(watch.answerOf(query)?.payload.text ?? "") !== "");
    const pressedAt = order.queries.map((query) => inputs.presses.get(query)?.at ?? 0);
    // A user who had the bot blocked soon after the press cannot be told (Telegram answers 403).
    const periods = inputs.blockedPeriods.get(order.userId) ?? [];
    const blockedSoonAfter = pressedAt.some((at) =>
      periods.some(([from, to]) => to >= at && from <= at + ORDER_ANSWER_MS),
    );
    if (!toldOnScreen && !toldInAnswer && !pressedAt.some(justBeforeKill) && !blockedSoonAfter) {
      // Evidence: what the user was shown after the press, and how the presses were answered.
      const shown = watch
        .since(order.userId, order.since)
        .slice(0, 12)
        .map((call) => `${call.method}: ${textOf(call).slice(0, 100)} ${buttonsOf(call).join(" ")}`);
      const answers = order.queries.map((query) => watch.answerOf(query)?.payload ?? null);
      const ordering = kv.users.get(order.userId)?.state.ordering;
      add({
        invariant: "generate_made_a_job_or_a_refusal",
        userId: order.userId,
        jobId: order.jobId,
        details: { order, shown, answers, pressedAt, ordering, blockedPeriods: periods },
      });
    }
  }
  // Every press the bot took is answered (the answer goes out before the turn's commit).
  for (const [queryId, press] of inputs.presses) {
    if (!watch.answered(queryId)) {
      add({ invariant: "button_press_answered", userId: press.userId, details: { queryId } });
    }
  }
}

const NOT_MODIFIED = /message is not modified/;
/** How long after a Generate press its job or refusal comes at the latest (the order's looks, half a minute). */
const ORDER_ANSWER_MS = 35_000;
/** How close to a SIGKILL (either side of the load's note of it) a Generate press may be lost with its turn. */
const KILL_WINDOW_MS = 1_000;

/** Edits Telegram answered "message is not modified" (see `checkPeersAccepted`). */
export function editsFoundUnchanged(refusals: readonly RefusalRecord[]): number {
  return refusals.filter((refusal) => NOT_MODIFIED.test(refusal.description)).length;
}

/** Telegram and KIE took every call: the bot sends nothing their documented rules refuse. */
function checkPeersAccepted(inputs: InvariantInputs, add: Add): void {
  for (const refusal of inputs.botApiRefusals) {
    if (refusal.status !== 400) continue;
    // A callback answer names no chat: its press does.
    const query = refusal.summary.match(/callback_query_id=(\S+)/)?.[1];
    // A press delivered again (after a SIGKILL, or a lost 200) is answered again, and Telegram refuses
    // the repeat. The user saw the first.
    if (query !== undefined && refusal.method === "answerCallbackQuery" && inputs.watch.answered(query)) continue;
    // Telegram saying an edit changed nothing: the bot skips every such edit it can know of, and sends
    // the rest (a message changed by a turn it has not seen, or before a restart) rather than leave a
    // stale screen. Counted in the results (`outcomes.editsTelegramFoundUnchanged`), not a violation.
    if (NOT_MODIFIED.test(refusal.description)) continue;
    // A Stars refund whose answer was lost is settled by asking again: "already refunded" is the answer that says
    // it was done. The money invariants check that each charge was refunded at most once and debited once.
    if (refusal.method === "refundStarPayment" && /CHARGE_ALREADY_REFUNDED/.test(refusal.description)) continue;
    const userId = refusal.chatId ?? (query === undefined ? undefined : inputs.presses.get(query)?.userId);
    add({ invariant: "telegram_accepted_every_call", userId, details: refusal });
  }
  for (const refusal of inputs.kieRefusals) add({ invariant: "kie_accepted_every_request", details: refusal });
}

function jobIdOf(entry: { readonly type: string }): string | undefined {
  return "jobId" in entry ? String(entry.jobId) : undefined;
}
