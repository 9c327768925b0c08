/**
 * Refunds by an admin, pure: the payment's record is read, the user's
 * ledger is debited once (key `refund:<provider>:<payment id>`), and only
 * then is the provider asked to refund; if the provider refuses, the debit
 * is given back through the credit outbox. A payment is refunded at most
 * once; the admin is told how it went.
 */
import { z } from "zod";
import type { KvWrite } from "../../actors/mod.ts";

export const RefundProvider = z.enum(["stars", "yookassa"]);
export type RefundProvider = z.infer<typeof RefundProvider>;

/** A payment record as the payment actor wrote it when it credited the payment. */
export const PaidRecord = z.looseObject({
  userId: z.number().int(),
  kopecks: z.number().int().positive(),
  status: z.string(),
});

export const Refund = z.object({
  key: z.string(),
  provider: RefundProvider,
  paymentId: z.string(),
  userId: z.number().int(),
  kopecks: z.number().int().positive(),
  adminId: z.number().int(),
  reason: z.string(),
  status: z.enum(["debiting", "refunding", "done", "failed"]),
  at: z.number(),
});
export type Refund = z.infer<typeof Refund>;

/** What the admin hears about a refund. */
export type RefundOutcome =
  | { readonly type: "refundOutcome"; readonly paymentId: string; readonly status: "done"; readonly kopecks: number }
  | {
      readonly type: "refundOutcome";
      readonly paymentId: string;
      readonly status: "refused";
      readonly code: "unknown_payment" | "not_paid" | "already_refunded" | "insufficient_funds" | "provider_failed";
    };

/** The ledger key of a refund's debit (and of its reversal, prefixed). */
export const refundKey = (provider: RefundProvider, paymentId: string) => `refund:${provider}:${paymentId}`;

/** The KV key of a payment's record. */
export const paymentRecordKey = (provider: RefundProvider, paymentId: string) => ["payment", provider, paymentId];

/** The refund's audit record, written at every step. */
export function refundWrite(refund: Refund, now: number): KvWrite {
  return { op: "set", key: ["refund", refund.key], value: { ...refund, updatedAt: now } };
}

/** The outcome for the admin when a refund cannot start. */
export function refused(paymentId: string, code: Extract<RefundOutcome, { status: "refused" }>["code"]): RefundOutcome {
  return { type: "refundOutcome", paymentId, status: "refused", code };
}
