/**
 * What the user actor asks its shell to show: a screen (view) in a chat,
 * by editing the message a button was on or by sending a new one, and
 * answers to button presses.
 */
import type { Job, JobRecord, JobResult } from "../jobs/job.ts";
import type { AdminMessage, RefundCommand } from "./admin-turns.ts";
import type { InfoPage } from "./callback-data.ts";
import type { Lang, TArgs } from "./i18n.ts";
import type { MediaItem, Wizard } from "./state.ts";

/** A line of text by translation key. */
export interface Notice {
  readonly key: string;
  readonly args?: TArgs;
}

/** The longest text a search keeps (code points): a model name is shorter, and the view stays small. */
export const SEARCH_MAX_LENGTH = 64;

/** A screen. */
export type View =
  | { readonly kind: "main"; readonly greetName?: string }
  | { readonly kind: "section"; readonly section: string; readonly page: number }
  | { readonly kind: "card"; readonly modelId: string; readonly page: number }
  /** The models a text typed at the main menu finds (the text cut to `SEARCH_MAX_LENGTH`). */
  | { readonly kind: "search"; readonly text: string }
  | { readonly kind: "wizard"; readonly wizard: Wizard }
  | { readonly kind: "info"; readonly page: InfoPage }
  | { readonly kind: "notice" }
  /** A job in progress: queued or generating, elapsed time, Cancel. */
  | { readonly kind: "job"; readonly job: Job; readonly now: number }
  /** Not enough money for the order: the shortfall, Top up, back to the order. */
  | { readonly kind: "shortfall"; readonly wizardId: string; readonly shortfallKopecks: number }
  /** A page of the history (`total` entries were ever written). */
  | { readonly kind: "history"; readonly page: number; readonly total: number }
  | { readonly kind: "historyEntry"; readonly seq: number }
  /** A card payment ready to pay: the YooKassa page and "Check payment". */
  | { readonly kind: "yooPay"; readonly attemptId: string; readonly url: string; readonly kopecks: number };

/** Where a view goes: edit `messageId` when given, else a new message. */
export interface Target {
  readonly chatId: number;
  readonly messageId?: number;
  /**
   * What `messageId` shows now, when the update names it (the message a
   * button was pressed on): `screen-digest.ts`. A screen that would show
   * the same is not sent again.
   */
  readonly shows?: string;
}

/** What screens show about the user's money and free generations, as of the turn. */
export interface Account {
  /** Balance minus holds: what the user can spend now. */
  readonly availableKopecks: number;
  readonly freeLeft: number;
  /** Free generations friends brought, spent once today's quota is used. */
  readonly freeBank: number;
  /** Friends invited, and free generations referrals brought (the referral screen). */
  readonly invited: number;
  readonly referralBonusEarned: number;
}

/** Effects of the user actor, performed after its state is durable. */
export type BotEffect =
  | { readonly type: "answer"; readonly callbackId: string; readonly lang: Lang; readonly notice?: Notice }
  | {
      readonly type: "show";
      readonly target: Target;
      readonly lang: Lang;
      readonly view: View;
      readonly notice?: Notice;
      readonly account?: Account;
    }
  | {
      readonly type: "plan";
      readonly target: Target;
      readonly lang: Lang;
      readonly modelId: string;
      readonly page: number;
      readonly wizardId: string;
      /** Answers of an earlier job to start from (Repeat, Change parameters). */
      readonly prefill?: Prefill;
    }
  /** Price the wizard's order (catalog quote and output), then tell the actor. */
  | { readonly type: "quote"; readonly target: Target; readonly lang: Lang; readonly wizard: Wizard }
  /** Upload the job's files to KIE and create its task. */
  | { readonly type: "submit"; readonly job: JobRecord }
  /** Read the job's task status from KIE (`seq`: the poll it answers, when `via` is "poll"). */
  | { readonly type: "checkStatus"; readonly job: Job; readonly via: StatusVia; readonly seq: number }
  /** Show the job's progress in its status message, with a chat action. */
  | { readonly type: "progress"; readonly job: Job; readonly now: number }
  /**
   * Tell the user how a final job ended: the result (or, after a restart
   * that may have sent it already, where to find it), or what went wrong.
   */
  | { readonly type: "deliver"; readonly job: JobRecord; readonly resumed: boolean; readonly result?: JobResult }
  /** Start a wizard from a history entry. */
  | {
      readonly type: "reuse";
      readonly target: Target;
      readonly lang: Lang;
      readonly seq: number;
      readonly at: Prefill["at"];
      readonly wizardId: string;
    }
  /** Issue a Stars invoice for top-up package `index` (the payment actor records it first). */
  | { readonly type: "invoice"; readonly chatId: number; readonly lang: Lang; readonly index: number }
  /** Report a Stars payment to the payment actor (until it has recorded it). */
  | {
      readonly type: "reportStars";
      readonly chargeId: string;
      readonly invoiceId: string;
      readonly currency: string;
      readonly amount: number;
      /** Reports that failed before this one (it waits `reportDelayMs(retry)` first). */
      readonly retry?: number;
    }
  /** Carry an admin's command to the target user's actor and report the outcome to the admin. */
  | {
      readonly type: "adminRequest";
      readonly chatId: number;
      readonly lang: Lang;
      readonly targetId: number;
      readonly message: AdminMessage;
    }
  /** Apply an admin's hide or show to the catalog (after the override is stored) and report it. */
  | { readonly type: "catalogVisibility"; readonly chatId: number; readonly modelId: string; readonly hidden: boolean }
  /** Start a broadcast of an admin's text to every user. */
  | { readonly type: "adminBroadcast"; readonly adminId: number; readonly broadcastId: string; readonly text: string }
  /** Send an admin the statistics and the ledger's reconciliation, in the admin's language. */
  | { readonly type: "adminStats"; readonly chatId: number; readonly lang: Lang }
  /** Send an admin what the bot knows of a user (by id or @username). */
  | { readonly type: "adminLookup"; readonly chatId: number; readonly query: string }
  /** Hand an admin's refund to the payment actor (it tells the admin how it went). */
  | { readonly type: "adminRefund"; readonly adminId: number; readonly refund: RefundCommand }
  /** Start a card payment: a package (by index) or an amount the user typed. */
  | {
      readonly type: "yooPay";
      readonly chatId: number;
      readonly lang: Lang;
      readonly amount: { readonly index: number } | { readonly kopecks: number };
    }
  /** Ask the payment actor to re-read a card payment ("Check payment"). */
  | { readonly type: "yooCheck"; readonly attemptId: string }
  /** Tell the inviter's actor that this new user came by their link. */
  | { readonly type: "refer"; readonly inviterId: number }
  /** Send a history entry's result again. */
  | { readonly type: "resend"; readonly target: Target; readonly lang: Lang; readonly seq: number };

/** Why a status is read: a scheduled poll, KIE's callback, or a restart. */
export type StatusVia = "poll" | "callback" | "resume";

/** A wizard's answers taken from an earlier job. */
export interface Prefill {
  readonly values: Wizard["values"];
  readonly media: Readonly<Record<string, readonly MediaItem[]>>;
  /** Open the order confirmation (Repeat) or the Parameters screen (Change parameters). */
  readonly at: "confirm" | "params";
}
