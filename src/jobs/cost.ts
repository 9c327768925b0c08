/**
 * What each finished job cost in KIE credits and brought in, kept as a
 * small record of its own (`jobCostKey`, by the day it was ordered, kept
 * {@link JOB_COST_TTL_MS}) so that /stats and the KIE balance alert read
 * only the last days' records, never every job record ever written.
 *
 * The user's actor writes it in the commit that settles the job (capture
 * or release), and again in the commit that gives the money back for a
 * result no one could deliver. What counts:
 *
 * - **Succeeded**: a generation. Revenue is the kopecks captured (0 for a
 *   free one) less any given back (a result that could not be delivered is
 *   refunded); its cost is its credits, refunded or not: KIE made the
 *   result and charged for it.
 * - **Failed**: no generation, no revenue (the hold is released) and no
 *   cost: KIE does not charge for a task it reports failed, nor for a
 *   request it refused. Two exceptions: a task KIE reported as succeeded
 *   without any result (`empty_result`) was charged by KIE, so its credits
 *   count as cost; a job whose task creation was cut off (`interrupted`,
 *   `timeout`: KIE may or may not have started it) is unknown, as below.
 * - **Timed out or canceled**: no generation and no revenue (released),
 *   but KIE may have finished the task after the bot stopped waiting, and
 *   charged for it. The bot cannot tell, so these are counted apart as
 *   "unknown" (how many, and the credits they would have cost) and are not
 *   in the margin. The balance alert counts them as spent (it would rather
 *   warn early).
 *
 * Jobs ordered before jobs recorded their credits have no cost record.
 */
import { z } from "zod";
import type { KvWrite } from "../../actors/mod.ts";
import type { KvKey } from "../platform/types.ts";
import type { Job } from "./job.ts";
import { JOB_COST_TTL_MS, JOB_COSTS, jobCostKey } from "./keys.ts";

/** Whether KIE charged for a job: yes, no, or the bot cannot know. */
export const KieBilling = z.enum(["billed", "none", "unknown"]);
export type KieBilling = z.infer<typeof KieBilling>;

/** The record under `jobCostKey`. */
export const JobCost = z.object({
  modelId: z.string(),
  createdAt: z.number(),
  outcome: z.enum(["succeeded", "failed", "timed_out", "canceled"]),
  free: z.boolean(),
  /** Kopecks captured (0 unless a paid job succeeded). */
  charged: z.number().int().nonnegative(),
  /** Kopecks given back after the capture (a result that could not be delivered). */
  refunded: z.number().int().nonnegative(),
  /** What KIE charges for it, as quoted at the order; absent for jobs ordered before that was recorded. */
  credits: z.number().nonnegative().optional(),
  kie: KieBilling,
});
export type JobCost = z.infer<typeof JobCost>;

/** A day number of the job cost keys: days since the epoch, in UTC. */
export function costDayOf(at: number): number {
  return Math.floor(at / 86_400_000);
}

/** Failures where KIE may have started the task all the same (its creation's answer was lost). */
const UNSURE_FAILURES = new Set(["interrupted", "timeout"]);

/** Whether KIE charged for a job that ended in `outcome` (see the module's comment). */
export function kieBillingOf(job: Job, outcome: JobCost["outcome"]): KieBilling {
  switch (outcome) {
    case "succeeded":
      return "billed";
    case "failed": {
      const code = job.failure?.code;
      if (code === "empty_result") return "billed";
      return job.taskId === undefined && code !== undefined && UNSURE_FAILURES.has(code) ? "unknown" : "none";
    }
    case "timed_out":
    case "canceled":
      return "unknown";
  }
}

/** The cost record of a job in a final state (or delivered), with `refunded` kopecks given back; else undefined. */
export function jobCostOf(job: Job, refunded = 0): JobCost | undefined {
  const outcome = job.state === "delivered" ? job.outcome : job.state;
  if (outcome === undefined || outcome === "created" || outcome === "submitted" || outcome === "delivered") {
    return undefined;
  }
  const succeeded = outcome === "succeeded";
  return {
    modelId: job.modelId,
    createdAt: job.createdAt,
    outcome,
    free: job.charge.kind === "free",
    charged: succeeded && job.charge.kind === "money" ? job.charge.amount : 0,
    refunded: succeeded ? refunded : 0,
    ...(job.credits === undefined ? {} : { credits: job.credits }),
    kie: kieBillingOf(job, outcome),
  };
}

/** The write of a job's cost record (none for a job not finished). */
export function jobCostWrites(job: Job, refunded = 0): KvWrite[] {
  const cost = jobCostOf(job, refunded);
  if (cost === undefined) return [];
  return [
    {
      op: "set",
      key: jobCostKey(costDayOf(job.createdAt), job.userId, job.id),
      value: cost,
      expireIn: JOB_COST_TTL_MS,
    },
  ];
}

/** Reads a page of a KV prefix (the store's `scan`, or the host services' one). */
export type ScanPages = (
  prefix: KvKey,
  options: { readonly limit: number; readonly after?: KvKey },
) => Promise<{ readonly entries: readonly { readonly key: KvKey; readonly value: unknown }[]; readonly next?: KvKey }>;

/**
 * Calls `visit` for every job cost record of jobs ordered in `[from, to]`
 * (ms), a page at a time: it reads only the prefixes of those days.
 */
export async function eachJobCost(
  scan: ScanPages,
  from: number,
  to: number,
  visit: (cost: JobCost) => void,
): Promise<void> {
  for (let day = costDayOf(from); day <= costDayOf(to); day++) {
    let after: KvKey | undefined;
    for (;;) {
      const page = await scan([...JOB_COSTS, day], { limit: 500, ...(after ? { after } : {}) });
      for (const entry of page.entries) {
        const cost = JobCost.safeParse(entry.value);
        if (cost.success && cost.data.createdAt >= from && cost.data.createdAt <= to) visit(cost.data);
      }
      if (page.next === undefined) break;
      after = page.next;
    }
  }
}

/** How far back "recent" spend looks. */
export const RECENT_DAYS = 7;

/**
 * KIE credits the jobs ordered in the last {@link RECENT_DAYS} days took
 * (those KIE charged for, and those it may have: see the module's comment).
 */
export async function recentKieCredits(scan: ScanPages, now: number): Promise<number> {
  let credits = 0;
  // A little ahead of `now` too: the clocks of several instances differ.
  await eachJobCost(scan, now - RECENT_DAYS * 86_400_000, now + 3_600_000, (cost) => {
    if (cost.kie !== "none") credits += cost.credits ?? 0;
  });
  return credits;
}
