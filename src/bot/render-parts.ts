/** Small pieces every screen uses: labels of fields and values, durations, button builders. */

import type { ModelCard, ModelPage, SearchResult, SectionSummary } from "../../catalog/queries.ts";
import type { OptionPrice, QuoteResult } from "../../catalog/quote.ts";
import type { HistoryEntry } from "../jobs/history.ts";
import { cutText, escapeHtml } from "../telegram/text.ts";
import { type Action, encodeAction } from "./callback-data.ts";
import type { Lang, Translate } from "./i18n.ts";

/** A button that sends callback data (the only kind the bot uses). */
export interface Button {
  readonly text: string;
  readonly callback_data: string;
}

/** A button that opens a link (a payment page). */
export interface UrlButton {
  readonly text: string;
  readonly url: string;
}

/** A rendered screen. */
export interface Screen {
  readonly text: string;
  readonly keyboard: (Button | UrlButton)[][];
}

/** What the shell fetched for a view. */
export interface ViewData {
  readonly sections?: readonly SectionSummary[];
  readonly page?: ModelPage;
  readonly found?: SearchResult;
  readonly card?: ModelCard;
  /** The name of a model users can no longer pick (no card), for the history. */
  readonly modelName?: string;
  readonly optionPrices?: readonly OptionPrice[];
  readonly quote?: QuoteResult;
  /** A history page's entries, newest first. */
  readonly history?: readonly HistoryEntry[];
  readonly entry?: HistoryEntry;
  /** Model names by id (history lists several models). */
  readonly names?: Readonly<Record<string, string>>;
}

/** Per-user facts a screen may show. */
export interface ViewContext {
  readonly lang: Lang;
  readonly t: Translate;
  readonly userId: number;
  readonly botUsername: string;
  readonly support: string | undefined;
  readonly freeDailyLimit: number;
  readonly freeLeft: number;
  /** Free generations friends brought (the referral bank), spent once today's quota is used. */
  readonly freeBank: number;
  readonly balanceKopecks: number;
  readonly invited: number;
  readonly referralBonusEarned: number;
  /** The deployment's time zone, for dates. */
  readonly timeZone: string;
  /** Top-up packages paid in Telegram Stars. */
  readonly starsPackages: readonly { readonly stars: number; readonly kopecks: number }[];
  /** Card top-up amounts in kopecks (empty: YooKassa is off). */
  readonly yooPackages: readonly number[];
}

/** The one HTML escaper (see `src/telegram/text.ts`), re-exported for the screens. */
export { escapeHtml };

/** Longest user text a screen quotes in a caption, a list or a button, in UTF-16 units. */
export const QUOTE_PREVIEW = 300;

/** Longest value (a user's text answer) shown in a button or a parameter list, in UTF-16 units. */
export const VALUE_PREVIEW = 100;

/** Builds a button from a translation key and an action. */
export type ButtonOf = (key: string, action: Action) => Button;

/** The button builder of a language. */
export function buttonsFor(t: Translate, lang: Lang): ButtonOf {
  return (key, action) => ({ text: t(lang, key), callback_data: encodeAction(action) });
}

export function fieldLabel(field: string, ctx: ViewContext): string {
  const label = ctx.t(ctx.lang, `field-${field}`);
  return label === `field-${field}` ? field : label;
}

export function valueLabel(value: unknown, ctx: ViewContext): string {
  if (value === undefined) return ctx.t(ctx.lang, "param-default");
  if (typeof value === "boolean") return ctx.t(ctx.lang, value ? "btn-yes" : "btn-no");
  // A text answer (a negative prompt) can be thousands of characters: a button or a list shows its start.
  return cutText(String(value), VALUE_PREVIEW);
}

export function duration(seconds: number, ctx: ViewContext): string {
  return seconds < 90
    ? ctx.t(ctx.lang, "time-seconds", { n: seconds })
    : ctx.t(ctx.lang, "time-minutes", { n: Math.round(seconds / 60) });
}
