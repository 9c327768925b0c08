/**
 * Refunds by an admin, pure: the payment's record is read, the user's
 * ledger is debited once (key `refund:<provider>:<payment id>`), and only
 * then is the provider asked to refund; if the provider refuses, the debit
 * is given back through the credit outbox. A payment is refunded at most
 * once; the admin is told how it went.
 */
import { z } from "zod";
import type { KvWrite } from "../../actors/mod.ts";
import type { Credit, PaymentEffect, PaymentMessage, PaymentState, PaymentTurn } from "./payment-core.ts";

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
/** Where a refund's record lives. */
export const refundRecordKey = (key: string) => ["refund", key] as const;

export function refundWrite(refund: Refund, now: number): KvWrite {
  return { op: "set", key: refundRecordKey(refund.key), value: { ...refund, updatedAt: now } };
}

/** The outcome for the admin when a refund cannot start. */
export function refused(paymentId: string, code: Extract<RefundOutcome, { status: "refused" }>["code"]): RefundOutcome {
  return { type: "refundOutcome", paymentId, status: "refused", code };
}

/** An admin's refund request. */
export interface RefundRequest {
  readonly provider: RefundProvider;
  readonly paymentId: string;
  readonly adminId: number;
  readonly reason: string;
}

/** Messages to the payment actor about refunds. */
export type RefundMessage =
  /** An admin asks to refund a payment (the outcome is told to the admin). */
  | ({ readonly type: "refund" } & RefundRequest)
  | { readonly type: "paymentRecordLoaded"; readonly request: RefundRequest; readonly record: unknown }
  | { readonly type: "refundDebited"; readonly key: string; readonly ok: boolean }
  | { readonly type: "providerRefunded"; readonly key: string }
  | { readonly type: "providerRefundFailed"; readonly key: string; readonly code: string };

const REFUND_MESSAGES: ReadonlySet<string> = new Set<RefundMessage["type"]>([
  "refund",
  "paymentRecordLoaded",
  "refundDebited",
  "providerRefunded",
  "providerRefundFailed",
]);

/** True for the payment actor's messages that `receiveRefund` handles. */
export function isRefundMessage(message: PaymentMessage): message is RefundMessage {
  return REFUND_MESSAGES.has(message.type);
}

/** The refund steps' effects (performed by `refund-shell.ts`). */
export type RefundEffect =
  /** Read a payment's record (the first step of a refund). */
  | { readonly type: "loadPaymentRecord"; readonly request: RefundRequest }
  /** Debit the user's ledger for a refund (the user's actor replies whether it could). */
  | { readonly type: "refundDebit"; readonly refund: Refund }
  /** Ask the provider to refund the payment. */
  | { readonly type: "providerRefund"; readonly refund: Refund };

/** The KV keys a refund message needs besides the state: the refund's record. */
export function refundReads(message: RefundMessage): readonly (readonly string[])[] {
  switch (message.type) {
    case "refund":
      return [refundRecordKey(refundKey(message.provider, message.paymentId))];
    case "paymentRecordLoaded":
      return [refundRecordKey(refundKey(message.request.provider, message.request.paymentId))];
    default:
      return [];
  }
}

/** The refund steps of the payment actor. */
export function receiveRefund(
  state: PaymentState,
  message: RefundMessage,
  now: number,
  read?: readonly unknown[],
): PaymentTurn {
  // Refunds under way are in the state; finished ones only in their record (one KV value holds 64 KiB).
  const withRefund = (refund: Refund, effects: PaymentEffect[], extra: Partial<PaymentState> = {}): PaymentTurn => {
    const { [refund.key]: _settled, ...others } = state.refunds;
    const underWay = refund.status === "debiting" || refund.status === "refunding";
    return {
      state: { ...state, ...extra, refunds: underWay ? { ...others, [refund.key]: refund } : others },
      writes: [refundWrite(refund, now)],
      effects,
    };
  };
  /** The refund of a payment: under way (state) or finished (its record, read for the message). */
  const refundOf = (key: string): Refund | undefined => {
    const recorded = Refund.safeParse(read?.[0]);
    return state.refunds[key] ?? (recorded.success ? recorded.data : undefined);
  };
  const toAdmin = (adminId: number, outcome: RefundOutcome): PaymentEffect => ({
    type: "tellUser",
    userId: adminId,
    news: outcome,
  });
  switch (message.type) {
    case "refund": {
      const { type: _type, ...request } = message;
      const existing = refundOf(refundKey(request.provider, request.paymentId));
      if (existing !== undefined && existing.status !== "failed") {
        return { state, effects: [toAdmin(request.adminId, refused(request.paymentId, "already_refunded"))] };
      }
      return { state, effects: [{ type: "loadPaymentRecord", request }] };
    }
    case "paymentRecordLoaded": {
      const { request } = message;
      const record = PaidRecord.safeParse(message.record);
      if (!record.success)
        return { state, effects: [toAdmin(request.adminId, refused(request.paymentId, "unknown_payment"))] };
      if (record.data.status !== "paid") {
        return { state, effects: [toAdmin(request.adminId, refused(request.paymentId, "not_paid"))] };
      }
      const refund: Refund = {
        key: refundKey(request.provider, request.paymentId),
        ...request,
        userId: record.data.userId,
        kopecks: record.data.kopecks,
        status: "debiting",
        at: now,
      };
      const current = refundOf(refund.key);
      if (current !== undefined && current.status !== "failed") return { state };
      return withRefund(refund, [{ type: "refundDebit", refund }]);
    }
    case "refundDebited": {
      const refund = state.refunds[message.key];
      if (refund === undefined || refund.status !== "debiting") return { state };
      if (!message.ok) {
        return withRefund({ ...refund, status: "failed" }, [
          toAdmin(refund.adminId, refused(refund.paymentId, "insufficient_funds")),
        ]);
      }
      const refunding: Refund = { ...refund, status: "refunding" };
      return withRefund(refunding, [{ type: "providerRefund", refund: refunding }]);
    }
    case "providerRefunded": {
      const refund = state.refunds[message.key];
      if (refund === undefined || refund.status !== "refunding") return { state };
      return withRefund({ ...refund, status: "done" }, [
        toAdmin(refund.adminId, {
          type: "refundOutcome",
          paymentId: refund.paymentId,
          status: "done",
          kopecks: refund.kopecks,
        }),
        { type: "tellUser", userId: refund.userId, news: { type: "refunded", kopecks: refund.kopecks } },
      ]);
    }
    case "providerRefundFailed": {
      const refund = state.refunds[message.key];
      if (refund === undefined || refund.status !== "refunding") return { state };
      // The provider kept the money: the user gets the debit back, once.
      const credit: Credit = {
        key: `revert:${refund.key}`,
        userId: refund.userId,
        amount: refund.kopecks,
        reason: `refund failed: ${message.code}`,
      };
      return withRefund(
        { ...refund, status: "failed" },
        [{ type: "deliverCredit", credit }, toAdmin(refund.adminId, refused(refund.paymentId, "provider_failed"))],
        { outbox: { ...state.outbox, [credit.key]: credit } },
      );
    }
  }
}
