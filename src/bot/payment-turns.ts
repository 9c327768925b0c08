/**
 * The user actor's side of payments, pure: a Stars payment Telegram reports
 * is kept in the user's state until the payment actor has recorded it; a
 * credit from the payment actor is applied once per provider payment id and
 * the user is told the new balance.
 */
import type { KvWrite } from "../../actors/mod.ts";
import { OPEN_PAYMENTS } from "../jobs/keys.ts";
import { applyEntry } from "../ledger/ledger.ts";
import { availableOf } from "../ledger/wallet.ts";
import type { PaymentRefusal } from "../payments/payment-core.ts";
import { formatRub } from "./money.ts";
import type { UserState } from "./state.ts";
import type { UserTurn } from "./turn-parts.ts";
import { show } from "./turn-parts.ts";
import type { BotEffect, Target } from "./views.ts";

/** Messages about payments: a credit from the payment actor, and the payment actor's answer to a report. */
export type PaymentUserMessage =
  | {
      readonly type: "credit";
      readonly key: string;
      readonly userId: number;
      readonly amount: number;
      readonly reason: string;
    }
  | {
      readonly type: "starsReported";
      readonly chargeId: string;
      readonly refusal?: PaymentRefusal;
      /** The payment actor did not have it yet: the number of failed reports so far (the next one follows). */
      readonly unrecorded?: number;
    };

/** A `successful_payment` as Telegram sends it (the fields the bot uses). */
export interface StarsPayment {
  readonly currency: string;
  readonly total_amount: number;
  readonly invoice_payload: string;
  readonly telegram_payment_charge_id: string;
}

/** Marks a Stars payment open until the payment actor has it (the start-up scan resumes these users). */
export const openPaymentKey = (userId: number, chargeId: string) => [...OPEN_PAYMENTS, userId, chargeId];

/** Telegram took the user's Stars: keep the payment, then report it to the payment actor. */
export function receiveStarsPayment(state: UserState, payment: StarsPayment, userId: number): UserTurn {
  const chargeId = payment.telegram_payment_charge_id;
  if (state.pendingStars[chargeId] !== undefined) return { state };
  const pending = { invoiceId: payment.invoice_payload, currency: payment.currency, amount: payment.total_amount };
  return {
    state: { ...state, pendingStars: { ...state.pendingStars, [chargeId]: pending } },
    writes: [{ op: "set", key: openPaymentKey(userId, chargeId), value: true }],
    effects: [{ type: "reportStars", chargeId, ...pending }],
  };
}

/** Reports of every payment still pending (after a restart). */
export function reportPendingStars(state: UserState): BotEffect[] {
  return Object.entries(state.pendingStars).map(([chargeId, pending]) => ({
    type: "reportStars",
    chargeId,
    ...pending,
  }));
}

/** Handles a payment message for user `userId` at `now`. */
export function receivePaymentMessage(
  state: UserState,
  message: PaymentUserMessage,
  userId: number,
  now: number,
): UserTurn {
  switch (message.type) {
    case "starsReported": {
      const pending = state.pendingStars[message.chargeId];
      if (pending === undefined) return { state };
      if (message.unrecorded !== undefined) {
        // Not recorded yet: reported again (after a wait) for as long as it is pending.
        return {
          state,
          effects: [{ type: "reportStars", chargeId: message.chargeId, ...pending, retry: message.unrecorded }],
        };
      }
      const { [message.chargeId]: _gone, ...pendingStars } = state.pendingStars;
      const effects: BotEffect[] = message.refusal
        ? [
            {
              type: "show",
              target: { chatId: userId },
              lang: state.lang,
              view: { kind: "notice" },
              notice: { key: "payment-unmatched" },
            },
          ]
        : [];
      return {
        state: { ...state, pendingStars },
        writes: [{ op: "delete", key: openPaymentKey(userId, message.chargeId) }],
        effects,
      };
    }
    case "credit": {
      const applied = applyEntry(
        state.wallet,
        { type: "credit", key: message.key, amount: message.amount, reason: message.reason },
        now,
      );
      // A credit seen before is acknowledged again and changes nothing.
      if (!applied.ok) return { state };
      const writes: KvWrite[] = [{ op: "set", key: ["ledger", userId, message.key], value: applied.record }];
      const notice = {
        key: "topped-up",
        args: {
          amount: formatRub(message.amount, state.lang),
          balance: formatRub(availableOf(applied.wallet), state.lang),
        },
      };
      return {
        state: { ...state, wallet: applied.wallet },
        writes,
        effects: [{ type: "show", target: { chatId: userId }, lang: state.lang, view: { kind: "main" }, notice }],
      };
    }
  }
}

/** The amount of a card top-up, typed in rubles (50 to 50,000). */
export function onTypedAmount(state: UserState, text: string, target: Target): UserTurn {
  const match = text.trim().match(/^(\d{1,6})(?:[.,](\d{1,2}))?$/);
  const kopecks = match ? Number(match[1]) * 100 + Number((match[2] ?? "0").padEnd(2, "0")) : 0;
  if (kopecks < 5_000 || kopecks > 5_000_000) {
    return { state, effects: [show(state, target, { kind: "notice" }, { key: "yoo-amount-invalid" })] };
  }
  const next = { ...state, awaitingAmount: false };
  return { state: next, effects: [{ type: "yooPay", chatId: target.chatId, lang: state.lang, amount: { kopecks } }] };
}
