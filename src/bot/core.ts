/**
 * The user actor's pure core: an update (or a follow-up from its own shell)
 * and the current state in; the new state and the effects out. Every update
 * gets exactly one visible reaction; every button press is answered first.
 */
import type { Update } from "grammy/types";
import type { KvWrite } from "../../actors/mod.ts";
import type { InputPlan } from "../../catalog/plan.ts";
import { freeLeftToday } from "../ledger/free-quota.ts";
import { availableOf } from "../ledger/wallet.ts";
import type { UserNews } from "../payments/payment-core.ts";
import {
  ADMIN_COMMANDS,
  type AdminMessage,
  adminCommand,
  type RefundDebitMessage,
  receiveAdmin,
  receiveRefundDebit,
  refundOutcomeNotice,
} from "./admin-turns.ts";
import { onAction } from "./buttons.ts";
import { decodeAction, type InfoPage } from "./callback-data.ts";
import { inputOf } from "./input.ts";
import { type JobMessage, receiveJobMessage, type UserContext, withOrderIndex } from "./job-core.ts";
import { langFor } from "./lang.ts";
import { formatRub } from "./money.ts";
import {
  onTypedAmount,
  type PaymentUserMessage,
  receivePaymentMessage,
  receiveStarsPayment,
  reportPendingStars,
  type StarsPayment,
} from "./payment-turns.ts";
import { type ReferralMessage, receiveReferral, welcome } from "./referral-turns.ts";
import { pressedMessageDigest } from "./screen-digest.ts";
import { takeToken, type UserState, type Wizard } from "./state.ts";
import { answer, infoView, onWizardInput, show, type UserTurn } from "./turn-parts.ts";
import { type Account, type Prefill, SEARCH_MAX_LENGTH, type Target } from "./views.ts";

/** Messages the user actor handles. */
export type UserMessage =
  /** Warms the path from the main thread to a shard at start (sent to ids no user has). */
  | { readonly type: "warm" }
  | { readonly type: "update"; readonly update: Update }
  /** The shell sent a new menu message. */
  | { readonly type: "shown"; readonly messageId: number }
  /** The shell fetched a model's input plan for a wizard that is starting. */
  | {
      readonly type: "plan";
      readonly wizardId: string;
      readonly modelId: string;
      readonly page: number;
      readonly plan: InputPlan;
      readonly target: Target;
      readonly prefill?: Prefill;
    }
  | JobMessage
  | PaymentUserMessage
  | ReferralMessage
  | AdminMessage
  | RefundDebitMessage
  | UserNews;

const COMMANDS: Record<string, InfoPage | "start" | "menu" | "cancel"> = {
  start: "start",
  menu: "menu",
  cancel: "cancel",
  balance: "balance",
  topup: "topup",
  history: "history",
  help: "help",
  language: "language",
  paysupport: "support",
  terms: "terms",
};

/**
 * Handles one message to the user actor. Every screen it shows carries the
 * user's account as of this turn (balance, free generations left today).
 */
export function receiveUserMessage(state: UserState, message: UserMessage, ctx: UserContext): UserTurn {
  const turn = withOrderIndex(state, receiveMessage(state, message, ctx), ctx.userId);
  const effects = turn.effects;
  if (effects === undefined || !effects.some((effect) => effect.type === "show")) return turn;
  const account = accountOf(turn.state, ctx);
  return {
    ...turn,
    effects: effects.map((effect) => (effect.type === "show" ? { ...effect, account } : effect)),
  };
}

function accountOf(state: UserState, ctx: UserContext): Account {
  return {
    availableKopecks: availableOf(state.wallet),
    freeLeft: freeLeftToday(state.wallet, ctx.now, ctx.rules.free),
    freeBank: state.wallet.bank,
    invited: state.invited,
    referralBonusEarned: state.referralBonusEarned,
  };
}

function receiveMessage(state: UserState, message: UserMessage, ctx: UserContext): UserTurn {
  switch (message.type) {
    case "warm":
      return { state };
    case "shown":
      // Written with the next durable change: not worth a commit of its own.
      return { state: { ...state, menuMessageId: message.messageId }, volatile: true };
    case "plan": {
      // A wizard starts once: a second plan for it (its press handled twice) would wipe its answers.
      if (state.recentWizards.includes(message.wizardId)) return { state };
      const prefill = message.prefill;
      const steps = [...message.plan.steps];
      const wizard: Wizard = {
        id: message.wizardId,
        modelId: message.modelId,
        page: message.page,
        steps,
        optional: [...message.plan.optional],
        step: prefill ? steps.length : 0,
        values: prefill ? { ...prefill.values } : {},
        media: prefill
          ? Object.fromEntries(Object.entries(prefill.media).map(([field, items]) => [field, [...items]]))
          : {},
        inParams: prefill?.at === "params",
      };
      const recentWizards = [...state.recentWizards, wizard.id].slice(-RECENT_WIZARDS);
      const next = { ...state, wizard, recentWizards };
      return { state: next, effects: [show(next, message.target, { kind: "wizard", wizard })] };
    }
    case "update": {
      // Telegram redelivers (a webhook retry, an inbox replayed after a restart): handled once. A press is
      // answered again, in case its first answer never reached Telegram (a failed call is not retried later).
      if (message.update.update_id !== 0 && state.recentUpdates.includes(message.update.update_id)) {
        const query = message.update.callback_query;
        return query === undefined ? { state } : { state, effects: [answer(state, query.id)] };
      }
      const turn = withUsernameIndex(
        state,
        answersFirst(receiveUpdate(seen(state, message.update, ctx.now), message.update, ctx)),
        ctx.userId,
      );
      const soft = sameDurableState(state, turn.state) && (turn.writes?.length ?? 0) === 0;
      return soft ? { ...turn, volatile: true } : turn;
    }
    case "credit":
    case "starsReported":
      return receivePaymentMessage(state, message, ctx.userId, ctx.now);
    case "referred":
    case "referralAnswered":
      return receiveReferral(state, message, ctx.userId, ctx.rules);
    case "admin":
      return receiveAdmin(state, message, ctx.userId, ctx.now);
    case "yooReady": {
      const view = {
        kind: "yooPay",
        attemptId: message.attemptId,
        url: message.url,
        kopecks: message.kopecks,
      } as const;
      return { state, effects: [show(state, { chatId: ctx.userId }, view)] };
    }
    case "refundDebit":
      return receiveRefundDebit(state, message, ctx.userId, ctx.now);
    case "refunded": {
      const notice = { key: "refunded", args: { amount: formatRub(message.kopecks, state.lang) } };
      return { state, effects: [show(state, { chatId: ctx.userId }, { kind: "main" }, notice)] };
    }
    case "refundOutcome":
      return {
        state,
        effects: [show(state, { chatId: ctx.userId }, { kind: "notice" }, refundOutcomeNotice(message, state.lang))],
      };
    case "yooStatus":
      return {
        state,
        effects: [show(state, { chatId: ctx.userId }, { kind: "main" }, { key: `yoo-${message.status}` })],
      };
    case "resume": {
      const turn = receiveJobMessage(state, message, ctx);
      return { ...turn, effects: [...(turn.effects ?? []), ...reportPendingStars(turn.state)] };
    }
    default:
      return receiveJobMessage(state, message, ctx);
  }
}

/**
 * Button answers reveal nothing of the new state (they stop the spinner, or
 * say the button is outdated): they go out before the commit.
 */
function answersFirst(turn: UserTurn): UserTurn {
  const effects = turn.effects ?? [];
  const immediate = effects.filter((effect) => effect.type === "answer");
  if (immediate.length === 0) return turn;
  return { ...turn, immediate, effects: effects.filter((effect) => effect.type !== "answer") };
}

/** Wizards each user remembers having started (see `UserState.recentWizards`). */
const RECENT_WIZARDS = 8;

/** Updates each user remembers for redeliveries (Telegram redelivers recent ones only). */
const RECENT_UPDATES = 32;

/** Fields written only with the next durable change (a user's language counts once chosen). */
const SOFT_FIELDS: ReadonlySet<string> = new Set([
  "recentUpdates",
  "lastSeenAt",
  "firstSeenAt",
  "flood",
  "starts",
  "menuMessageId",
  "lang",
]);

/**
 * True when only soft fields changed (last seen, flood buckets, start
 * counters, a language still taken from Telegram): such a turn needs no
 * commit of its own, which keeps browsing menus free of KV writes; the soft
 * fields are written with the next durable change. Every other field is
 * durable, so a new field is safe by default.
 */
function sameDurableState(before: UserState, after: UserState): boolean {
  if (after.langChosen && before.lang !== after.lang) return false;
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const field of fields) {
    if (SOFT_FIELDS.has(field)) continue;
    if (before[field as keyof UserState] !== after[field as keyof UserState]) return false;
  }
  return true;
}

function seen(state: UserState, update: Update, now: number): UserState {
  const from = update.message?.from ?? update.callback_query?.from ?? update.pre_checkout_query?.from;
  const lang = state.langChosen ? state.lang : langFor(from?.language_code);
  const username = from?.username ?? state.username;
  return {
    ...state,
    lang,
    recentUpdates: [...state.recentUpdates, update.update_id].slice(-RECENT_UPDATES),
    lastSeenAt: now,
    firstSeenAt: state.firstSeenAt === 0 ? now : state.firstSeenAt,
    ...(username === undefined ? {} : { username }),
  };
}

/** A changed @username moves its index entry (admins look users up by it), in the same commit. */
function withUsernameIndex(before: UserState, turn: UserTurn, userId: number): UserTurn {
  const name = turn.state.username;
  if (name === undefined || name === before.username) return turn;
  const writes: KvWrite[] = [{ op: "set", key: ["username", name.toLowerCase()], value: userId }];
  if (before.username !== undefined) writes.push({ op: "delete", key: ["username", before.username.toLowerCase()] });
  return { ...turn, writes: [...(turn.writes ?? []), ...writes] };
}

function receiveUpdate(state: UserState, update: Update, ctx: UserContext): UserTurn {
  const now = ctx.now;
  const query = update.callback_query;
  if (query !== undefined) {
    const chatId = query.message?.chat.id ?? query.from.id;
    // Only a text message can be edited into a screen; under a result's photo or file, a new message is sent.
    const shows = pressedMessageDigest(query.message);
    const target: Target =
      query.message !== undefined && shows !== undefined
        ? { chatId, messageId: query.message.message_id, shows }
        : { chatId };
    const flood = takeToken(state.flood, "buttons", now);
    const limited = { ...state, flood: flood.flood };
    if (!flood.allowed) {
      return { state: limited, effects: [answer(limited, query.id, flood.warn ? { key: "too-fast" } : undefined)] };
    }
    const action = decodeAction(query.data);
    if (action === undefined) {
      return {
        state: limited,
        effects: [answer(limited, query.id, { key: "outdated" }), show(limited, target, { kind: "main" })],
      };
    }
    // Any other button ends the wait for a typed amount.
    const waiting =
      limited.awaitingAmount && action.a !== "yooAmount" ? { ...limited, awaitingAmount: false } : limited;
    return onAction(waiting, action, query.id, target, update.update_id, ctx);
  }
  const message = update.message;
  if (message === undefined) return { state };
  const payment = message.successful_payment as StarsPayment | undefined;
  if (payment !== undefined) return receiveStarsPayment(state, payment, ctx.userId);
  const target: Target = { chatId: message.chat.id };
  const flood = takeToken(state.flood, "messages", now);
  const limited = { ...state, flood: flood.flood };
  if (!flood.allowed) {
    return {
      state: limited,
      effects: flood.warn ? [show(limited, target, { kind: "notice" }, { key: "too-fast" })] : [],
    };
  }
  const command = message.text?.match(/^\/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$/s);
  if (command) {
    const [name = "", args] = [command[1], command[2]?.trim()];
    if (limited.awaitingAmount) return receiveUpdate({ ...limited, awaitingAmount: false }, update, ctx);
    if ((ADMIN_COMMANDS as readonly string[]).includes(name)) {
      return adminCommand(limited, name, args, target, `admin:${ctx.userId}:${update.update_id}`, ctx);
    }
    return onCommand(limited, name, args, target, message.from?.first_name ?? "", ctx);
  }
  if (limited.awaitingAmount && message.text !== undefined) return onTypedAmount(limited, message.text, target);
  const input = inputOf(message);
  const typed = message.text?.trim() ?? "";
  if (limited.wizard === undefined && [...typed].length >= 2) {
    // Text at the menu is a model looked for by name ("клинг", "Nano Banana", "veo3_fast").
    const text = [...typed].slice(0, SEARCH_MAX_LENGTH).join("");
    return { state: limited, effects: [show(limited, target, { kind: "search", text })] };
  }
  if (limited.wizard === undefined || input === undefined) {
    return { state: limited, effects: [show(limited, target, { kind: "notice" }, { key: "unknown-input" })] };
  }
  return onWizardInput(limited, input, target);
}

function onCommand(
  state: UserState,
  name: string,
  payload: string | undefined,
  target: Target,
  firstName: string,
  ctx: UserContext,
): UserTurn {
  const command = COMMANDS[name];
  switch (command) {
    case "start": {
      const first = state.starts === 0;
      const referral = first && payload?.startsWith("ref_") ? payload.slice(0, 64) : state.referral;
      const started: UserState = {
        ...state,
        starts: state.starts + 1,
        wizard: undefined,
        ...(referral ? { referral } : {}),
      };
      const welcomed = first ? welcome(started, payload, ctx.userId, ctx.now, ctx.rules) : undefined;
      const next = welcomed?.state ?? started;
      return {
        state: next,
        ...(welcomed && welcomed.writes.length > 0 ? { writes: welcomed.writes } : {}),
        effects: [
          show(next, target, { kind: "main", greetName: firstName }, welcomed?.notice),
          ...(welcomed?.effects ?? []),
        ],
      };
    }
    case "menu":
      return { state, effects: [show(state, target, { kind: "main" })] };
    case "cancel": {
      const next = { ...state, wizard: undefined };
      return { state: next, effects: [show(next, target, { kind: "main" }, { key: "cancelled" })] };
    }
    case undefined:
      return { state, effects: [show(state, target, { kind: "notice" }, { key: "unknown-input" })] };
    default:
      return { state, effects: [show(state, target, infoView(state, command))] };
  }
}
