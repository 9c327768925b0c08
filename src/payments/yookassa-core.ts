/**
 * YooKassa in the payment actor, pure: an attempt is recorded before the
 * payment is created (its id is the Idempotence-Key), and a payment is
 * credited only after a re-read from the API says `succeeded` with the
 * attempt's amount, currency and metadata: once per payment id.
 * Notifications and the user's "Check payment" only trigger that re-read.
 */
import { z } from "zod";
import type { KvWrite } from "../../actors/mod.ts";
import { kopecksOf, type YooPayment } from "./yookassa.ts";

/** How long a YooKassa attempt is followed (and remembered for duplicates). */
export const ATTEMPT_TTL_MS = 24 * 3_600_000;

export const YooAttempt = z.object({
  id: z.string(),
  userId: z.number().int(),
  kopecks: z.number().int().positive(),
  createdAt: z.number(),
  paymentId: z.string().optional(),
  status: z.enum(["creating", "pending", "succeeded", "canceled", "failed"]),
  /** Every status the attempt went through, with when. */
  history: z.array(z.object({ status: z.string(), at: z.number() })).default([]),
});
export type YooAttempt = z.infer<typeof YooAttempt>;

/** What the user's actor hears about a YooKassa attempt. */
export type YooUserNews =
  | { readonly type: "yooReady"; readonly attemptId: string; readonly url: string; readonly kopecks: number }
  | { readonly type: "yooStatus"; readonly attemptId: string; readonly status: "pending" | "canceled" | "failed" };

/** The key of a YooKassa credit: the provider's payment id. */
export const yooCreditKey = (paymentId: string) => `yookassa:${paymentId}`;

/** What a re-read means for an attempt. */
export type YooVerdict =
  | { readonly kind: "credit"; readonly attempt: YooAttempt; readonly amount: number }
  | { readonly kind: "canceled"; readonly attempt: YooAttempt }
  | { readonly kind: "pending"; readonly attempt: YooAttempt }
  | { readonly kind: "ignore"; readonly reason: "already_final" | "mismatch" };

/**
 * Judges a payment read from the API against its attempt: a success counts
 * only with the attempt's payment id, amount, currency and metadata.
 */
export function judgePayment(attempt: YooAttempt, payment: YooPayment): YooVerdict {
  if (attempt.status === "succeeded" || attempt.status === "canceled")
    return { kind: "ignore", reason: "already_final" };
  const matches =
    payment.id === attempt.paymentId &&
    payment.metadata?.attemptId === attempt.id &&
    payment.metadata?.userId === String(attempt.userId) &&
    payment.amount.currency === "RUB" &&
    kopecksOf(payment.amount.value) === attempt.kopecks;
  if (!matches) return { kind: "ignore", reason: "mismatch" };
  if (payment.status === "succeeded" && payment.paid) {
    return { kind: "credit", attempt: { ...attempt, status: "succeeded" }, amount: attempt.kopecks };
  }
  if (payment.status === "canceled") return { kind: "canceled", attempt: { ...attempt, status: "canceled" } };
  return { kind: "pending", attempt };
}

/** The KV record of an attempt (the audit trail of every payment attempt). */
export function attemptWrite(attempt: YooAttempt, now: number, extra: Record<string, unknown> = {}): KvWrite {
  return {
    op: "set",
    key: ["payment", "yookassa-attempt", attempt.id],
    value: { ...attempt, updatedAt: now, ...extra },
  };
}

/** Attempts still worth following: not final and younger than a day. */
export function followed(attempts: Readonly<Record<string, YooAttempt>>, now: number): YooAttempt[] {
  return Object.values(attempts).filter(
    (attempt) =>
      (attempt.status === "pending" || attempt.status === "creating") && now - attempt.createdAt < ATTEMPT_TTL_MS,
  );
}

/** The attempt that created `paymentId`, if this actor knows it. */
export function attemptOfPayment(
  attempts: Readonly<Record<string, YooAttempt>>,
  paymentId: string,
): YooAttempt | undefined {
  return Object.values(attempts).find((attempt) => attempt.paymentId === paymentId);
}

/** Attempts without those past their day. */
export function pruned(attempts: Readonly<Record<string, YooAttempt>>, now: number): Record<string, YooAttempt> {
  const kept: Record<string, YooAttempt> = {};
  for (const [id, attempt] of Object.entries(attempts))
    if (now - attempt.createdAt < ATTEMPT_TTL_MS) kept[id] = attempt;
  return kept;
}
