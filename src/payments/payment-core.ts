/**
 * The payment actor's pure core: invoices it issued, payments it recorded
 * and the credits it still owes users. A credit leaves only as a message to
 * the user's actor keyed by the provider's payment id, and stays in the
 * outbox until that actor acknowledges it, so it lands exactly once even if
 * a worker or the process dies in between.
 */
import { z } from "zod";
import type { KvWrite, Turn } from "../../actors/mod.ts";
import {
  isRefundMessage,
  Refund,
  type RefundEffect,
  type RefundMessage,
  type RefundOutcome,
  receiveRefund,
  refundReads,
} from "./refund-core.ts";
import type { YooPayment } from "./yookassa.ts";
import { attemptKey, receiveYooKassa, YooAttempt, type YooUserNews } from "./yookassa-core.ts";

/** How long an unpaid invoice is kept (Telegram invoices can be paid later; a day is plenty). */
export const INVOICE_TTL_MS = 24 * 3_600_000;

const Invoice = z.object({
  id: z.string(),
  userId: z.number().int(),
  stars: z.number().int().positive(),
  kopecks: z.number().int().positive(),
  createdAt: z.number(),
  chargeId: z.string().optional(),
});
export type Invoice = z.infer<typeof Invoice>;

export const Credit = z.object({
  key: z.string(),
  userId: z.number().int(),
  amount: z.number().int().positive(),
  reason: z.string(),
});
export type Credit = z.infer<typeof Credit>;

/**
 * Where an invoice lives: a key of its own, not the actor's state (one KV
 * value holds at most 64 KiB, a few hundred invoices). Read for a message by
 * the runtime (`reads`), written with a change of the actor's state.
 */
export const invoiceKey = (invoiceId: string) => ["invoice", invoiceId] as const;

/** The invoice a message names, as read from KV: unknown when missing, malformed or past its time. */
function invoiceRead(read: readonly unknown[] | undefined, now: number): Invoice | undefined {
  const parsed = Invoice.safeParse(read?.[0]);
  return parsed.success && now - parsed.data.createdAt < INVOICE_TTL_MS ? parsed.data : undefined;
}

export const PaymentState = z.object({
  v: z.literal(1),
  /** Invoices issued so far (their ids count up). Earlier versions kept the invoices here too: dropped on load. */
  seq: z.number().int().nonnegative(),
  /** Credits recorded but not yet acknowledged by the user's actor. */
  outbox: z.record(z.string(), Credit),
  /** YooKassa attempts of the last day, by attempt id (the Idempotence-Key). */
  yoo: z.record(z.string(), YooAttempt).default({}),
  /** Every refund, by its key (a payment is refunded at most once). */
  refunds: z.record(z.string(), Refund).default({}),
});
export type PaymentState = z.infer<typeof PaymentState>;

export function initialPaymentState(): PaymentState {
  return { v: 1, seq: 0, outbox: {}, yoo: {}, refunds: {} };
}

/** Why a payment or a pre-checkout is refused. */
export type PaymentRefusal = "unknown_invoice" | "already_paid" | "amount_mismatch";

/** Messages to the payment actor. */
export type PaymentMessage =
  | { readonly type: "createStarsInvoice"; readonly userId: number; readonly stars: number; readonly kopecks: number }
  | {
      readonly type: "checkStarsInvoice";
      readonly userId: number;
      readonly invoiceId: string;
      readonly currency: string;
      readonly amount: number;
    }
  | {
      readonly type: "starsPaid";
      readonly userId: number;
      readonly invoiceId: string;
      readonly chargeId: string;
      readonly currency: string;
      readonly amount: number;
    }
  | { readonly type: "creditAcked"; readonly key: string }
  /** Delivers one credit of the outbox again (its last delivery was not acknowledged). */
  | { readonly type: "retryCredit"; readonly key: string }
  | { readonly type: "resume" }
  /** A user asked to pay `kopecks` by card (replies `{ attemptId }`). */
  | { readonly type: "createYooPayment"; readonly userId: number; readonly kopecks: number }
  | { readonly type: "yooCreated"; readonly attemptId: string; readonly paymentId: string; readonly url: string }
  | { readonly type: "yooCreateFailed"; readonly attemptId: string; readonly code: string }
  /** A notification named this payment (its sender was allowlisted); replies `{ known }`. */
  | { readonly type: "yooNotified"; readonly paymentId: string }
  /** The user pressed "Check payment". */
  | { readonly type: "yooCheck"; readonly userId: number; readonly attemptId: string }
  /** The shell re-read a payment from the API. */
  | { readonly type: "yooRead"; readonly attemptId: string; readonly payment: YooPayment; readonly tell: boolean }
  /** Time to re-read every payment still pending (lost notifications). */
  | { readonly type: "reconcile" }
  /** Refunds by an admin (see `refund-core.ts`). */
  | RefundMessage;

/** Replies, by message type. */
export type InvoiceCreated = { readonly invoiceId: string };
export type PaymentCheck = { readonly ok: true } | { readonly ok: false; readonly refusal: PaymentRefusal };

/** What the shell does after a commit. */
export type PaymentEffect =
  /** Deliver a credit to the user's actor until it acknowledges. */
  | { readonly type: "deliverCredit"; readonly credit: Credit }
  /** Create the attempt's payment at YooKassa. */
  | { readonly type: "yooCreate"; readonly attempt: YooAttempt }
  /** Re-read the attempt's payment; `tell` reports a still pending one to the user. */
  | { readonly type: "yooReadPayment"; readonly attempt: YooAttempt; readonly tell: boolean }
  /** The steps of a refund (see `refund-core.ts`). */
  | RefundEffect
  | { readonly type: "tellUser"; readonly userId: number; readonly news: UserNews };

/** What the payment actor tells users' actors: card payment news, refund outcomes (admins) and refunds (users). */
export type UserNews = YooUserNews | RefundOutcome | { readonly type: "refunded"; readonly kopecks: number };

/** One turn of the payment actor. */
export type PaymentTurn = Turn<PaymentState, unknown, PaymentEffect>;

/** The payment record of a Stars charge, by Telegram's charge id. */
export const starsPaymentKey = (chargeId: string) => ["payment", "stars", chargeId] as const;

/** The ledger key of a Stars credit: the provider's payment id. */
export const starsCreditKey = (chargeId: string) => `stars:${chargeId}`;

/** Handles one message at `now`. */
/** The KV keys a message needs besides the state (the runtime reads them before the turn). */
export function paymentReads(message: PaymentMessage): readonly (readonly string[])[] {
  switch (message.type) {
    case "checkStarsInvoice":
    case "starsPaid":
      return [invoiceKey(message.invoiceId)];
    case "yooCheck":
      return [attemptKey(message.attemptId)];
    default:
      return isRefundMessage(message) ? refundReads(message) : [];
  }
}

/** `read`: the values of `paymentReads(message)`. */
export function receivePayment(
  state: PaymentState,
  message: PaymentMessage,
  now: number,
  read?: readonly unknown[],
): PaymentTurn {
  switch (message.type) {
    case "createStarsInvoice": {
      const seq = state.seq + 1;
      const invoice: Invoice = {
        id: `s${seq.toString(36)}`,
        userId: message.userId,
        stars: message.stars,
        kopecks: message.kopecks,
        createdAt: now,
      };
      return {
        state: { ...state, seq },
        writes: [{ op: "set", key: invoiceKey(invoice.id), value: invoice }],
        reply: { invoiceId: invoice.id } satisfies InvoiceCreated,
      };
    }
    case "checkStarsInvoice":
      return { state, reply: checkInvoice(invoiceRead(read, now), message) };
    case "starsPaid": {
      const invoice = invoiceRead(read, now);
      const key = starsCreditKey(message.chargeId);
      // The same payment message again: the credit is either acknowledged or still on its way.
      if (invoice?.chargeId === message.chargeId) {
        const pending = state.outbox[key];
        return { state, reply: { ok: true }, effects: pending ? [{ type: "deliverCredit", credit: pending }] : [] };
      }
      const check = checkInvoice(invoice, message);
      const record = {
        provider: "stars",
        chargeId: message.chargeId,
        userId: message.userId,
        invoiceId: message.invoiceId,
        currency: message.currency,
        amount: message.amount,
        at: now,
      };
      if (!check.ok || invoice === undefined) {
        // Telegram took the user's Stars for something we cannot match: recorded for an admin to refund.
        const refusal = check.ok ? "unknown_invoice" : check.refusal;
        const writes: KvWrite[] = [
          {
            op: "set",
            key: [...starsPaymentKey(message.chargeId)],
            value: { ...record, status: "unmatched", refusal },
          },
        ];
        return { state: { ...state }, writes, reply: check };
      }
      const credit: Credit = { key, userId: invoice.userId, amount: invoice.kopecks, reason: `${invoice.stars} Stars` };
      return {
        state: { ...state, outbox: { ...state.outbox, [key]: credit } },
        writes: [
          {
            op: "set",
            key: [...starsPaymentKey(message.chargeId)],
            value: { ...record, status: "paid", kopecks: invoice.kopecks },
          },
          { op: "set", key: invoiceKey(invoice.id), value: { ...invoice, chargeId: message.chargeId } },
        ],
        reply: { ok: true },
        effects: [{ type: "deliverCredit", credit }],
      };
    }
    case "creditAcked": {
      if (state.outbox[message.key] === undefined) return { state };
      const { [message.key]: _gone, ...outbox } = state.outbox;
      return { state: { ...state, outbox } };
    }
    case "retryCredit": {
      const credit = state.outbox[message.key];
      return credit === undefined ? { state } : { state, effects: [{ type: "deliverCredit", credit }] };
    }
    case "resume":
      return { state, effects: Object.values(state.outbox).map((credit) => ({ type: "deliverCredit", credit })) };
    default:
      return isRefundMessage(message)
        ? receiveRefund(state, message, now, read)
        : receiveYooKassa(state, message, now, read);
  }
}

function checkInvoice(
  invoice: Invoice | undefined,
  message: { readonly userId: number; readonly invoiceId: string; readonly currency: string; readonly amount: number },
): PaymentCheck {
  if (invoice === undefined || invoice.userId !== message.userId) return { ok: false, refusal: "unknown_invoice" };
  if (invoice.chargeId !== undefined) return { ok: false, refusal: "already_paid" };
  if (message.currency !== "XTR" || message.amount !== invoice.stars) return { ok: false, refusal: "amount_mismatch" };
  return { ok: true };
}
