/**
 * The user's history: one entry per finished job (succeeded, failed, timed
 * out or canceled), newest first, the last {@link HISTORY_LIMIT} kept. An
 * entry holds what it takes to show the result again or to repeat the job.
 */
import { z } from "zod";
import { Job, JobFile, JobInput, type JobRecord } from "./job.ts";

/** Entries kept per user; older ones are deleted as new ones arrive (with their result records). */
export const HISTORY_LIMIT = 100;

export const HistoryEntry = z.object({
  seq: z.number().int().nonnegative(),
  jobId: z.string(),
  modelId: z.string(),
  output: Job.shape.output,
  params: JobInput.shape.params,
  media: z.record(z.string(), z.array(JobFile)),
  state: z.enum(["succeeded", "failed", "timed_out", "canceled"]),
  /** Kopecks taken for it (0 when it failed or was free). */
  chargedKopecks: z.number().int().nonnegative(),
  free: z.boolean(),
  createdAt: z.number(),
  finishedAt: z.number(),
  /** Result URLs of entries written before results had records of their own. */
  urls: z.array(z.string()).default([]),
  /** Text result of entries written before results had records of their own. */
  text: z.string().optional(),
  /** Result records of a success (`resultKey(userId, seq, i)` for i below it). */
  resultChunks: z.number().int().nonnegative().optional(),
  failureCode: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** The entry for a job that just reached a final state; its result stays in the job's result records. */
export function historyEntryOf(job: JobRecord, seq: number, now: number): HistoryEntry {
  const state = job.state;
  if (state === "created" || state === "submitted" || state === "delivered") {
    throw new Error(`a ${state} job is not finished`);
  }
  const succeeded = state === "succeeded";
  return {
    seq,
    jobId: job.id,
    modelId: job.modelId,
    output: job.output,
    params: job.params,
    media: job.media,
    state,
    chargedKopecks: succeeded && job.charge.kind === "money" ? job.charge.amount : 0,
    free: job.charge.kind === "free",
    createdAt: job.createdAt,
    finishedAt: now,
    urls: [],
    ...(succeeded ? { resultChunks: job.resultChunks ?? 0 } : {}),
    ...(job.failure ? { failureCode: job.failure.code } : {}),
  };
}

/** The sequence numbers of one history page, newest first. */
export function historyPageSeqs(total: number, page: number, pageSize: number): number[] {
  const newest = total - 1 - page * pageSize;
  const oldest = Math.max(total - HISTORY_LIMIT, newest - pageSize + 1, 0);
  const seqs: number[] = [];
  for (let seq = newest; seq >= oldest; seq--) seqs.push(seq);
  return seqs;
}

/** Pages of a history of `total` entries (only the last {@link HISTORY_LIMIT} are kept). */
export function historyPages(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(Math.min(total, HISTORY_LIMIT) / pageSize));
}
