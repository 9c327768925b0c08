/**
 * A generation job and its life: `created -> submitted -> succeeded |
 * failed | timed_out | canceled -> delivered`. Pure: the user actor applies
 * a transition in its turn, writes the job record with the same commit and
 * only then performs what the transition calls for (submit, poll, deliver).
 * The money side of each final state comes from `settlementOf`, so a job is
 * captured or released exactly once, under a key derived from its id.
 */
import { z } from "zod";
import { EndpointFamily } from "../../catalog/schema.ts";
import type { LedgerEntry } from "../ledger/ledger.ts";

export const JobState = z.enum(["created", "submitted", "succeeded", "failed", "timed_out", "canceled", "delivered"]);
export type JobState = z.infer<typeof JobState>;

/** What the job costs the user: money held, or one free generation reserved. */
export const JobCharge = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("money"), amount: z.number().int().positive() }),
  z.object({ kind: z.literal("free"), source: z.enum(["daily", "bank"]) }),
]);
export type JobCharge = z.infer<typeof JobCharge>;

/** A Telegram file the user sent for the job (uploaded to KIE at submit). */
export const JobFile = z.object({
  fileId: z.string(),
  fileUniqueId: z.string(),
  kind: z.enum(["image", "video", "audio"]),
  bytes: z.number().int().nonnegative().optional(),
  seconds: z.number().nonnegative().optional(),
});

/**
 * A job as the user actor keeps it while it is open: small (ids, state,
 * charge, deadline), so that a user's one KV value stays under its budget
 * with every open job in it. Its prompts, parameters and files live in its
 * {@link JobRecord}; its result in result records of its own.
 */
export const Job = z.object({
  /** The confirmation's token (the wizard id): one job per confirmation. */
  id: z.string(),
  userId: z.number().int(),
  chatId: z.number().int(),
  lang: z.enum(["ru", "en"]),
  modelId: z.string(),
  /** The media the model returns; decides the deadline and how results are sent. */
  output: z.enum(["image", "video", "audio", "text"]),
  charge: JobCharge,
  /**
   * What KIE charges for it, in credits, as quoted when it was ordered (free
   * jobs too). Absent on jobs ordered before jobs recorded it.
   */
  credits: z.number().nonnegative().optional(),
  state: JobState,
  /** The KIE API family that serves the model (known once submitted). */
  family: EndpointFamily.optional(),
  taskId: z.string().optional(),
  /** The message that shows the job's progress (edited as it moves). */
  statusMessageId: z.number().int().optional(),
  /** Status reads so far (the poll backoff grows with it). */
  polls: z.number().int().nonnegative().default(0),
  /**
   * Set in the same commit as the final state, before anything is sent: a
   * job found final with this set after a restart is not sent again.
   */
  deliveringAt: z.number().optional(),
  /**
   * The instance performing the job's slow step (its submission, or its
   * delivery): a start-up resume leaves the job to it while it is alive.
   */
  instance: z.string().optional(),
  /**
   * Deliveries of its final state that reached nothing (every send failed
   * on an error that may pass: see `onDelivered` in the user actor).
   */
  deliveries: z.number().int().nonnegative().optional(),
  /** Its entry in the user's history (written with the final state). */
  historySeq: z.number().int().nonnegative().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  deadlineAt: z.number(),
  /** Result records written with the success (under `resultKey(userId, historySeq, i)`). */
  resultChunks: z.number().int().nonnegative().optional(),
  failure: z.object({ code: z.string(), message: z.string() }).optional(),
  /** The state the job was in when it reached `delivered` (what the user was told). */
  outcome: JobState.optional(),
});
export type Job = z.infer<typeof Job>;

/** What a job was asked to do: the user's answers and files (its record holds them, the actor's state does not). */
export const JobInput = z.object({
  /** The user's answers other than files, by catalog field name. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** The user's files by catalog field name; uploaded to KIE's upload API at submit. */
  media: z.record(z.string(), z.array(JobFile)).default({}),
});
export type JobInput = z.infer<typeof JobInput>;

/** The job record under `jobKey`: the job as the actor keeps it, with its input. */
export const JobRecord = Job.extend(JobInput.shape);
export type JobRecord = z.infer<typeof JobRecord>;

/** The job the actor keeps for a record (its input left in the record). */
export function summaryOf(record: JobRecord): Job {
  const { params: _params, media: _media, ...job } = record;
  return job;
}

/** A job's result as KIE reported it (held in memory; KV keeps it in result records). */
export interface JobResult {
  readonly urls: readonly string[];
  readonly text?: string;
}

const NEXT: Readonly<Record<JobState, readonly JobState[]>> = {
  created: ["submitted", "failed", "timed_out", "canceled"],
  submitted: ["succeeded", "failed", "timed_out", "canceled"],
  succeeded: ["delivered"],
  failed: ["delivered"],
  timed_out: ["delivered"],
  canceled: ["delivered"],
  delivered: [],
};

/** States in which the job still waits for KIE. */
export const ACTIVE_STATES: readonly JobState[] = ["created", "submitted"];

export function isActive(job: Job): boolean {
  return ACTIVE_STATES.includes(job.state);
}

/** A transition the life cycle does not allow (e.g. a late callback after a cancel). */
export class JobTransitionError extends Error {
  override readonly name = "JobTransitionError";
  readonly code = "illegal_transition";
  constructor(
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`a job cannot go from ${from} to ${to}`);
  }
}

type Patch = Partial<
  Pick<Job, "taskId" | "family" | "resultChunks" | "failure" | "deliveringAt" | "polls" | "historySeq" | "instance">
>;

/** The job in state `to` at `now`; throws {@link JobTransitionError} when `to` does not follow. */
export function transition<J extends Job>(job: J, to: JobState, now: number, patch: Patch = {}): J {
  if (!NEXT[job.state].includes(to)) throw new JobTransitionError(job.state, to);
  return { ...job, ...patch, state: to, updatedAt: now, ...(to === "delivered" ? { outcome: job.state } : {}) };
}

/** True when `to` follows from the job's state (callers use it to ignore duplicates and late events). */
export function canMove(job: Job, to: JobState): boolean {
  return NEXT[job.state].includes(to);
}

/**
 * What a final state means for the user's money or free quota: success
 * captures the hold (or uses the free generation); anything else releases
 * it, so a failed, timed-out or canceled job costs nothing.
 */
export type Settlement =
  | { readonly kind: "ledger"; readonly entry: LedgerEntry }
  | { readonly kind: "free"; readonly outcome: "used" | "released" };

export function settlementOf(job: Job): Settlement | undefined {
  if (isActive(job) || job.state === "delivered") return undefined;
  const success = job.state === "succeeded";
  if (job.charge.kind === "free") return { kind: "free", outcome: success ? "used" : "released" };
  const type = success ? "capture" : "release";
  return {
    kind: "ledger",
    entry: { type, key: `${type}:${job.id}`, jobId: job.id, reason: `${job.modelId}: ${job.state}` },
  };
}

/** How long each kind of output may take before the job times out (configurable). */
export interface JobDeadlines {
  readonly image: number;
  readonly video: number;
  readonly audio: number;
  readonly text: number;
}

export const DEFAULT_DEADLINES: JobDeadlines = {
  image: 5 * 60_000,
  video: 20 * 60_000,
  audio: 10 * 60_000,
  text: 5 * 60_000,
};

/**
 * Delay before the next status read: `firstMs` (3 s), doubling to twenty
 * times that (60 s), with
 * jitter (`random` in [0, 1)) so jobs created together do not poll together.
 */
export function pollDelayMs(attempt: number, random: number, firstMs = 3_000): number {
  const ceiling = Math.min(firstMs * 20, firstMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling * (0.75 + random * 0.25));
}
