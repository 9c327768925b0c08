/**
 * Where jobs, their indexes, history and ledger entries live in KV, and the
 * KV queue message that drives polling. Everything here is written in the
 * user actor's commit, so it never disagrees with the actor's state.
 */
import { z } from "zod";
import type { KvKey } from "../platform/types.ts";

/** A job record: the state of one generation (mirrors the user actor's copy). */
export const jobKey = (userId: number, jobId: string): KvKey => ["job", userId, jobId];

/** Who owns a KIE task: read by the callback route. */
export const taskKey = (taskId: string): KvKey => ["task", taskId];

/** Present while a job is not delivered: the start-up scan resumes these users. */
export const openJobKey = (userId: number, jobId: string): KvKey => ["open_job", userId, jobId];

/** The prefix of every open job (for the start-up scan). */
export const OPEN_JOBS: KvKey = ["open_job"];

/** The prefix of Stars payments a user's actor has not yet handed to the payment actor. */
export const OPEN_PAYMENTS: KvKey = ["open_payment"];

/**
 * One record of a finished job's result, `chunk` counting from 0 (see
 * `src/jobs/result.ts`). Keyed by the job's history entry, whose life it shares.
 */
export const resultKey = (userId: number, seq: number, chunk: number): KvKey => ["result", userId, seq, chunk];

/** A history entry; `seq` counts up from 0 per user. */
export const historyKey = (userId: number, seq: number): KvKey => ["history", userId, seq];

/** An applied ledger entry, by its idempotency key. */
export const ledgerKey = (userId: number, key: string): KvKey => ["ledger", userId, key];

/**
 * A finished job's cost and revenue (`src/jobs/cost.ts`), under the UTC day
 * number of its order (`floor(createdAt / 86,400,000)`): /stats and the KIE
 * balance alert read the last days' prefixes, never every job ever made.
 */
export const jobCostKey = (day: number, userId: number, jobId: string): KvKey => ["job_cost", day, userId, jobId];

/** The prefix of every job cost record. */
export const JOB_COSTS: KvKey = ["job_cost"];

/** How long a job cost record is kept: past the 7 days /stats and the balance alert look back. */
export const JOB_COST_TTL_MS = 10 * 24 * 3_600_000;

/** Whether KIE's balance is below its alert threshold now, and which crossing below it this is. */
export const KIE_BALANCE_ALERT: KvKey = ["kie_balance_alert"];

/** The alert of crossing `crossing` to one admin: the idempotency key of that message. */
export const kieBalanceNoticeKey = (crossing: number, adminId: number): KvKey => [
  "kie_balance_notice",
  crossing,
  adminId,
];

/** How long an alert's record is kept: a balance still low a month later is told again. */
export const KIE_BALANCE_NOTICE_TTL_MS = 30 * 24 * 3_600_000;

/** How long the task index outlives its job (duplicate callbacks arrive for a while). */
export const TASK_INDEX_TTL_MS = 3 * 24 * 3_600_000;

/** The owner of a task, as the task index stores it. */
export const TaskOwner = z.object({ userId: z.number().int(), jobId: z.string() });
export type TaskOwner = z.infer<typeof TaskOwner>;

/**
 * A poll due for a job, delivered by the KV queue. `seq` is the job's poll
 * count when it was scheduled: a poll whose `seq` no longer matches is a
 * duplicate (queues deliver at least once) and is ignored.
 */
export const PollDue = z.object({
  t: z.literal("poll"),
  userId: z.number().int(),
  jobId: z.string(),
  seq: z.number().int().nonnegative(),
});
export type PollDue = z.infer<typeof PollDue>;

/** A KV queue message: look again at a user's open jobs that another instance was performing. */
export const ResumeDue = z.object({ t: z.literal("resume"), userId: z.number().int() });
export type ResumeDue = z.infer<typeof ResumeDue>;

/**
 * A job's deadline, queued with the job itself: whatever becomes of its
 * polls (a read that never came back, a commit that failed), the job ends
 * when this falls due and its hold is released.
 */
export const DeadlineDue = z.object({ t: z.literal("deadline"), userId: z.number().int(), jobId: z.string() });
export type DeadlineDue = z.infer<typeof DeadlineDue>;

/**
 * A look, a while after a Generate press, at whether its order got its
 * price: queued with the press, so that a crash between the press and the
 * job (the price is asked after the press is durable) does not lose it.
 */
export const OrderDue = z.object({
  t: z.literal("order"),
  userId: z.number().int(),
  wizardId: z.string().max(64),
  chatId: z.number().int(),
  messageId: z.number().int().optional(),
  /** Looks at this order before this one (absent for the first, which the press queues). */
  look: z.number().int().positive().optional(),
});
export type OrderDue = z.infer<typeof OrderDue>;

/**
 * Another try at telling a user how a job ended, after a delivery that
 * reached nothing (Telegram down or flooding, the user blocking the bot).
 * `attempt` is the job's failed deliveries when it was queued: a try whose
 * `attempt` no longer matches is a duplicate and is ignored.
 */
export const DeliveryDue = z.object({
  t: z.literal("delivery"),
  userId: z.number().int(),
  jobId: z.string(),
  attempt: z.number().int().positive(),
});
export type DeliveryDue = z.infer<typeof DeliveryDue>;

/** What the KV queue carries. */
export const QueueMessage = z.discriminatedUnion("t", [PollDue, ResumeDue, DeadlineDue, OrderDue, DeliveryDue]);
