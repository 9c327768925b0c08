/**
 * Refunds by an admin, pure. A refund goes in attempts: an attempt debits
 * the user's ledger under a key of its own (`refund:<provider>:<payment
 * id>` for the first, `…#<n>` for the n-th), and only then asks the
 * provider. A provider that refuses gets the debit given back (credit
 * `revert:<debit key>` through the credit outbox) and the admin may try
 * again; a provider that answers ambiguously (timeout, 5xx, no answer) is
 * never taken for a refusal: the refund is `unknown` until the provider,
 * asked again, says how it went.
 *
 * Refunds live only in their records `["refund", key]`, not in the actor's
 * state (one KV value holds 64 KiB); one that is not finished also has an
 * index entry `["refund-open", key]` that the settler scans.
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

/**
 * Where a refund is: `debiting` (the user's actor is asked to debit),
 * `refunding` (the provider is asked), `unknown` (the provider's answer was
 * ambiguous: it is asked again until it says), `done`, `failed` (nothing
 * was refunded; the debit, if any, is given back; the admin may retry).
 */
export const RefundStatus = z.enum(["debiting", "refunding", "unknown", "done", "failed"]);
export type RefundStatus = z.infer<typeof RefundStatus>;

/** The ledger key of an attempt's debit: the first keeps the key refunds always had. */
export const debitKeyOf = (key: string, attempt: number) => (attempt === 1 ? key : `${key}#${attempt}`);

/** The ledger key of the credit that gives a debit back. */
export const revertKeyOf = (debitKey: string) => `revert:${debitKey}`;

const StoredRefund = z.object({
  key: z.string(),
  provider: RefundProvider,
  paymentId: z.string(),
  userId: z.number().int(),
  kopecks: z.number().int().positive(),
  adminId: z.number().int(),
  reason: z.string(),
  status: RefundStatus,
  at: z.number(),
  /** The attempt (records written before attempts existed are the first). */
  attempt: z.number().int().positive().default(1),
  debitKey: z.string().optional(),
  /** Checks made since the attempt's provider call, and when the next one is due. */
  checks: z.number().int().nonnegative().default(0),
  nextCheckAt: z.number().optional(),
  /** When the attempt first asked the provider (YooKassa keeps an Idempotence-Key for 24 h). */
  askedAt: z.number().optional(),
  /** True once an ambiguous answer was seen: the admin is told how the check ended. */
  checked: z.boolean().default(false),
});

/** A refund's record. */
export const Refund = StoredRefund.transform((stored) => ({
  ...stored,
  debitKey: stored.debitKey ?? debitKeyOf(stored.key, stored.attempt),
}));
export type Refund = z.output<typeof Refund>;

/** What the admin hears about a refund. */
export type RefundOutcome =
  | {
      readonly type: "refundOutcome";
      readonly paymentId: string;
      readonly status: "done";
      readonly kopecks: number;
      /** Settled by a check after an ambiguous answer. */
      readonly checked?: boolean;
    }
  /** The provider's answer was ambiguous: the refund is being checked; the admin is told how it ends. */
  | { readonly type: "refundOutcome"; readonly paymentId: string; readonly status: "checking" }
  | {
      readonly type: "refundOutcome";
      readonly paymentId: string;
      readonly status: "refused";
      readonly code:
        | "unknown_payment"
        | "not_paid"
        | "already_refunded"
        | "under_way"
        | "insufficient_funds"
        | "provider_failed";
      readonly checked?: boolean;
    };

/** The key of a payment's refund (its record's name; also the first attempt's debit key). */
export const refundKey = (provider: RefundProvider, paymentId: string) => `refund:${provider}:${paymentId}`;

/** The KV key of a payment's record. */
export const paymentRecordKey = (provider: RefundProvider, paymentId: string) => ["payment", provider, paymentId];

/** Where a refund's record lives. */
export const refundRecordKey = (key: string) => ["refund", key] as const;

/** The index of refunds not finished yet (the settler scans it). */
export const OPEN_REFUNDS_PREFIX = ["refund-open"] as const;
export const openRefundKey = (key: string) => [...OPEN_REFUNDS_PREFIX, key] as const;

/** The first check of an attempt whose answer is late (longer than a provider call may take). */
export const FIRST_CHECK_MS = 60_000;
/** The longest wait between two checks of one refund. */
export const MAX_CHECK_MS = 30 * 60_000;

/** YooKassa keeps an Idempotence-Key this long: a repeat within it answers the same refund. */
export const YOOKASSA_KEY_KEPT_MS = 24 * 3_600_000;

/** The wait before check number `checks + 1`. */
export const checkDelay = (checks: number) => Math.min(MAX_CHECK_MS, FIRST_CHECK_MS * 2 ** checks);

const isOpen = (status: RefundStatus) => status !== "done" && status !== "failed";

/** The refund's record and its place in the open index, written at every step. */
export function refundWrites(refund: Refund, now: number): KvWrite[] {
  const { key } = refund;
  return [
    { op: "set", key: refundRecordKey(key), value: { ...refund, updatedAt: now } },
    isOpen(refund.status)
      ? { op: "set", key: openRefundKey(key), value: { status: refund.status, at: refund.at } }
      : { op: "delete", key: openRefundKey(key) },
  ];
}

/** The outcome for the admin when a refund cannot start or failed. */
export function refused(
  paymentId: string,
  code: Extract<RefundOutcome, { status: "refused" }>["code"],
  checked = false,
): RefundOutcome {
  return { type: "refundOutcome", paymentId, status: "refused", code, ...(checked ? { checked } : {}) };
}

/** An admin's refund request. */
export interface RefundRequest {
  readonly provider: RefundProvider;
  readonly paymentId: string;
  readonly adminId: number;
  readonly reason: string;
}

/** What the provider said to a refund (or to a check of one). */
export type ProviderAnswer =
  | { readonly kind: "refunded" }
  /** A definite refusal: nothing was refunded. */
  | { readonly kind: "refused"; readonly code: string }
  /** Timeout, 5xx, no answer: the refund may or may not have happened. */
  | { readonly kind: "unknown"; readonly code: string };

/** Messages to the payment actor about refunds. */
export type RefundMessage =
  /** An admin asks to refund a payment (the outcome is told to the admin). */
  | ({ readonly type: "refund" } & RefundRequest)
  | { readonly type: "paymentRecordLoaded"; readonly request: RefundRequest; readonly record: unknown }
  /** The user's actor answered an attempt's debit: `unknown` when the ask itself failed. */
  | {
      readonly type: "refundDebited";
      readonly key: string;
      readonly attempt: number;
      readonly outcome: "ok" | "refused" | "unknown";
    }
  | {
      readonly type: "providerAnswered";
      readonly key: string;
      readonly attempt: number;
      readonly answer: ProviderAnswer;
    }
  /**
   * Time to look for refunds not finished (timer, and at start). At a
   * process's start (`startedAt`) the refunds asked before it are looked at
   * at once, whenever their next check was due: the process that asked may
   * have died waiting for the answer.
   */
  | { readonly type: "settleRefunds"; readonly startedAt?: number }
  /** One refund not finished, found by the settler: moved on if its next check is due (or a start cut it off). */
  | { readonly type: "settleRefund"; readonly key: string; readonly startedAt?: number };

const REFUND_MESSAGES: ReadonlySet<string> = new Set<RefundMessage["type"]>([
  "refund",
  "paymentRecordLoaded",
  "refundDebited",
  "providerAnswered",
  "settleRefunds",
  "settleRefund",
]);

/** True for the payment actor's messages that `receiveRefund` handles. */
export function isRefundMessage(message: PaymentMessage): message is RefundMessage {
  return REFUND_MESSAGES.has(message.type);
}

/** The refund steps' effects (performed by `refund-shell.ts`, detached from the actor's turn). */
export type RefundEffect =
  /** Read a payment's record (the first step of a refund). */
  | { readonly type: "loadPaymentRecord"; readonly request: RefundRequest }
  /** Debit the user's ledger for an attempt (the user's actor replies whether it could). */
  | { readonly type: "refundDebit"; readonly refund: Refund }
  /**
   * Ask the provider to refund the payment, or (`check`) how an earlier ask
   * went; `listRefunds`: by listing the payment's refunds (YooKassa, once
   * it forgot the attempt's Idempotence-Key).
   */
  | { readonly type: "providerRefund"; readonly refund: Refund; readonly check: boolean; readonly listRefunds: boolean }
  /** Find the refunds not finished and tell the actor each one (`settleRefund`). */
  | { readonly type: "findOpenRefunds"; readonly startedAt?: number };

/** The KV keys a refund message needs besides the state: the refund's record. */
export function refundReads(message: RefundMessage): readonly (readonly string[])[] {
  switch (message.type) {
    case "refund":
      return [refundRecordKey(refundKey(message.provider, message.paymentId))];
    case "paymentRecordLoaded":
      return [refundRecordKey(refundKey(message.request.provider, message.request.paymentId))];
    case "refundDebited":
    case "providerAnswered":
    case "settleRefund":
      return [refundRecordKey(message.key)];
    case "settleRefunds":
      return [];
  }
}

/** A refund's record as read for a turn; undefined when missing or malformed. */
export function refundRead(read: readonly unknown[] | undefined): Refund | undefined {
  const parsed = Refund.safeParse(read?.[0]);
  return parsed.success ? parsed.data : undefined;
}

const toAdmin = (adminId: number, outcome: RefundOutcome): PaymentEffect => ({
  type: "tellUser",
  userId: adminId,
  news: outcome,
});

/**
 * The refund steps of the payment actor. Every step reads the refund's
 * record (`read`), checks it is where the message expects (same attempt,
 * right status: a late message never moves a refund backwards) and writes it.
 */
export function receiveRefund(
  state: PaymentState,
  message: RefundMessage,
  now: number,
  read?: readonly unknown[],
): PaymentTurn {
  const current = refundRead(read);
  const step = (refund: Refund, effects: PaymentEffect[], next: PaymentState = state): PaymentTurn => ({
    state: next,
    writes: refundWrites(refund, now),
    effects,
  });
  /** The message is about the attempt the record is at, in one of `statuses`. */
  const at = (key: string, attempt: number, ...statuses: RefundStatus[]): Refund | undefined =>
    current !== undefined && current.key === key && current.attempt === attempt && statuses.includes(current.status)
      ? current
      : undefined;
  switch (message.type) {
    case "refund": {
      const { type: _type, ...request } = message;
      const busy = busyOutcome(current, request.paymentId);
      if (busy !== undefined) return { state, effects: [toAdmin(request.adminId, busy)] };
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
      const busy = busyOutcome(current, request.paymentId);
      if (busy !== undefined) return { state, effects: [toAdmin(request.adminId, busy)] };
      const key = refundKey(request.provider, request.paymentId);
      // A failed refund is tried again as a new attempt: a debit under a new key, so it is not taken for a repeat.
      const attempt = current === undefined ? 1 : current.attempt + 1;
      const refund: Refund = {
        key,
        ...request,
        userId: record.data.userId,
        kopecks: record.data.kopecks,
        status: "debiting",
        at: now,
        attempt,
        debitKey: debitKeyOf(key, attempt),
        checks: 0,
        nextCheckAt: now + FIRST_CHECK_MS,
        checked: false,
      };
      return step(refund, [{ type: "refundDebit", refund }]);
    }
    case "refundDebited": {
      const refund = at(message.key, message.attempt, "debiting");
      if (refund === undefined) return { state };
      // The ask failed (the user's actor busy or gone): the settler asks again (the same key debits once).
      if (message.outcome === "unknown") return { state };
      if (message.outcome === "refused") {
        return step({ ...refund, status: "failed" }, [
          toAdmin(refund.adminId, refused(refund.paymentId, "insufficient_funds")),
        ]);
      }
      const refunding: Refund = { ...refund, status: "refunding", askedAt: now, nextCheckAt: now + FIRST_CHECK_MS };
      return step(refunding, [{ type: "providerRefund", refund: refunding, check: false, listRefunds: false }]);
    }
    case "providerAnswered": {
      const refund = at(message.key, message.attempt, "refunding", "unknown");
      if (refund === undefined) return { state };
      return answered(state, refund, message.answer, now);
    }
    case "settleRefunds":
      return {
        state,
        effects: [
          { type: "findOpenRefunds", ...(message.startedAt === undefined ? {} : { startedAt: message.startedAt }) },
        ],
      };
    case "settleRefund": {
      if (current === undefined || !isOpen(current.status)) {
        // A stale index entry (the refund finished, or its record is gone): dropped.
        return { state, writes: [{ op: "delete", key: openRefundKey(message.key) }] };
      }
      const cutOff = message.startedAt !== undefined && (current.askedAt ?? current.at) < message.startedAt;
      if ((current.nextCheckAt ?? 0) > now && !cutOff) return { state };
      const next: Refund = {
        ...current,
        checks: current.checks + 1,
        nextCheckAt: now + checkDelay(current.checks + 1),
      };
      if (current.status === "debiting") return step(next, [{ type: "refundDebit", refund: next }]);
      // Past a day YooKassa forgot the key (a repeat would be a new request): the payment's refunds are listed.
      const forgotten =
        current.provider === "yookassa" && now - (current.askedAt ?? current.at) >= YOOKASSA_KEY_KEPT_MS;
      return step(next, [{ type: "providerRefund", refund: next, check: true, listRefunds: forgotten }]);
    }
  }
}

/** What the admin hears when a refund cannot start because of the one recorded, if anything. */
function busyOutcome(current: Refund | undefined, paymentId: string): RefundOutcome | undefined {
  if (current === undefined || current.status === "failed") return undefined;
  return refused(paymentId, current.status === "done" ? "already_refunded" : "under_way");
}

/** A refund (refunding, or unknown) after the provider's answer. */
function answered(state: PaymentState, refund: Refund, answer: ProviderAnswer, now: number): PaymentTurn {
  const checked = refund.checked;
  switch (answer.kind) {
    case "refunded":
      return {
        state,
        writes: refundWrites({ ...refund, status: "done" }, now),
        effects: [
          toAdmin(refund.adminId, {
            type: "refundOutcome",
            paymentId: refund.paymentId,
            status: "done",
            kopecks: refund.kopecks,
            ...(checked ? { checked } : {}),
          }),
          { type: "tellUser", userId: refund.userId, news: { type: "refunded", kopecks: refund.kopecks } },
        ],
      };
    case "refused": {
      // The provider kept the money: the user gets this attempt's debit back, once.
      const credit: Credit = {
        key: revertKeyOf(refund.debitKey),
        userId: refund.userId,
        amount: refund.kopecks,
        reason: `refund failed: ${answer.code}`.slice(0, 200),
      };
      return {
        state: { ...state, outbox: { ...state.outbox, [credit.key]: credit } },
        writes: refundWrites({ ...refund, status: "failed" }, now),
        effects: [
          { type: "deliverCredit", credit },
          toAdmin(refund.adminId, refused(refund.paymentId, "provider_failed", checked)),
        ],
      };
    }
    case "unknown": {
      if (refund.status === "unknown") return { state };
      // The first ambiguous answer: the admin is told it is being checked (the check is on the settler's timer).
      const unknown: Refund = { ...refund, status: "unknown", checked: true };
      return {
        state,
        writes: refundWrites(unknown, now),
        effects: [toAdmin(refund.adminId, { type: "refundOutcome", paymentId: refund.paymentId, status: "checking" })],
      };
    }
  }
}
