/**
 * The user actor's jobs, pure: confirming an order (hold or free
 * reservation, job record), following its task (polls, callbacks, status),
 * settling it (capture or release, history entry) and delivering it once.
 * Every step's KV writes go into the same commit as the actor's state; its
 * effects run only after that commit (see `actors/host.ts`).
 */
import type { Update } from "grammy/types";
import type { KvWrite } from "../../actors/mod.ts";
import type { EndpointFamily } from "../../catalog/schema.ts";
import { jobCostWrites } from "../jobs/cost.ts";
import { HISTORY_LIMIT, historyEntryOf } from "../jobs/history.ts";
import {
  isActive,
  type Job,
  type JobDeadlines,
  type JobInput,
  type JobRecord,
  type JobResult,
  type JobState,
  pollDelayMs,
  settlementOf,
  transition,
} from "../jobs/job.ts";
import {
  type DeadlineDue,
  type DeliveryDue,
  historyKey,
  jobKey,
  ledgerKey,
  type OrderDue,
  openJobKey,
  type PollDue,
  type ResumeDue,
  resultKey,
  TASK_INDEX_TTL_MS,
  taskKey,
} from "../jobs/keys.ts";
import { JOB_RECORD_BUDGET, MAX_RESULT_CHUNKS, serializedSize } from "../jobs/kv-size.ts";
import { joinResult, MAX_RESULT_URL, splitResult } from "../jobs/result.ts";
import type { TaskStatus } from "../kie/task-status.ts";
import { type FreeRules, reserveFree, settleFree } from "../ledger/free-quota.ts";
import { applyEntry } from "../ledger/ledger.ts";
import { decodeAction } from "./callback-data.ts";
import type { UserState, Wizard } from "./state.ts";
import type { UserTurn } from "./turn-parts.ts";
import type { BotEffect, StatusVia, Target } from "./views.ts";

/** The rules a user's jobs and bonuses follow in this deployment. */
export interface UserRules {
  readonly free: FreeRules;
  readonly deadlines: JobDeadlines;
  /** The first poll's delay; later ones double up to twenty times it. */
  readonly pollFirstMs: number;
  /** Jobs one user may have running at once. */
  readonly maxOpenJobs: number;
  /** Free generations an inviter and an invitee each get for a referral. */
  readonly referralBonus: number;
  /** Kopecks credited once to every new user (0: no gift). */
  readonly welcomeGiftKopecks: number;
  /** Telegram user ids allowed to use the admin commands. */
  readonly adminIds: readonly number[];
  /** This instance (jobs name the instance performing their slow step). */
  readonly instanceId: string;
}

/** A Telegram update as the user actor receives it. */
type UserUpdate = { readonly type: "update"; readonly update: Update };

/** What a user actor's turn may read besides state and message. */
export interface UserContext {
  readonly userId: number;
  readonly now: number;
  readonly rules: UserRules;
  /**
   * The input (prompts, parameters, files) of the open jobs this message
   * may move, read from their records before the turn (see `jobRecordReads`):
   * a job's record is rewritten with it. A job missing here is written without it.
   */
  readonly jobInputs?: ReadonlyMap<string, JobInput>;
}

/** The price of an order, as the shell found it in the catalog. */
export type QuoteOutcome =
  | {
      readonly ok: true;
      readonly kopecks: number;
      readonly free: boolean;
      /** What KIE charges for it, in credits (recorded with the job: /stats, the KIE balance alert). */
      readonly credits?: number;
      /** A free option that is charged `kopecks` once the day's free quota is used up. */
      readonly paidAfterFree?: boolean;
      readonly output: Job["output"];
    }
  | { readonly ok: false; readonly code: "unknown_model" | "invalid_params" | "price_unresolved" };

/** Messages about jobs, from the shell, the KV queue, KIE's callback route and the start-up scan. */
export type JobMessage =
  | { readonly type: "quoted"; readonly wizardId: string; readonly target: Target; readonly quote: QuoteOutcome }
  | { readonly type: "submitted"; readonly jobId: string; readonly taskId: string; readonly family: EndpointFamily }
  | { readonly type: "submitFailed"; readonly jobId: string; readonly code: string }
  | { readonly type: "poll"; readonly jobId: string; readonly seq: number }
  | { readonly type: "callback"; readonly jobId: string }
  | {
      readonly type: "status";
      readonly jobId: string;
      readonly via: StatusVia;
      readonly seq: number;
      readonly status: TaskStatus;
    }
  | {
      readonly type: "statusFailed";
      readonly jobId: string;
      readonly via: StatusVia;
      readonly seq: number;
      readonly code: string;
    }
  | { readonly type: "statusShown"; readonly jobId: string; readonly messageId: number }
  | {
      readonly type: "delivered";
      readonly jobId: string;
      readonly undeliverable?: boolean;
      /** Nothing reached the user, on errors that may pass (Telegram down or flooded, the bot blocked). */
      readonly unsent?: boolean;
    }
  /** Another try at a delivery that reached nothing (queued by {@link onDelivered}). */
  | { readonly type: "deliveryDue"; readonly jobId: string; readonly attempt: number }
  /** The job's deadline fell due (queued with the job): it ends now if it has not. */
  | { readonly type: "deadline"; readonly jobId: string }
  /** The look at a Generate press's order, queued with the press (see {@link confirmOrder}). */
  | { readonly type: "orderDue"; readonly wizardId: string; readonly target: Target; readonly look?: number }
  /** Take over open jobs; `live` are the instances alive now, whose jobs are left to them. */
  | { readonly type: "resume"; readonly live?: readonly string[] };

/** Error codes of jobs that fail on our side (KIE codes come from `KieError`). */
export const JOB_FAILURES = {
  /** The process stopped between creating a job and recording its task: KIE's side is unknown. */
  interrupted: "interrupted",
  /** KIE reported success without any result. */
  emptyResult: "empty_result",
} as const;

/**
 * The open jobs whose records a message may rewrite: their input
 * (prompts, parameters, files) is read from KV before the turn, since the
 * actor's state does not keep it. Pure; the same answer for the same state.
 */
export function jobRecordReads(
  state: UserState,
  message: JobMessage | UserUpdate | { readonly type: string },
): string[] {
  const known = (jobId: string) => (state.jobs[jobId] === undefined ? [] : [jobId]);
  const m = message as JobMessage | UserUpdate;
  switch (m.type) {
    case "update": {
      // The Cancel button of a job.
      const action = decodeAction(m.update.callback_query?.data);
      return action?.a === "cancelJob" ? known(action.job) : [];
    }
    case "submitted":
    case "submitFailed":
    case "poll":
    case "status":
    case "statusFailed":
    case "delivered":
    case "deliveryDue":
    case "deadline":
      return known(m.jobId);
    case "resume":
      return Object.keys(state.jobs);
    default:
      return [];
  }
}

/** Jobs still waiting for KIE. */
export function openJobCount(state: UserState): number {
  return Object.values(state.jobs).filter(isActive).length;
}

/** How long after a Generate press its order is looked at again, in case the price never came back. */
export const ORDER_CHECK_MS = 5_000;

/**
 * The Generate button of wizard `wizard`: checks what needs no catalog,
 * then asks the shell for the price. The price comes back in a later turn
 * ("quoted"), so the press is remembered (`ordering`) and a look at the
 * order is queued with it: a crash in between does not lose the order.
 */
export function confirmOrder(state: UserState, wizard: Wizard, target: Target, ctx: UserContext): UserTurn | string {
  if (state.blocked) return "job-blocked";
  if (openJobCount(state) >= ctx.rules.maxOpenJobs) return "job-too-many";
  // An earlier order still waiting for its price is replaced (its price will place nothing): its user is told.
  const replaced = state.ordering !== undefined && state.ordering !== wizard.id ? [orderNotPlaced(state, target)] : [];
  return {
    state: { ...state, ordering: wizard.id },
    writes: [orderLookWrite(wizard.id, target, 0, ctx)],
    effects: [...replaced, { type: "quote", target, lang: state.lang, wizard }],
  };
}

/** The KV queue message of the `look`-th look at an order (0: the one queued with the press). */
function orderLookWrite(wizardId: string, target: Target, look: number, ctx: UserContext): KvWrite {
  const due: OrderDue = {
    t: "order",
    userId: ctx.userId,
    wizardId,
    chatId: target.chatId,
    ...(target.messageId === undefined ? {} : { messageId: target.messageId }),
    ...(look === 0 ? {} : { look }),
  };
  return { op: "enqueue", value: due, delay: ORDER_CHECK_MS };
}

/**
 * An order waiting for its price is listed among the open jobs (under the
 * id its job will have), so every start and every takeover of a gone
 * instance resumes it: its looks are KV queue messages, which KV drops
 * after a few failed deliveries (a process killed while handling one, or
 * stopping). The entry goes when the order ends without a job; a job keeps
 * it until it finishes.
 */
export function withOrderIndex(before: UserState, turn: UserTurn, userId: number): UserTurn {
  const after = turn.state;
  if (before.ordering === after.ordering) return turn;
  const writes: KvWrite[] = [];
  if (after.ordering !== undefined) writes.push({ op: "set", key: openJobKey(userId, after.ordering), value: true });
  if (before.ordering !== undefined && after.jobs[before.ordering] === undefined) {
    writes.push({ op: "delete", key: openJobKey(userId, before.ordering) });
  }
  return { ...turn, writes: [...(turn.writes ?? []), ...writes] };
}

/** Looks at one order at most: half a minute of asking for a price that never comes back. */
export const MAX_ORDER_LOOKS = 6;

/**
 * The order check: a press whose price never came back (a crash in
 * between) asks for it again, and queues the next look in the same commit,
 * since that question may be lost to the next crash as well; the looks end
 * once the order has its answer (a job or a refusal: `ordering` cleared).
 * An order that can no longer be placed (the user has left its wizard, or
 * the last look came and still no price) is given up, and the user is told
 * so rather than left waiting for a job that will never come.
 */
function onOrderDue(state: UserState, wizardId: string, target: Target, look: number, ctx: UserContext): UserTurn {
  const wizard = state.wizard;
  if (state.ordering !== wizardId) return { state };
  const given = withoutOrdering(state);
  if (state.jobs[wizardId] !== undefined) return { state: given };
  if (wizard?.id !== wizardId) return toldFirst(given, orderNotPlaced(given, target));
  if (look + 1 >= MAX_ORDER_LOOKS) {
    const notice = { key: "order-not-placed" };
    return toldFirst(given, { type: "show", target, lang: state.lang, view: { kind: "wizard", wizard }, notice });
  }
  return {
    state,
    writes: [orderLookWrite(wizardId, target, look + 1, ctx)],
    effects: [{ type: "quote", target, lang: state.lang, wizard }],
  };
}

/**
 * Tells the user an order of a wizard they have left was not placed: in a
 * message of its own, since the order's screen may show something else now.
 */
function orderNotPlaced(state: UserState, target: Target): BotEffect {
  const notice = { key: "order-not-placed" };
  return { type: "show", target: { chatId: target.chatId }, lang: state.lang, view: { kind: "notice" }, notice };
}

/**
 * A turn that ends an order without a job: the user is told before the
 * commit that clears `ordering`, so a crash in between leaves the order to
 * its next look, which tells them again, rather than a commit whose notice
 * died with the process (at least once, never silence).
 */
function toldFirst(state: UserState, notice: BotEffect): UserTurn {
  return { state, immediate: [notice] };
}

function withoutOrdering(state: UserState): UserState {
  const { ordering: _answered, ...rest } = state;
  return rest;
}

/** Handles a job message. */
export function receiveJobMessage(state: UserState, message: JobMessage, ctx: UserContext): UserTurn {
  switch (message.type) {
    case "quoted":
      return createJob(state, message.wizardId, message.target, message.quote, ctx);
    case "submitted": {
      const job = state.jobs[message.jobId];
      // A job canceled while its task was being created stays canceled; KIE's result is not used.
      if (job === undefined || job.state !== "created") return { state };
      const submitted = transition(job, "submitted", ctx.now, { taskId: message.taskId, family: message.family });
      return withJob(state, submitted, ctx, {
        writes: [
          {
            op: "set",
            key: taskKey(message.taskId),
            value: { userId: ctx.userId, jobId: job.id },
            expireIn: TASK_INDEX_TTL_MS,
          },
          pollWrite(submitted, ctx),
        ],
        effects: [{ type: "progress", job: submitted, now: ctx.now }],
      });
    }
    case "submitFailed": {
      const job = state.jobs[message.jobId];
      if (job === undefined || job.state !== "created") return { state };
      return finish(state, job, "failed", ctx, { failure: { code: message.code, message: message.code } });
    }
    case "poll": {
      const job = state.jobs[message.jobId];
      // Queues deliver at least once: only the poll the job is waiting for counts.
      if (job === undefined || job.state !== "submitted" || message.seq !== job.polls) return { state };
      if (ctx.now >= job.deadlineAt) return finish(state, job, "timed_out", ctx);
      return { state, effects: [{ type: "checkStatus", job, via: "poll", seq: job.polls }] };
    }
    case "callback": {
      const job = state.jobs[message.jobId];
      if (job === undefined || job.state !== "submitted") return { state };
      return { state, effects: [{ type: "checkStatus", job, via: "callback", seq: job.polls }] };
    }
    case "status":
      return onStatus(state, message, ctx);
    case "statusFailed": {
      const job = state.jobs[message.jobId];
      if (job === undefined || job.state !== "submitted") return { state };
      if (message.code === "not_found") {
        return finish(state, job, "failed", ctx, { failure: { code: message.code, message: "task not found" } });
      }
      if (ctx.now >= job.deadlineAt) return finish(state, job, "timed_out", ctx);
      return nextPoll(state, job, message.via, message.seq, ctx);
    }
    case "statusShown": {
      const job = state.jobs[message.jobId];
      if (job === undefined) return { state };
      return {
        state: { ...state, jobs: { ...state.jobs, [job.id]: { ...job, statusMessageId: message.messageId } } },
        volatile: true,
      };
    }
    case "delivered":
      return onDelivered(state, message.jobId, message.undeliverable === true, message.unsent === true, ctx);
    case "resume":
      return resume(state, message.live ?? [], ctx);
    case "deadline":
      return onDeadline(state, message.jobId, ctx);
    case "orderDue":
      return onOrderDue(state, message.wizardId, message.target, message.look ?? 0, ctx);
    case "deliveryDue":
      return onDeliveryDue(state, message.jobId, message.attempt, ctx);
  }
}

/**
 * The job's deadline: a job still open then times out and its hold is
 * released, whatever happened to its polls (a status read that never came
 * back, a turn or a commit that failed). Early (clocks differ): queued again.
 */
function onDeadline(state: UserState, jobId: string, ctx: UserContext): UserTurn {
  const job = state.jobs[jobId];
  if (job === undefined || !isActive(job)) return { state };
  if (ctx.now >= job.deadlineAt) return finish(state, job, "timed_out", ctx);
  return { state, writes: [deadlineWrite(job, ctx)] };
}

/** The KV queue message of the job's deadline, due at its `deadlineAt`. */
function deadlineWrite(job: Job, ctx: UserContext): KvWrite {
  const due: DeadlineDue = { t: "deadline", userId: ctx.userId, jobId: job.id };
  return { op: "enqueue", value: due, delay: Math.max(0, job.deadlineAt - ctx.now) };
}

/** The job's record: the job with its input (prompts, parameters, files) from `ctx.jobInputs`. */
function recordOf(job: Job, ctx: UserContext): JobRecord {
  const input = ctx.jobInputs?.get(job.id);
  return { ...job, params: input?.params ?? {}, media: input?.media ?? {} };
}

/** The Cancel button of a job: releases its hold; a late result from KIE is ignored. */
export function cancelJob(state: UserState, jobId: string, ctx: UserContext): UserTurn | undefined {
  const job = state.jobs[jobId];
  if (job === undefined || !isActive(job)) return undefined;
  return finish(state, job, "canceled", ctx);
}

function createJob(
  pressed: UserState,
  wizardId: string,
  target: Target,
  quote: QuoteOutcome,
  ctx: UserContext,
): UserTurn {
  // A price for an order already answered (by a job, a refusal, or given up and the user told
  // nothing was charged) places nothing.
  if (pressed.ordering !== wizardId) return { state: pressed };
  // The price came back: the press is answered, by a job or a notice.
  const state = withoutOrdering(pressed);
  const wizard = state.wizard;
  // Another press of the same Generate button got here first.
  if (state.jobs[wizardId] !== undefined) return { state };
  if (wizard === undefined || wizard.id !== wizardId) {
    // The user left the wizard while its price was asked: the order this answers is not placed, and they are told.
    return toldFirst(state, orderNotPlaced(state, target));
  }
  const notice = (key: string, args?: Record<string, string | number>): UserTurn =>
    toldFirst(state, {
      type: "show",
      target,
      lang: state.lang,
      view: { kind: "wizard", wizard },
      notice: { key, ...(args ? { args } : {}) },
    });
  if (state.blocked) return notice("job-blocked");
  if (!quote.ok) return notice(quote.code === "invalid_params" ? "job-invalid-params" : "job-no-price");
  if (openJobCount(state) >= ctx.rules.maxOpenJobs) return notice("job-too-many");

  const { now, userId } = ctx;
  const writes: KvWrite[] = [];
  let wallet = state.wallet;
  let charge: Job["charge"];
  const reserved = quote.free ? reserveFree(wallet, wizard.id, now, ctx.rules.free) : undefined;
  const refusal = reserved?.ok === false ? reserved.refusal : undefined;
  if (refusal?.code === "already_reserved") return { state };
  if (refusal !== undefined && !quote.paidAfterFree) {
    const minutes = Math.max(1, Math.ceil((refusal.renewsAt - now) / 60_000));
    return notice("job-free-exhausted", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  }
  if (reserved?.ok) {
    wallet = reserved.wallet;
    charge = { kind: "free", source: reserved.source };
  } else {
    // A paid option, or a free one past the day's quota that is charged its price.
    const held = applyEntry(
      wallet,
      { type: "hold", key: `hold:${wizard.id}`, jobId: wizard.id, amount: quote.kopecks, reason: wizard.modelId },
      now,
    );
    if (!held.ok) {
      if (held.refusal.code === "insufficient_funds") {
        const view = { kind: "shortfall", wizardId: wizard.id, shortfallKopecks: held.refusal.shortfall } as const;
        return toldFirst(state, { type: "show", target, lang: state.lang, view });
      }
      return notice("job-no-price");
    }
    wallet = held.wallet;
    charge = { kind: "money", amount: quote.kopecks };
    writes.push({ op: "set", key: ledgerKey(userId, held.record.entry.key), value: held.record });
  }
  const job: Job = {
    id: wizard.id,
    userId,
    chatId: target.chatId,
    lang: state.lang,
    modelId: wizard.modelId,
    output: quote.output,
    charge,
    ...(quote.credits === undefined ? {} : { credits: quote.credits }),
    state: "created",
    createdAt: now,
    updatedAt: now,
    deadlineAt: now + ctx.rules.deadlines[quote.output],
    polls: 0,
    instance: ctx.rules.instanceId,
    ...(target.messageId === undefined ? {} : { statusMessageId: target.messageId }),
  };
  const record: JobRecord = {
    ...job,
    params: { ...wizard.values },
    media: Object.fromEntries(Object.entries(wizard.media).map(([field, items]) => [field, [...items]])),
  };
  // The wizard keeps its answers within budget; a record over its own (files on top) is refused, never half-written.
  if (serializedSize(record) > JOB_RECORD_BUDGET) return notice("job-invalid-params");
  writes.push(
    { op: "set", key: jobKey(userId, job.id), value: record },
    { op: "set", key: openJobKey(userId, job.id), value: true },
    deadlineWrite(job, ctx),
  );
  return {
    state: { ...state, wallet, wizard: undefined, jobs: { ...state.jobs, [job.id]: job } },
    writes,
    effects: [
      { type: "progress", job, now },
      { type: "submit", job: record },
    ],
  };
}

function onStatus(state: UserState, message: Extract<JobMessage, { type: "status" }>, ctx: UserContext): UserTurn {
  const job = state.jobs[message.jobId];
  if (job === undefined || job.state !== "submitted") return { state };
  const status = message.status;
  switch (status.state) {
    case "succeeded": {
      const urls = status.urls.filter((url) => url.length <= MAX_RESULT_URL);
      // Only what the model's kind of output delivers counts: a text beside no image is no image.
      const text = job.output === "text" ? (status.text ?? "") : "";
      if (urls.length === 0 && text.trim() === "") {
        const failure = { code: JOB_FAILURES.emptyResult, message: "KIE reported success without a result" };
        return finish(state, job, "failed", ctx, { failure });
      }
      return finish(state, job, "succeeded", ctx, {
        result: { urls, ...(status.text === undefined ? {} : { text: status.text }) },
      });
    }
    case "failed":
      return finish(state, job, "failed", ctx, {
        failure: { code: status.failCode ?? "generation_failed", message: status.failMessage ?? "" },
      });
    default:
      if (ctx.now >= job.deadlineAt) return finish(state, job, "timed_out", ctx);
      return nextPoll(state, job, message.via, message.seq, ctx, true);
  }
}

/**
 * Schedules the next poll after a status read of a scheduled poll; reads
 * for callbacks leave the poll chain as it is.
 */
function nextPoll(
  state: UserState,
  job: Job,
  via: StatusVia,
  seq: number,
  ctx: UserContext,
  progress = false,
): UserTurn {
  const effects: BotEffect[] = progress ? [{ type: "progress", job, now: ctx.now }] : [];
  if (via !== "poll" || seq !== job.polls) return { state, effects };
  const polled: Job = { ...job, polls: job.polls + 1 };
  return withJob(state, polled, ctx, { writes: [pollWrite(polled, ctx)], effects });
}

/** The KV queue message of the job's next poll. */
function pollWrite(job: Job, ctx: UserContext): KvWrite {
  const due: PollDue = { t: "poll", userId: ctx.userId, jobId: job.id, seq: job.polls };
  return {
    op: "enqueue",
    value: due,
    delay: pollDelayMs(job.polls, jitterOf(job.id, job.polls), ctx.rules.pollFirstMs),
  };
}

/** A stable number in [0, 1) per job and poll, so jobs created together spread their polls. */
function jitterOf(jobId: string, seq: number): number {
  let hash = 2_166_136_261 ^ seq;
  for (let i = 0; i < jobId.length; i++) hash = Math.imul(hash ^ jobId.charCodeAt(i), 16_777_619);
  return (hash >>> 0) / 2 ** 32;
}

/** Longest failure message kept from KIE (it is logged and shown nowhere else). */
const MAX_FAILURE_MESSAGE = 500;

/**
 * Moves a job to a final state: settles its money or free generation,
 * writes its history entry, its result records and marks it as being
 * delivered, all in one commit; delivery is the effect after it.
 */
function finish(
  state: UserState,
  job: Job,
  to: Exclude<JobState, "created" | "submitted" | "delivered">,
  ctx: UserContext,
  patch: { readonly result?: JobResult; readonly failure?: NonNullable<Job["failure"]> } = {},
): UserTurn {
  const { now, userId } = ctx;
  const seq = state.historySeq;
  const split = patch.result === undefined ? undefined : splitResult(job.id, patch.result);
  const final = transition(job, to, now, {
    deliveringAt: now,
    historySeq: seq,
    instance: ctx.rules.instanceId,
    ...(split === undefined ? {} : { resultChunks: split.chunks.length }),
    ...(patch.failure === undefined
      ? {}
      : { failure: { code: patch.failure.code, message: patch.failure.message.slice(0, MAX_FAILURE_MESSAGE) } }),
  });
  const record = recordOf(final, ctx);
  const writes: KvWrite[] = [];
  let wallet = state.wallet;
  const settlement = settlementOf(final);
  if (settlement?.kind === "ledger") {
    const applied = applyEntry(wallet, settlement.entry, now);
    // A refusal here means the entry was applied before (duplicate): nothing more to do.
    if (applied.ok) {
      wallet = applied.wallet;
      writes.push({ op: "set", key: ledgerKey(userId, settlement.entry.key), value: applied.record });
    }
  } else if (settlement?.kind === "free") {
    wallet = settleFree(wallet, job.id, settlement.outcome, now, ctx.rules.free);
  }
  for (const [i, chunk] of (split?.chunks ?? []).entries()) {
    writes.push({ op: "set", key: resultKey(userId, seq, i), value: chunk });
  }
  writes.push({ op: "set", key: historyKey(userId, seq), value: historyEntryOf(record, seq, now) });
  writes.push(...jobCostWrites(final));
  if (seq >= HISTORY_LIMIT) {
    const old = seq - HISTORY_LIMIT;
    writes.push({ op: "delete", key: historyKey(userId, old) });
    for (let i = 0; i < MAX_RESULT_CHUNKS; i++) writes.push({ op: "delete", key: resultKey(userId, old, i) });
  }
  const result = split === undefined ? undefined : joinResult(job.id, split.chunks);
  return withJob({ ...state, wallet, historySeq: seq + 1 }, final, ctx, {
    writes,
    effects: [{ type: "deliver", job: record, resumed: false, ...(result === undefined ? {} : { result }) }],
  });
}

/**
 * Deliveries of one job at most, the first included. A delivery that
 * reached nothing, only on errors that may pass (Telegram down or flooded,
 * a user who blocked the bot and may unblock it), is tried again after the
 * jobs' one backoff (that of polls, from the first poll's delay doubling to
 * twenty times it: about five minutes in all with 3 s first polls). Past
 * that the job ends all the same, since a user who blocked the bot may never
 * come back and the job must not stay open for ever: its result stays in the
 * history, its money captured. A user Telegram says is gone for good (a
 * deleted account) or a chat it does not know is not tried again at all.
 */
export const MAX_DELIVERY_ATTEMPTS = 10;

function onDelivered(
  state: UserState,
  jobId: string,
  undeliverable: boolean,
  unsent: boolean,
  ctx: UserContext,
): UserTurn {
  const job = state.jobs[jobId];
  if (job === undefined || isActive(job) || job.state === "delivered") return { state };
  const failed = (job.deliveries ?? 0) + 1;
  if (unsent && failed < MAX_DELIVERY_ATTEMPTS) {
    // This instance owns the next try: a resume for another instance's jobs leaves it alone.
    const waiting: Job = { ...job, deliveries: failed, instance: ctx.rules.instanceId };
    const due: DeliveryDue = { t: "delivery", userId: ctx.userId, jobId, attempt: failed };
    const delay = pollDelayMs(failed - 1, jitterOf(jobId, failed), ctx.rules.pollFirstMs);
    return withJob(state, waiting, ctx, { writes: [{ op: "enqueue", value: due, delay }], effects: [] });
  }
  const delivered = transition(job, "delivered", ctx.now);
  const { [jobId]: _gone, ...jobs } = state.jobs;
  const writes: KvWrite[] = [
    { op: "set", key: jobKey(ctx.userId, jobId), value: recordOf(delivered, ctx) },
    { op: "delete", key: openJobKey(ctx.userId, jobId) },
  ];
  let wallet = state.wallet;
  // A result no one could send (every URL refused) is given back.
  if (undeliverable && job.state === "succeeded" && job.charge.kind === "money") {
    const key = `undeliverable:${jobId}`;
    const reason = `${job.modelId}: result could not be delivered`;
    const applied = applyEntry(wallet, { type: "adjustment", key, amount: job.charge.amount, reason }, ctx.now);
    if (applied.ok) {
      wallet = applied.wallet;
      writes.push({ op: "set", key: ledgerKey(ctx.userId, key), value: applied.record });
      // The job's revenue is given back; its cost stays (KIE made the result).
      writes.push(...jobCostWrites(job, job.charge.amount));
    }
  }
  return { state: { ...state, wallet, jobs }, writes };
}

/**
 * A queued try at a delivery that reached nothing: the job, if it still
 * waits for this very try, is told again, by a pointer to its history entry
 * (part of the result may have gone out before).
 */
function onDeliveryDue(state: UserState, jobId: string, attempt: number, ctx: UserContext): UserTurn {
  const job = state.jobs[jobId];
  if (job === undefined || isActive(job) || job.state === "delivered") return { state };
  if ((job.deliveries ?? 0) !== attempt) return { state };
  return { state, effects: [{ type: "deliver", job: recordOf(job, ctx), resumed: true }] };
}

/** How long a resume waits before it looks again at a job another live instance performs. */
export const RESUME_RECHECK_MS = 30_000;

/**
 * After a restart: a job without a task cannot be trusted to exist at KIE
 * (its creation may or may not have arrived), so it fails and releases; a
 * submitted job is read at once and its poll chain restarted; a final job
 * whose delivery was under way is not sent again.
 *
 * A job being submitted or delivered by another instance that is alive
 * (several instances on one KV) is left to it, and looked at again later.
 */
function resume(state: UserState, live: readonly string[], ctx: UserContext): UserTurn {
  let next = state;
  const writes: KvWrite[] = [];
  const effects: BotEffect[] = [];
  let recheck = false;
  for (const job of Object.values(state.jobs)) {
    let turn: UserTurn;
    // A job of this very instance is under way here (a start has a new instance id, so these come from a later
    // look, queued for another instance's jobs): its submission or delivery will tell the actor how it went.
    if (job.instance === ctx.rules.instanceId && job.state !== "submitted") continue;
    const elsewhere = job.instance !== undefined && live.includes(job.instance);
    if (elsewhere && job.state !== "submitted") {
      recheck = true;
      continue;
    }
    if (job.state === "created") {
      turn = finish(next, job, "failed", ctx, { failure: { code: JOB_FAILURES.interrupted, message: "restart" } });
    } else if (job.state === "submitted") {
      // A new sequence number makes any poll still queued from before a duplicate.
      const polled: Job = { ...job, polls: job.polls + 1 };
      turn = withJob(next, polled, ctx, {
        // Its deadline is queued again: a job from before deadlines were queued gets one too.
        writes: [pollWrite(polled, ctx), deadlineWrite(polled, ctx)],
        effects: [{ type: "checkStatus", job: polled, via: "resume", seq: polled.polls }],
      });
    } else {
      turn = { state: next, effects: [{ type: "deliver", job: recordOf(job, ctx), resumed: true }] };
    }
    next = turn.state;
    writes.push(...(turn.writes ?? []));
    effects.push(...(turn.effects ?? []));
  }
  if (recheck) {
    const due: ResumeDue = { t: "resume", userId: ctx.userId };
    writes.push({ op: "enqueue", value: due, delay: RESUME_RECHECK_MS });
  }
  // An order still waiting for its price (its looks may have been dropped): looked at again.
  if (next.ordering !== undefined && next.jobs[next.ordering] === undefined) {
    writes.push(orderLookWrite(next.ordering, { chatId: ctx.userId }, 0, ctx));
  }
  return { state: next, writes, effects };
}

/** The state with `job` in it and its KV record (with its input) written alongside. */
function withJob(
  state: UserState,
  job: Job,
  ctx: UserContext,
  turn: { readonly writes: readonly KvWrite[]; readonly effects: readonly BotEffect[] },
): UserTurn {
  return {
    state: { ...state, jobs: { ...state.jobs, [job.id]: job } },
    writes: [{ op: "set", key: jobKey(ctx.userId, job.id), value: recordOf(job, ctx) }, ...turn.writes],
    effects: turn.effects,
  };
}
