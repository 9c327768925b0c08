/**
 * YooKassa in the payment actor, pure: an attempt is recorded before the
 * payment is created (its id is the Idempotence-Key), and a payment is
 * credited only after a re-read from the API says `succeeded` with the
 * attempt's amount, currency and metadata: once per payment id.
 * Notifications and the user's "Check payment" only trigger that re-read.
 */
import { z } from "zod";
import type { KvWrite } from "../../actors/mod.ts";
import type { Credit, PaymentMessage, PaymentState, PaymentTurn } from "./payment-core.ts";
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

/** Where an attempt's record lives. */
export const attemptKey = (attemptId: string) => ["payment", "yookassa-attempt", attemptId] as const;

/** The KV record of an attempt (the audit trail of every payment attempt). */
export function attemptWrite(attempt: YooAttempt, now: number, extra: Record<string, unknown> = {}): KvWrite {
  return { op: "set", key: attemptKey(attempt.id), value: { ...attempt, updatedAt: now, ...extra } };
}

/** Attempts the actor still follows; a final one lives in its record only (one KV value holds 64 KiB). */
const isOpen = (attempt: YooAttempt) => attempt.status === "creating" || attempt.status === "pending";

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

export type YooMessage = Extract<
  PaymentMessage,
  { type: "createYooPayment" | "yooCreated" | "yooCreateFailed" | "yooNotified" | "yooCheck" | "yooRead" | "reconcile" }
>;

/** The YooKassa steps of the payment actor. */
export function receiveYooKassa(
  state: PaymentState,
  message: YooMessage,
  now: number,
  read?: readonly unknown[],
): PaymentTurn {
  const withAttempt = (
    attempt: YooAttempt,
    turn: Omit<PaymentTurn, "state"> = {},
    extra?: Record<string, unknown>,
  ): PaymentTurn => {
    // The record keeps every status the attempt went through.
    const previous = state.yoo[attempt.id];
    const recorded: YooAttempt =
      previous?.status === attempt.status
        ? attempt
        : { ...attempt, history: [...attempt.history, { status: attempt.status, at: now }] };
    const { [attempt.id]: _before, ...others } = pruned(state.yoo, now);
    return {
      ...turn,
      state: { ...state, yoo: isOpen(recorded) ? { ...others, [attempt.id]: recorded } : others },
      writes: [attemptWrite(recorded, now, extra), ...(turn.writes ?? [])],
    };
  };
  switch (message.type) {
    case "createYooPayment": {
      const seq = state.seq + 1;
      const attempt: YooAttempt = {
        id: `y${seq.toString(36)}`,
        userId: message.userId,
        kopecks: message.kopecks,
        createdAt: now,
        status: "creating",
        history: [],
      };
      const turn = withAttempt(attempt, {
        reply: { attemptId: attempt.id },
        effects: [{ type: "yooCreate", attempt }],
      });
      return { ...turn, state: { ...turn.state, seq } };
    }
    case "yooCreated": {
      const attempt = state.yoo[message.attemptId];
      if (attempt === undefined || attempt.status !== "creating") return { state };
      const pending: YooAttempt = { ...attempt, status: "pending", paymentId: message.paymentId };
      const news: YooUserNews = { type: "yooReady", attemptId: attempt.id, url: message.url, kopecks: attempt.kopecks };
      return withAttempt(pending, { effects: [{ type: "tellUser", userId: attempt.userId, news }] });
    }
    case "yooCreateFailed": {
      const attempt = state.yoo[message.attemptId];
      if (attempt === undefined || attempt.status !== "creating") return { state };
      const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "failed" };
      return withAttempt(
        { ...attempt, status: "failed" },
        { effects: [{ type: "tellUser", userId: attempt.userId, news }] },
        { failure: message.code },
      );
    }
    case "yooNotified": {
      const attempt = attemptOfPayment(state.yoo, message.paymentId);
      if (attempt === undefined) return { state, reply: { known: false } };
      return { state, reply: { known: true }, effects: [{ type: "yooReadPayment", attempt, tell: false }] };
    }
    case "yooCheck": {
      const recorded = YooAttempt.safeParse(read?.[0]);
      const attempt = state.yoo[message.attemptId] ?? (recorded.success ? recorded.data : undefined);
      // A finished attempt: its outcome, from its record (a success was announced with the credit).
      if (attempt !== undefined && attempt.userId === message.userId && !isOpen(attempt)) {
        if (attempt.status !== "canceled" && attempt.status !== "failed") return { state };
        const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: attempt.status };
        return { state, effects: [{ type: "tellUser", userId: message.userId, news }] };
      }
      if (attempt === undefined || attempt.userId !== message.userId || attempt.paymentId === undefined) {
        const news: YooUserNews = { type: "yooStatus", attemptId: message.attemptId, status: "failed" };
        return { state, effects: [{ type: "tellUser", userId: message.userId, news }] };
      }
      return { state, effects: [{ type: "yooReadPayment", attempt, tell: true }] };
    }
    case "yooRead": {
      const attempt = state.yoo[message.attemptId];
      if (attempt === undefined) return { state };
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
          const turn = withAttempt(verdict.attempt, {
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
            ],
            effects: [{ type: "deliverCredit", credit }],
          });
          return { ...turn, state: { ...turn.state, outbox: { ...state.outbox, [credit.key]: credit } } };
        }
        case "canceled": {
          const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "canceled" };
          return withAttempt(verdict.attempt, { effects: [{ type: "tellUser", userId: attempt.userId, news }] });
        }
        case "pending": {
          if (!message.tell) return { state };
          const news: YooUserNews = { type: "yooStatus", attemptId: attempt.id, status: "pending" };
          return { state, effects: [{ type: "tellUser", userId: attempt.userId, news }] };
        }
        case "ignore":
          // A payment that does not match its attempt is recorded for an admin and credits nothing.
          if (verdict.reason === "mismatch") {
            return { state, writes: [attemptWrite(attempt, now, { mismatch: message.payment })] };
          }
          return { state };
      }
      break;
    }
    case "reconcile":
      return {
        state,
        effects: followed(state.yoo, now)
          .filter((attempt) => attempt.paymentId !== undefined)
          .map((attempt) => ({ type: "yooReadPayment", attempt, tell: false })),
      };
  }
  return { state };
}
