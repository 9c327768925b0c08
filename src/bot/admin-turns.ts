/**
 * Admin commands, pure: only user ids in `ADMIN_IDS` may use them (anyone
 * else gets the answer an unknown command gets). An admin's command goes to
 * the target user's actor, which applies it as a ledger entry (credit or
 * debit) or a state change (block, unblock) and writes an audit entry with
 * the admin's id and reason.
 */
import type { KvWrite } from "../../actors/mod.ts";
import { applyEntry } from "../ledger/ledger.ts";
import { availableOf } from "../ledger/wallet.ts";
import { type RefundOutcome, RefundProvider } from "../payments/refund-core.ts";
import type { UserContext } from "./job-core.ts";
import { formatRub } from "./money.ts";
import type { UserState } from "./state.ts";
import type { UserTurn } from "./turn-parts.ts";
import { show } from "./turn-parts.ts";
import type { BotEffect, Notice, Target } from "./views.ts";

/** What an admin can do to a user. */
export type AdminAction =
  | { readonly kind: "credit" | "debit"; readonly kopecks: number; readonly reason: string }
  | { readonly kind: "block" | "unblock"; readonly reason: string };

/** The message an admin's actor sends to the target user's actor (replies {@link AdminOutcome}). */
export interface AdminMessage {
  readonly type: "admin";
  readonly adminId: number;
  /** The idempotency key of the request (the admin's message). */
  readonly key: string;
  readonly action: AdminAction;
}

export type AdminOutcome =
  | { readonly ok: true; readonly balanceKopecks: number; readonly blocked: boolean }
  | { readonly ok: false; readonly code: "insufficient_funds" | "duplicate" | "invalid_amount" };

/** Admin commands and their usage. */
export const ADMIN_COMMANDS = [
  "admin",
  "stats",
  "user",
  "credit",
  "debit",
  "block",
  "unblock",
  "refund",
  "hide",
  "show",
  "broadcast",
] as const;

/** Parses `/hide <model id> [reason]` and `/show <model id>`. */
export function parseVisibilityCommand(
  name: "hide" | "show",
  args: string | undefined,
): { readonly modelId: string; readonly hidden: boolean; readonly reason: string } | undefined {
  const match = (args ?? "").match(/^([A-Za-z0-9._/-]{1,48})(?:\s+(\S.{0,199}))?$/s);
  if (!match?.[1]) return undefined;
  return { modelId: match[1], hidden: name === "hide", reason: (match[2] ?? "").trim() || name };
}

/** An admin's refund of a payment, for the payment actor. */
export interface RefundCommand {
  readonly provider: RefundProvider;
  readonly paymentId: string;
  readonly reason: string;
}

/** Parses `/refund <stars|yookassa> <payment id> [reason]`. */
export function parseRefundCommand(args: string | undefined): RefundCommand | undefined {
  const match = (args ?? "").match(/^(stars|yookassa)\s+([A-Za-z0-9_.:-]{1,128})(?:\s+(\S.{0,199}))?$/s);
  if (!match) return undefined;
  const provider = RefundProvider.parse(match[1]);
  return { provider, paymentId: match[2] ?? "", reason: (match[3] ?? "").trim() || "refund" };
}

/** What the admin reads about a refund's outcome (`checked`: settled by asking the provider again). */
export function refundOutcomeNotice(outcome: RefundOutcome, lang: UserState["lang"]): Notice {
  const payment = outcome.paymentId;
  switch (outcome.status) {
    case "done":
      return {
        key: outcome.checked ? "admin-refund-checked-done" : "admin-refund-done",
        args: { payment, amount: formatRub(outcome.kopecks, lang) },
      };
    case "checking":
      return { key: "admin-refund-checking", args: { payment } };
    case "refused":
      if (outcome.code === "under_way") return { key: "admin-refund-under-way", args: { payment } };
      return {
        key: outcome.checked ? "admin-refund-checked-refused" : "admin-refund-refused",
        args: { payment, code: outcome.code },
      };
  }
}

/** The payment actor asks to debit a refunded payment (replies `{ ok }`). */
export interface RefundDebitMessage {
  readonly type: "refundDebit";
  readonly key: string;
  readonly amount: number;
  readonly reason: string;
  readonly adminId: number;
}

/** Debits the user's ledger for a refund, once per key (a repeat answers ok and changes nothing). */
export function receiveRefundDebit(
  state: UserState,
  message: RefundDebitMessage,
  userId: number,
  now: number,
): UserTurn {
  const applied = applyEntry(
    state.wallet,
    { type: "refund", key: message.key, amount: message.amount, reason: message.reason },
    now,
  );
  if (!applied.ok) return { state, reply: { ok: applied.refusal.code === "duplicate" } };
  return {
    state: { ...state, wallet: applied.wallet },
    writes: [
      { op: "set", key: ["ledger", userId, message.key], value: { ...applied.record, adminId: message.adminId } },
    ],
    reply: { ok: true },
  };
}

/** Parses an admin command's arguments: `<user id> <rubles> <reason>` or `<user id> [reason]`. */
export function parseAdminCommand(
  name: string,
  args: string | undefined,
): { readonly targetId: number; readonly action: AdminAction } | undefined {
  const text = args ?? "";
  if (name === "credit" || name === "debit") {
    const match = text.match(/^(\d{1,15})\s+(\d{1,7})(?:[.,](\d{1,2}))?\s+(\S.{1,199})$/s);
    if (!match) return undefined;
    const kopecks = Number(match[2]) * 100 + Number((match[3] ?? "0").padEnd(2, "0"));
    if (kopecks <= 0) return undefined;
    return { targetId: Number(match[1]), action: { kind: name, kopecks, reason: (match[4] ?? "").trim() } };
  }
  if (name === "block" || name === "unblock") {
    const match = text.match(/^(\d{1,15})(?:\s+(\S.{0,199}))?$/s);
    if (!match) return undefined;
    return { targetId: Number(match[1]), action: { kind: name, reason: (match[2] ?? "").trim() || name } };
  }
  return undefined;
}

/** Applies an admin's action to this user (`userId`) at `now`. */
export function receiveAdmin(state: UserState, message: AdminMessage, userId: number, now: number): UserTurn {
  const { action, adminId, key } = message;
  const audit: KvWrite = {
    op: "set",
    key: ["audit", userId, key],
    value: { adminId, userId, action, at: now },
  };
  switch (action.kind) {
    case "credit":
    case "debit": {
      const amount = action.kind === "credit" ? action.kopecks : -action.kopecks;
      const reason = `admin ${adminId}: ${action.reason}`;
      const applied = applyEntry(state.wallet, { type: "adjustment", key, amount, reason }, now);
      if (!applied.ok) {
        const code =
          applied.refusal.code === "insufficient_funds" || applied.refusal.code === "duplicate"
            ? applied.refusal.code
            : "invalid_amount";
        return { state, reply: { ok: false, code } satisfies AdminOutcome };
      }
      const effects: BotEffect[] =
        action.kind === "credit"
          ? [
              {
                type: "show",
                target: { chatId: userId },
                lang: state.lang,
                view: { kind: "main" },
                notice: {
                  key: "topped-up",
                  args: {
                    amount: formatRub(action.kopecks, state.lang),
                    balance: formatRub(availableOf(applied.wallet), state.lang),
                  },
                },
              },
            ]
          : [];
      return {
        state: { ...state, wallet: applied.wallet },
        writes: [{ op: "set", key: ["ledger", userId, key], value: { ...applied.record, adminId } }, audit],
        reply: { ok: true, balanceKopecks: applied.wallet.balance, blocked: state.blocked } satisfies AdminOutcome,
        effects,
      };
    }
    case "block":
    case "unblock": {
      const blocked = action.kind === "block";
      return {
        state: { ...state, blocked },
        writes: [audit],
        reply: { ok: true, balanceKopecks: state.wallet.balance, blocked } satisfies AdminOutcome,
      };
    }
  }
}

/** An admin command; for anyone not in `ADMIN_IDS` it is as unknown as any other. */
export function adminCommand(
  state: UserState,
  name: string,
  args: string | undefined,
  target: Target,
  key: string,
  ctx: UserContext,
): UserTurn {
  if (!ctx.rules.adminIds.includes(ctx.userId)) {
    return { state, effects: [show(state, target, { kind: "notice" }, { key: "unknown-input" })] };
  }
  if (name === "stats") return { state, effects: [{ type: "adminStats", chatId: target.chatId, lang: state.lang }] };
  if (name === "broadcast") {
    const text = args ?? "";
    if (text === "" || text.length > 4096) {
      return { state, effects: [show(state, target, { kind: "notice" }, { key: "admin-help" })] };
    }
    // The admin's message id makes the broadcast's id: a redelivered command finds the same broadcast.
    const broadcastId = key.replace(/^admin:/, "b:");
    const audit: KvWrite = {
      op: "set",
      key: ["audit", "broadcast", key],
      value: { adminId: ctx.userId, text, at: ctx.now },
    };
    return { state, writes: [audit], effects: [{ type: "adminBroadcast", adminId: ctx.userId, broadcastId, text }] };
  }
  if (name === "hide" || name === "show") {
    const change = parseVisibilityCommand(name, args);
    if (change === undefined)
      return { state, effects: [show(state, target, { kind: "notice" }, { key: "admin-help" })] };
    const override = ["catalog_hidden", change.modelId];
    const writes: KvWrite[] = [
      change.hidden
        ? { op: "set", key: override, value: { adminId: ctx.userId, reason: change.reason, at: ctx.now } }
        : { op: "delete", key: override },
      { op: "set", key: ["audit", "catalog", key], value: { adminId: ctx.userId, ...change, at: ctx.now } },
    ];
    return {
      state,
      writes,
      effects: [{ type: "catalogVisibility", chatId: target.chatId, modelId: change.modelId, hidden: change.hidden }],
    };
  }
  if (name === "user") {
    const query = args ?? "";
    if (query === "") return { state, effects: [show(state, target, { kind: "notice" }, { key: "admin-help" })] };
    return { state, effects: [{ type: "adminLookup", chatId: target.chatId, query }] };
  }
  if (name === "refund") {
    const refund = parseRefundCommand(args);
    if (refund === undefined)
      return { state, effects: [show(state, target, { kind: "notice" }, { key: "admin-help" })] };
    return { state, effects: [{ type: "adminRefund", adminId: ctx.userId, refund }] };
  }
  const parsed = name === "admin" ? undefined : parseAdminCommand(name, args);
  if (parsed === undefined) return { state, effects: [show(state, target, { kind: "notice" }, { key: "admin-help" })] };
  const message: AdminMessage = { type: "admin", adminId: ctx.userId, key, action: parsed.action };
  return {
    state,
    effects: [{ type: "adminRequest", chatId: target.chatId, lang: state.lang, targetId: parsed.targetId, message }],
  };
}
