/**
 * YooKassa in the payment actor, pure: an attempt is recorded before the
 * payment is created (its id is the Idempotence-Key), and a payment is
 * credited only after a re-read from the API says `succeeded` with the
 * attempt's amount, currency and metadata: once per payment id.
 * Notifications and the user's "Check payment" only trigger that re-read.
 *
 * An attempt lives in its record only (`attemptKey`), never in the actor's
 * state: one KV value holds 64 KiB, and one user pressing a package again
 * and again must not stop everyone's payments. A user's open attempts are
 * listed in a small index record (`openAttemptsKey`, at most
 * `MAX_OPEN_ATTEMPTS`), which is what a press reads: a repeat press for the
 * same amount reuses the open attempt. The reconciliation timer scans the
 * index records, page by page.
 */
import { z } from "zod";
import type { KvWrite } from "../../actors/mod.ts";
import type { KvKey } from "../platform/types.ts";
import {
  type Credit,
  owedWrite,
  type PaymentEffect,
  type PaymentMessage,
  type PaymentState,
  type PaymentTurn,
} from "./payment-core.ts";
import { kopecksOf, type YooPayment } from "./yookassa.ts";

/** How long a YooKassa attempt is followed (and reused for a repeat press of its amount). */
export const ATTEMPT_TTL_MS = 24 * 3_600_000;

/** Open card attempts one user may have; a press beyond them is refused until one is paid, canceled or expired. */
export const MAX_OPEN_ATTEMPTS = 3;

/** Statuses an attempt's record keeps (an attempt goes through four at most). */
export const MAX_ATTEMPT_HISTORY = 8;

/** Longest payment page URL kept (YooKassa's are about a hundred characters). */
export const MAX_CONFIRMATION_URL = 2_048;

export const YooAttempt = z.object({
  id: z.string(),
  userId: z.number().int(),
  kopecks: z.number().int().positive(),
  createdAt: z.number(),
  paymentId: z.string().optional(),
  status: z.enum(["creating", "pending", "succeeded", "canceled", "failed"]),
  /** The statuses the attempt went through, with when (the last `MAX_ATTEMPT_HISTORY`). */
  history: z.array(z.object({ status: z.string(), at: z.number() })).default([]),
});
export type YooAttempt = z.infer<typeof YooAttempt>;

/** One open attempt in a user's index. */
export const OpenAttempt = z.object({
  id: z.string(),
  kopecks: z.number().int().positive(),
  createdAt: z.number(),
  paymentId: z.string().optional(),
  /** The payment page, once YooKassa created the payment (re-told on a repeat press). */
  url: z.string().optional(),
});
export type OpenAttempt = z.infer<typeof OpenAttempt>;

/** A user's open attempts (the value of `openAttemptsKey`). */
export const OpenAttempts = z.object({
  userId: z.number().int(),
  attempts: z.array(OpenAttempt),
});
export type OpenAttempts = z.infer<typeof OpenAttempts>;

/** What the user's actor hears about a YooKassa attempt. */
export type YooUserNews =
  | { readonly type: "yooReady"; readonly attemptId: string; readonly url: string; readonly kopecks: number }
  | {
      readonly type: "yooStatus";
      readonly attemptId: string;
      /**
       * `creating`: a repeat press while its bill is made; `delayed`: YooKassa did not answer clearly, the bill
       * is asked for again; `unpaid`: too many open bills.
       */
      readonly status: "pending" | "canceled" | "failed" | "creating" | "delayed" | "unpaid";
    };

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

/** Where an attempt's record lives (the audit trail of every payment attempt, and the attempt itself). */
export const attemptKey = (attemptId: string) => ["payment", "yookassa-attempt", attemptId] as const;

/** Where a user's open attempts are listed. */
export const openAttemptsKey = (userId: number): KvKey => ["payment", "yookassa-open", userId];

/** The prefix of every user's open attempts (scanned by the reconciliation). */
export const OPEN_ATTEMPTS_PREFIX: KvKey = ["payment", "yookassa-open"];

/** What a mismatching payment's record keeps of it (bounded: the API's answer may carry anything). */
function mismatchSummary(payment: YooPayment) {
  return {
    id: payment.id,
    status: payment.status,
    value: payment.amount.value.slice(0, 32),
    currency: payment.amount.currency.slice(0, 8),
    attemptId: payment.metadata?.attemptId?.slice(0, 64),
    userId: payment.metadata?.userId?.slice(0, 32),
  };
}

/** The KV record of an attempt. */
export function attemptWrite(attempt: YooAttempt, now: number, extra: Record<string, unknown> = {}): KvWrite {
  return { op: "set", key: attemptKey(attempt.id), value: { ...attempt, updatedAt: now, ...extra } };
}

/**
 * A bill still being made this long after its press lost its creation (the
 * process died waiting for YooKassa's answer): it is asked for again, under
 * the same Idempotence-Key, so YooKassa answers with the payment it made, if
 * it made one. Longer than the client's timeout with its retries.
 */
export const CREATE_STALLED_MS = 60_000;

/**
 * An open attempt whose bill is still being made past `CREATE_STALLED_MS`,
 * or (`startedAt`) whose creation began before this process started.
 */
export const createStalled = (entry: OpenAttempt, now: number, startedAt?: number) =>
  entry.url === undefined &&
  entry.paymentId === undefined &&
  (now - entry.createdAt >= CREATE_STALLED_MS || (startedAt !== undefined && entry.createdAt < startedAt));

/** True while an attempt may still be paid and is followed. */
const isOpen = (attempt: { readonly status: YooAttempt["status"] }) =>
  attempt.status === "creating" || attempt.status === "pending";

/** An attempt's record as read from KV (undefined when missing or malformed). */
function attemptRead(value: unknown): YooAttempt | undefined {
  const parsed = YooAttempt.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** A user's open attempts as read from KV, without those past their day. */
function openRead(value: unknown, userId: number, now: number): OpenAttempt[] {
  const parsed = OpenAttempts.safeParse(value);
  if (!parsed.success || parsed.data.userId !== userId) return [];
  return parsed.data.attempts.filter((attempt) => now - attempt.createdAt < ATTEMPT_TTL_MS);
}

/** The write of a user's open attempts (deleted when none is left). */
export function openWrite(userId: number, attempts: readonly OpenAttempt[]): KvWrite {
  const kept = attempts.slice(-MAX_OPEN_ATTEMPTS);
  return kept.length === 0
    ? { op: "delete", key: openAttemptsKey(userId) }
    : { op: "set", key: openAttemptsKey(userId), value: { userId, attempts: kept } satisfies OpenAttempts };
}

/** The attempt with `status`, its history extended (and capped) when the status changed. */
export function withStatus(attempt: YooAttempt, previous: YooAttempt["status"] | undefined, now: number): YooAttempt {
  if (previous === attempt.status) return attempt;
  return { ...attempt, history: [...attempt.history, { status: attempt.status, at: now }].slice(-MAX_ATTEMPT_HISTORY) };
}

export type YooMessage = Extract<
  PaymentMessage,
  {
    type:
      | "createYooPayment"
      | "yooCreated"
      | "yooCreateFailed"
      | "yooCreateUnsure"
      | "yooNotified"
      | "yooCheck"
      | "yooRead"
      | "reconcile"
      | "yooPrune"
      | "yooRecreate";
  }
>;

/** The KV keys a YooKassa message needs (read before the turn). */
export function yooReads(message: YooMessage): readonly KvKey[] {
  switch (message.type) {
    case "createYooPayment":
    case "yooPrune":
      return [openAttemptsKey(message.userId)];
    case "yooCreated":
    case "yooCreateFailed":
    case "yooCreateUnsure":
    case "yooRead":
      return [attemptKey(message.attemptId), openAttemptsKey(message.userId)];
    case "yooRecreate":
    case "yooCheck":
      return [attemptKey(message.attemptId)];
    default:
      return [];
  }
}

/** The YooKassa steps of the payment actor; `read` holds the values of `yooReads(message)`. */
export function receiveYooKassa(
  state: PaymentState,
  message: YooMessage,
  now: number,
  read?: readonly unknown[],
): PaymentTurn {
  const tell = (userId: number, news: YooUserNews) => ({ type: "tellUser" as const, userId, news });
  /** The attempt's new record and its user's index (the attempt in it while open, updated by `entry`). */
  const recorded = (
    before: YooAttempt,
    after: YooAttempt,
    open: readonly OpenAttempt[],
    turn: Omit<PaymentTurn, "state"> = {},
    extra?: Record<string, unknown>,
  ): PaymentTurn => {
    const attempt = withStatus(after, before.status, now);
    const others = open.filter((entry) => entry.id !== attempt.id);
    const mine = open.find((entry) => entry.id === attempt.id);
    const index = isOpen(attempt)
      ? [...others, { ...(mine ?? { id: attempt.id, kopecks: attempt.kopecks, createdAt: attempt.createdAt }) }]
      : others;
    return {
      ...turn,
      // A new state object: the records' writes are fenced by the state's commit.
      state: { ...state },
      writes: [attemptWrite(attempt, now, extra), openWrite(attempt.userId, index), ...(turn.writes ?? [])],
    };
  };
  switch (message.type) {
    case "createYooPayment": {
      const open = openRead(read?.[0], message.userId, now);
      const same = open.find((entry) => entry.kopecks === message.kopecks);
      if (same !== undefined) {
        // A repeat press: the bill already made (or being made, or asked for again when that stalled) for this amount.
        const news: YooUserNews =
          same.url === undefined
            ? { type: "yooStatus", attemptId: same.id, status: "creating" }
            : { type: "yooReady", attemptId: same.id, url: same.url, kopecks: same.kopecks };
        const again: PaymentEffect[] = createStalled(same, now)
          ? [{ type: "yooCreate", attempt: stalledAttempt(same, message.userId), again: true }]
          : [];
        return { state, reply: { attemptId: same.id }, effects: [tell(message.userId, news), ...again] };
      }
      if (open.length >= MAX_OPEN_ATTEMPTS) {
        const news: YooUserNews = { type: "yooStatus", attemptId: open[0]?.id ?? "", status: "unpaid" };
        return { state, reply: { refused: "too_many_open" }, effects: [tell(message.userId, news)] };
      }
      const seq = state.seq + 1;
      const attempt: YooAttempt = {
        id: `y${seq.toString(36)}`,
        userId: message.userId,
        kopecks: message.kopecks,
        createdAt: now,
        status: "creating",
        history: [{ status: "creating", at: now }],
      };
      const entry: OpenAttempt = { id: attempt.id, kopecks: attempt.kopecks, createdAt: now };
      return {
        state: { ...state, seq },
        writes: [attemptWrite(attempt, now), openWrite(message.userId, [...open, entry])],
        reply: { attemptId: attempt.id },
        effects: [{ type: "yooCreate", attempt }],
      };
    }
    case "yooCreated": {
      const attempt = attemptRead(read?.[0]);
      if (attempt === undefined || attempt.status !== "creating" || attempt.userId !== message.userId) return { state };
      const open = openRead(read?.[1], attempt.userId, now).map((entry) =>
        entry.id === attempt.id ? { ...entry, paymentId: message.paymentId, url: message.url } : entry,
      );
      const news: YooUserNews = { type: "yooReady", attemptId: attempt.id, url: message.url, kopecks: attempt.kopecks };
      return recorded(attempt, { ...attempt, status: "pending", paymentId: message.paymentId }, open, {
        effects: [tell(attempt.userId, news)],
      });
    }
    case "yooCreateFailed": {
      const attempt = attemptRead(read?.[0]);
      if (attempt === undefined || attempt.status !== "creating" || attempt.userId !== message.userId) return { state };
      const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "failed" };
      return recorded(
        attempt,
        { ...attempt, status: "failed" },
        openRead(read?.[1], attempt.userId, now),
        { effects: [tell(attempt.userId, news)] },
        { failure: message.code.slice(0, 64) },
      );
    }
    case "yooCreateUnsure": {
      // The payment may exist (and be paid): the attempt stays open, so the reconciliation asks for it again.
      const attempt = attemptRead(read?.[0]);
      if (attempt === undefined || attempt.status !== "creating" || attempt.userId !== message.userId) return { state };
      if (message.again) return { state };
      const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "delayed" };
      return {
        state: { ...state },
        writes: [attemptWrite(attempt, now, { unsure: message.code.slice(0, 64) })],
        effects: [tell(attempt.userId, news)],
      };
    }
    case "yooNotified":
      // Nothing in a notification is trusted: the payment is read from the API, and its metadata names the attempt.
      return {
        state,
        reply: { known: true },
        effects: [{ type: "yooReadPayment", paymentId: message.paymentId, tell: false }],
      };
    case "yooCheck": {
      const attempt = attemptRead(read?.[0]);
      // A finished attempt: its outcome, from its record (a success was announced with the credit).
      if (attempt !== undefined && attempt.userId === message.userId && !isOpen(attempt)) {
        if (attempt.status !== "canceled" && attempt.status !== "failed") return { state };
        return {
          state,
          effects: [tell(message.userId, { type: "yooStatus", attemptId: attempt.id, status: attempt.status })],
        };
      }
      if (attempt === undefined || attempt.userId !== message.userId || attempt.paymentId === undefined) {
        const news: YooUserNews = { type: "yooStatus", attemptId: message.attemptId, status: "failed" };
        return { state, effects: [tell(message.userId, news)] };
      }
      return {
        state,
        effects: [
          {
            type: "yooReadPayment",
            paymentId: attempt.paymentId,
            attemptId: attempt.id,
            userId: attempt.userId,
            tell: true,
          },
        ],
      };
    }
    case "yooRead": {
      const attempt = attemptRead(read?.[0]);
      if (attempt === undefined) return { state };
      const open = attempt.userId === message.userId ? openRead(read?.[1], attempt.userId, now) : [];
      const verdict = judgePayment(attempt, message.payment);
      switch (verdict.kind) {
        case "credit": {
          const paymentId = message.payment.id;
          const credit: Credit = {
            key: yooCreditKey(paymentId),
            userId: attempt.userId,
            amount: verdict.amount,
            reason: "YooKassa",
          };
          return recorded(attempt, verdict.attempt, open, {
            writes: [
              {
                op: "set",
                key: ["payment", "yookassa", paymentId],
                value: {
                  provider: "yookassa",
                  paymentId,
                  attemptId: attempt.id,
                  userId: attempt.userId,
                  kopecks: verdict.amount,
                  status: "paid",
                  at: now,
                },
              },
              owedWrite(credit),
            ],
            effects: [{ type: "deliverCredit", credit }],
          });
        }
        case "canceled": {
          const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "canceled" };
          return recorded(attempt, verdict.attempt, open, { effects: [tell(attempt.userId, news)] });
        }
        case "pending": {
          if (!message.tell) return { state };
          const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "pending" };
          return { state, effects: [tell(attempt.userId, news)] };
        }
        case "ignore":
          // A payment that does not match its attempt is recorded for an admin and credits nothing.
          if (verdict.reason === "mismatch") {
            return {
              state: { ...state },
              writes: [attemptWrite(attempt, now, { mismatch: mismatchSummary(message.payment) })],
            };
          }
          return { state };
      }
      break;
    }
    case "yooPrune": {
      // The reconciliation saw attempts past their day in this index: their slots are freed.
      const stored = OpenAttempts.safeParse(read?.[0]);
      if (!stored.success) return { state };
      const live = openRead(read?.[0], message.userId, now);
      if (live.length === stored.data.attempts.length) return { state };
      return { state: { ...state }, writes: [openWrite(message.userId, live)] };
    }
    case "reconcile":
      return {
        state,
        effects: [
          { type: "reconcileScan", ...(message.startedAt === undefined ? {} : { startedAt: message.startedAt }) },
        ],
      };
    case "yooRecreate": {
      const attempt = attemptRead(read?.[0]);
      if (attempt === undefined || attempt.status !== "creating" || attempt.userId !== message.userId) return { state };
      if (now - attempt.createdAt < CREATE_STALLED_MS && !message.cutOff) return { state };
      return { state, effects: [{ type: "yooCreate", attempt, again: true }] };
    }
  }
  return { state };
}

/** The attempt of an open entry whose creation stalled, as the create step needs it (its id is the key). */
function stalledAttempt(entry: OpenAttempt, userId: number): YooAttempt {
  return {
    id: entry.id,
    userId,
    kopecks: entry.kopecks,
    createdAt: entry.createdAt,
    status: "creating",
    history: [{ status: "creating", at: entry.createdAt }],
  };
}
