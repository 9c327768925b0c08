/**
 * A new user's first /start, pure: the welcome gift (once per user), and a
 * referral link's bonus for both the inviter and the invitee (once per
 * pair, never for oneself). Bank changes carry idempotency keys like money.
 */
import type { KvWrite } from "../../actors/mod.ts";
import { applyEntry, rememberKey, remembersKey } from "../ledger/ledger.ts";
import type { UserRules } from "./job-core.ts";
import { formatRub } from "./money.ts";
import type { UserState } from "./state.ts";
import type { UserTurn } from "./turn-parts.ts";
import type { BotEffect, Notice } from "./views.ts";

/** Messages between the actors of an inviter and an invitee. */
export type ReferralMessage =
  /** To the inviter: someone new started the bot with their link. Replies `{ accepted }`. */
  | { readonly type: "referred"; readonly inviteeId: number }
  /** To the invitee: the inviter's answer. */
  | { readonly type: "referralAnswered"; readonly inviterId: number; readonly accepted: boolean };

/** The inviter named by a `ref_<id in base 36>` start payload, if it is a plausible user id. */
export function inviterOf(payload: string | undefined): number | undefined {
  const match = payload?.match(/^ref_([0-9a-z]{1,11})$/);
  if (!match?.[1]) return undefined;
  const id = Number.parseInt(match[1], 36);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * What a first /start adds: the welcome gift and the referral request. The
 * returned notice tells the user about the gift.
 */
export function welcome(
  state: UserState,
  payload: string | undefined,
  userId: number,
  now: number,
  rules: UserRules,
): { state: UserState; writes: KvWrite[]; effects: BotEffect[]; notice?: Notice } {
  if (state.welcomed) return { state, writes: [], effects: [] };
  let next: UserState = { ...state, welcomed: true };
  const writes: KvWrite[] = [];
  const effects: BotEffect[] = [];
  let notice: Notice | undefined;
  if (rules.welcomeGiftKopecks > 0) {
    const entry = { type: "credit", key: "welcome", amount: rules.welcomeGiftKopecks, reason: "welcome gift" } as const;
    const applied = applyEntry(next.wallet, entry, now);
    if (applied.ok) {
      next = { ...next, wallet: applied.wallet };
      writes.push({ op: "set", key: ["ledger", userId, entry.key], value: applied.record });
      notice = { key: "welcome-gift", args: { amount: formatRub(rules.welcomeGiftKopecks, next.lang) } };
    }
  }
  const inviterId = inviterOf(payload);
  if (inviterId !== undefined && inviterId !== userId && rules.referralBonus > 0) {
    next = { ...next, referralPending: inviterId };
    effects.push({ type: "refer", inviterId });
  }
  return { state: next, writes, effects, ...(notice ? { notice } : {}) };
}

/** Handles a referral message for user `userId`. */
export function receiveReferral(
  state: UserState,
  message: ReferralMessage,
  userId: number,
  rules: UserRules,
): UserTurn {
  switch (message.type) {
    case "referred": {
      // Only a user who has used the bot can invite; nobody invites themselves.
      if (state.firstSeenAt === 0 || message.inviteeId === userId) return { state, reply: { accepted: false } };
      const key = `ref:${message.inviteeId}`;
      if (remembersKey(state.wallet.recentKeys, key)) return { state, reply: { accepted: true } };
      const next = withBonus(state, key, rules.referralBonus);
      return {
        state: { ...next, invited: state.invited + 1 },
        reply: { accepted: true },
        effects: [notice(next, userId, "referral-joined", rules.referralBonus)],
      };
    }
    case "referralAnswered": {
      if (state.referralPending !== message.inviterId) return { state };
      const { referralPending: _done, ...rest } = state;
      if (!message.accepted) return { state: rest };
      const next = withBonus(rest, `ref-by:${message.inviterId}`, rules.referralBonus);
      return { state: next, effects: [notice(next, userId, "referral-welcome", rules.referralBonus)] };
    }
  }
}

function withBonus(state: UserState, key: string, bonus: number): UserState {
  const wallet = {
    ...state.wallet,
    bank: state.wallet.bank + bonus,
    recentKeys: rememberKey(state.wallet.recentKeys, key),
  };
  return { ...state, wallet, referralBonusEarned: state.referralBonusEarned + bonus };
}

function notice(state: UserState, userId: number, key: string, bonus: number): BotEffect {
  return {
    type: "show",
    target: { chatId: userId },
    lang: state.lang,
    view: { kind: "main" },
    notice: { key, args: { n: bonus } },
  };
}
