/**
 * The user's history: one entry per finished job (succeeded, failed, timed
 * out or canceled), newest first, the last {@link HISTORY_LIMIT} kept. An
 * entry holds what it takes to show the result again or to repeat the job.
 */
import { z } from "zod";
import { Job, JobFile } from "./job.ts";

/** Entries kept per user; older ones are deleted as new ones arrive. */
export const HISTORY_LIMIT = 100;

/** Longest text result kept in an entry (KV values are capped at 64 KiB). */
const MAX_TEXT = 16_000;

export const HistoryEntry = z.object({
  seq: z.number().int().nonnegative(),
  jobId: z.string(),
  modelId: z.string(),
  output: Job.shape.output,
  params: Job.shape.params,
  media: z.record(z.string(), z.array(JobFile)),
  state: z.enum(["succeeded", "failed", "timed_out", "canceled"]),
  /** Kopecks taken for it (0 when it failed or was free). */
  chargedKopecks: z.number().int().nonnegative(),
  free: z.boolean(),
  createdAt: z.number(),
  finishedAt: z.number(),
  urls: z.array(z.string()),
  text: z.string().optional(),
  failureCode: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** The entry for a job that just reached a final state. */
export function historyEntryOf(job: Job, seq: number, now: number): HistoryEntry {
  const state = job.state;
  if (state === "created" || state === "submitted" || state === "delivered") {
    throw new Error(`a ${state} job is not finished`);
  }
  const succeeded = state === "succeeded";
  const text = job.result?.text;
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
    urls: succeeded ? (job.result?.urls ?? []) : [],
    ...(succeeded && text !== undefined ? { text: text.slice(0, MAX_TEXT) } : {}),
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
