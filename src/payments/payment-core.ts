/**
 * The payment actor's pure core: invoices it issued, payments it recorded
 * and the credits it still owes users. A credit leaves only as a message to
 * the user's actor keyed by the provider's payment id, and stays in the
 * outbox until that actor acknowledges it, so it lands exactly once even if
 * a worker or the process dies in between.
 */
import { z } from "zod";
import type { KvWrite, Turn } from "../../actors/mod.ts";
import type { KvKey } from "../platform/types.ts";
import {
  isRefundMessage,
  Refund,
  type RefundEffect,
  type RefundMessage,
  type RefundOutcome,
  receiveRefund,
  refundReads,
  refundWrites,
} from "./refund-core.ts";
import type { YooPayment } from "./yookassa.ts";
import {
  ATTEMPT_TTL_MS,
  attemptWrite,
  MAX_OPEN_ATTEMPTS,
  type OpenAttempt,
  openWrite,
  receiveYooKassa,
  YooAttempt,
  type YooMessage,
  type YooUserNews,
  yooReads,
} from "./yookassa-core.ts";

/**
 * The payment actor's state in KV: a counter and empty legacy fields,
 * whatever users do (proven at its worst case by `tests/payments.budget.test.ts`).
 */
export const PAYMENT_STATE_BUDGET = 1024;

/**
 * Each record the payment actor writes (an invoice, a payment, an attempt
 * with its capped history, a user's open attempts, an owed credit), at its
 * worst case: well under KV's 64 KiB.
 */
export const PAYMENT_RECORD_BUDGET = 16 * 1024;

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

/**
 * A credit owed to a user until the user's actor acknowledges it: a record
 * of its own, written in the commit that recorded the payment, deleted by
 * the acknowledgement. `resume` and a timer deliver every one still here.
 */
export const owedKey = (creditKey: string): KvKey => ["payment", "owed", creditKey];

/** The prefix of every owed credit (scanned at start and on a timer). */
export const OWED_PREFIX: KvKey = ["payment", "owed"];

export function owedWrite(credit: Credit): KvWrite {
  return { op: "set", key: owedKey(credit.key), value: credit };
}

/**
 * The payment actor's one value: O(1) whatever users do (proven in
 * `tests/payments.budget.test.ts`); invoices, attempts and owed credits
 * live in records of their own.
 */
export const PaymentState = z.object({
  v: z.literal(1),
  /** Invoices and card attempts issued so far (their ids count up). Earlier versions kept the invoices here too: dropped on load. */
  seq: z.number().int().nonnegative(),
  /**
   * Credits to move into owed records at the end of the turn that added
   * them (earlier versions kept every unacknowledged credit here). Always
   * empty once a turn is committed.
   */
  outbox: z.record(z.string(), Credit).default({}),
  /** Earlier versions' card attempts: moved into their records on the first turn. Always empty after it. */
  yoo: z.record(z.string(), YooAttempt).default({}),
  /**
   * Earlier versions' refunds under way, by key: moved into their records
   * and the open index on the first turn, so the settler finishes them.
   * Absent after it. Each is parsed then (a malformed one cannot be settled).
   */
  refunds: z.record(z.string(), z.unknown()).optional(),
});
export type PaymentState = z.infer<typeof PaymentState>;

export function initialPaymentState(): PaymentState {
  return { v: 1, seq: 0, outbox: {}, yoo: {} };
}

/** Why a payment or a pre-checkout is refused. */
export type PaymentRefusal = "unknown_invoice" | "already_paid" | "amount_mismatch";

/** Messages to the payment actor. */
export type PaymentMessage =
  | { readonly type: "createStarsInvoice"; readonly userId: number; readonly stars: number; readonly kopecks: number }
  | {
      readonly type: "starsPaid";
      readonly userId: number;
      readonly invoiceId: string;
      readonly chargeId: string;
      readonly currency: string;
      readonly amount: number;
    }
  | { readonly type: "creditAcked"; readonly key: string }
  /** Delivers one owed credit again (its last delivery was not acknowledged). */
  | { readonly type: "retryCredit"; readonly key: string }
  /** At start: deliver every owed credit again. */
  | { readonly type: "resume" }
  /** A timer: deliver every owed credit again (a retry lost with a worker). */
  | { readonly type: "redeliver" }
  /** A user asked to pay `kopecks` by card (replies `{ attemptId }`, or `{ refused }` with too many open ones). */
  | { readonly type: "createYooPayment"; readonly userId: number; readonly kopecks: number }
  | {
      readonly type: "yooCreated";
      readonly attemptId: string;
      readonly userId: number;
      readonly paymentId: string;
      readonly url: string;
    }
  | { readonly type: "yooCreateFailed"; readonly attemptId: string; readonly userId: number; readonly code: string }
  /**
   * YooKassa gave no clear answer to a create (no answer, a 5xx, a 429, an
   * answer that does not parse): the payment may exist. The attempt stays
   * `creating` and is asked for again under the same key once it is stalled;
   * `again`: this create was already such a repeat.
   */
  | {
      readonly type: "yooCreateUnsure";
      readonly attemptId: string;
      readonly userId: number;
      readonly code: string;
      readonly again: boolean;
    }
  /** A notification named this payment (its sender was allowlisted); replies `{ known }`. */
  | { readonly type: "yooNotified"; readonly paymentId: string }
  /** The user pressed "Check payment". */
  | { readonly type: "yooCheck"; readonly userId: number; readonly attemptId: string }
  /** The shell re-read a payment from the API (`attemptId`, `userId`: its attempt, as the API's metadata names it). */
  | {
      readonly type: "yooRead";
      readonly attemptId: string;
      readonly userId: number;
      readonly payment: YooPayment;
      readonly tell: boolean;
    }
  /**
   * Time to re-read every payment still pending (lost notifications). The
   * first one after a process's start names the start: bills whose creation
   * began before it are asked for again at once (the process that asked may
   * have died waiting).
   */
  | { readonly type: "reconcile"; readonly startedAt?: number }
  /** The reconciliation found attempts past their day in this user's index. */
  | { readonly type: "yooPrune"; readonly userId: number }
  /**
   * The reconciliation found this attempt's bill still being made long after
   * its press (`CREATE_STALLED_MS`), or begun before this process started (`cutOff`).
   */
  | { readonly type: "yooRecreate"; readonly attemptId: string; readonly userId: number; readonly cutOff: boolean }
  /** Refunds by an admin (see `refund-core.ts`). */
  | RefundMessage;

/** Replies, by message type. */
export type InvoiceCreated = { readonly invoiceId: string };
/** How an invoice checks against a pre-checkout or a payment. */
export type PaymentCheck = { readonly ok: true } | { readonly ok: false; readonly refusal: PaymentRefusal };

/** What the shell does after a commit; none of it holds up the actor's next turn. */
export type PaymentEffect =
  /** Deliver a credit to the user's actor until it acknowledges (`retry`: the next try of a failed delivery). */
  | { readonly type: "deliverCredit"; readonly credit: Credit; readonly retry?: true }
  /** Deliver every owed credit (scans `OWED_PREFIX`). */
  | { readonly type: "redeliverOwed" }
  /**
   * Create the attempt's payment at YooKassa; `again`: its creation stalled
   * and is asked for again (YooKassa answers a repeated Idempotence-Key with
   * its first answer, so the payment is read afterwards for how it is now).
   */
  | { readonly type: "yooCreate"; readonly attempt: YooAttempt; readonly again?: true }
  /**
   * Re-read a payment; `tell` reports a still pending one to the user. Its
   * attempt is `attemptId` when known, else the one the API's metadata names.
   */
  | {
      readonly type: "yooReadPayment";
      readonly paymentId: string;
      readonly attemptId?: string;
      readonly userId?: number;
      readonly tell: boolean;
    }
  /** Re-read every open attempt's payment (scans the users' open attempts, `OPEN_ATTEMPTS_PREFIX`). */
  | { readonly type: "reconcileScan"; readonly startedAt?: number }
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

/** Statuses of a Stars payment record that no later report may change (records never move backwards). */
const SETTLED_STARS = new Set(["paid", "refunded"]);

const isYooMessage = (message: PaymentMessage): message is YooMessage =>
  message.type === "createYooPayment" ||
  message.type === "yooCreated" ||
  message.type === "yooCreateFailed" ||
  message.type === "yooCreateUnsure" ||
  message.type === "yooNotified" ||
  message.type === "yooCheck" ||
  message.type === "yooRead" ||
  message.type === "reconcile" ||
  message.type === "yooPrune" ||
  message.type === "yooRecreate";

/** The KV keys a message needs besides the state (the runtime reads them before the turn). */
export function paymentReads(message: PaymentMessage): readonly KvKey[] {
  switch (message.type) {
    case "starsPaid":
      return [
        invoiceKey(message.invoiceId),
        starsPaymentKey(message.chargeId),
        owedKey(starsCreditKey(message.chargeId)),
      ];
    case "retryCredit":
      return [owedKey(message.key)];
    default:
      if (isRefundMessage(message)) return refundReads(message);
      return isYooMessage(message) ? yooReads(message) : [];
  }
}

/**
 * Handles one message at `now`; `read`: the values of `paymentReads(message)`.
 * A state an earlier version saved (credits and attempts in it) is first
 * moved into records, in the same commit; the message then sees those records.
 */
export function receivePayment(
  state: PaymentState,
  message: PaymentMessage,
  now: number,
  read?: readonly unknown[],
): PaymentTurn {
  const legacy = migrateLegacy(state, now);
  const seen =
    legacy === undefined
      ? read
      : paymentReads(message).map((key, i) =>
          legacy.values.has(keyId(key)) ? legacy.values.get(keyId(key)) : read?.[i],
        );
  const turn = receiveMessage(legacy?.state ?? state, message, now, seen);
  // Credits a step added to the outbox (refunds given back) become owed records in the same commit.
  const added = Object.values(turn.state.outbox);
  const writes = [...(legacy?.writes ?? []), ...(turn.writes ?? []), ...added.map(owedWrite)];
  if (legacy === undefined && added.length === 0) return turn;
  return { ...turn, state: { ...turn.state, outbox: {} }, writes: lastWriteOfEachKey(writes) };
}

function receiveMessage(
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
    case "starsPaid": {
      const invoice = invoiceRead(read, now);
      const owed = Credit.safeParse(read?.[2]);
      const deliver: PaymentEffect[] = owed.success ? [{ type: "deliverCredit", credit: owed.data }] : [];
      const key = starsCreditKey(message.chargeId);
      const existing = z.looseObject({ status: z.string() }).safeParse(read?.[1]);
      // The same payment again (however late): its record stands; the credit is acknowledged or still owed.
      if (invoice?.chargeId === message.chargeId || (existing.success && SETTLED_STARS.has(existing.data.status))) {
        return { state, reply: { ok: true }, effects: deliver };
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
        if (existing.success) return { state, reply: check };
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
        state: { ...state },
        writes: [
          {
            op: "set",
            key: [...starsPaymentKey(message.chargeId)],
            value: { ...record, status: "paid", kopecks: invoice.kopecks },
          },
          { op: "set", key: invoiceKey(invoice.id), value: { ...invoice, chargeId: message.chargeId } },
          owedWrite(credit),
        ],
        reply: { ok: true },
        effects: [{ type: "deliverCredit", credit }],
      };
    }
    case "creditAcked":
      // Deleting a credit no longer owed changes nothing.
      return { state: { ...state }, writes: [{ op: "delete", key: owedKey(message.key) }] };
    case "retryCredit": {
      const owed = Credit.safeParse(read?.[0]);
      return owed.success ? { state, effects: [{ type: "deliverCredit", credit: owed.data, retry: true }] } : { state };
    }
    case "resume":
    case "redeliver":
      return { state, effects: [{ type: "redeliverOwed" }] };
    default:
      return isRefundMessage(message)
        ? receiveRefund(state, message, now, read)
        : receiveYooKassa(state, message, now, read);
  }
}

/** A key as a map key. */
const keyId = (key: KvKey) => JSON.stringify(key);

/** The writes with one per key, the last (KV takes one mutation per key in a commit). */
function lastWriteOfEachKey(writes: readonly KvWrite[]): KvWrite[] {
  const last = new Map<string, number>();
  writes.forEach((write, i) => {
    if (write.op !== "enqueue") last.set(keyId(write.key), i);
  });
  return writes.filter((write, i) => write.op === "enqueue" || last.get(keyId(write.key)) === i);
}

/**
 * An earlier version's state moved into records: every credit it owed into
 * an owed record, every attempt still open into its record and its user's
 * index (the newest `MAX_OPEN_ATTEMPTS`; older ones still credit when paid,
 * by their record), every refund under way into its record and the open
 * index (the settler takes it on from where it stood: a debit asked for is
 * asked again under the same key, a provider asked is asked how it went).
 * Undefined when there is nothing to move.
 */
function migrateLegacy(
  state: PaymentState,
  now: number,
): { state: PaymentState; writes: KvWrite[]; values: Map<string, unknown> } | undefined {
  const credits = Object.values(state.outbox);
  const attempts = Object.values(state.yoo);
  if (credits.length === 0 && attempts.length === 0 && state.refunds === undefined) return undefined;
  const writes: KvWrite[] = credits.map(owedWrite);
  for (const stored of Object.values(state.refunds ?? {})) {
    // Their shape is the first attempt's (its debit key is the refund's key, as it was then).
    const refund = Refund.safeParse(stored);
    if (refund.success) writes.push(...refundWrites(refund.data, now));
  }
  const byUser = new Map<number, OpenAttempt[]>();
  for (const attempt of attempts) {
    const open =
      (attempt.status === "creating" || attempt.status === "pending") && now - attempt.createdAt < ATTEMPT_TTL_MS;
    if (!open) continue;
    writes.push(attemptWrite(attempt, now));
    const entry: OpenAttempt = {
      id: attempt.id,
      kopecks: attempt.kopecks,
      createdAt: attempt.createdAt,
      ...(attempt.paymentId === undefined ? {} : { paymentId: attempt.paymentId }),
    };
    byUser.set(attempt.userId, [...(byUser.get(attempt.userId) ?? []), entry]);
  }
  for (const [userId, entries] of byUser) {
    writes.push(openWrite(userId, entries.sort((a, b) => a.createdAt - b.createdAt).slice(-MAX_OPEN_ATTEMPTS)));
  }
  const values = new Map<string, unknown>();
  for (const write of writes) if (write.op === "set") values.set(keyId(write.key), write.value);
  // Attempt ids count from `seq` (s… and y… share it): nothing to renumber.
  const { refunds: _moved, ...rest } = state;
  return { state: { ...rest, outbox: {}, yoo: {} }, writes, values };
}

/**
 * A pre-checkout's answer, from the invoice's record as read from KV: yes
 * only for this user's unpaid invoice, in Stars, for its amount. Nothing
 * changes with the answer, so it needs no turn of the payment actor (whose
 * mailbox may be long after a restart, while Telegram waits 10 s).
 */
export function checkPreCheckout(
  storedInvoice: unknown,
  query: { readonly userId: number; readonly invoiceId: string; readonly currency: string; readonly amount: number },
  now: number,
): PaymentCheck {
  return checkInvoice(invoiceRead([storedInvoice], now), query);
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
