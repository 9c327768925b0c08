/**
 * Rendering: a view and the catalog data it needs, to HTML text and an
 * inline keyboard. Pure; user text is escaped, every button's data is
 * encoded (and so checked against the 64-byte limit), and every screen has
 * a way back.
 */

import type { ModelCard, ModelPage, SectionSummary } from "../../catalog/queries.ts";
import type { OptionPrice, QuoteResult } from "../../catalog/quote.ts";
import { type Action, encodeAction } from "./callback-data.ts";
import type { Lang, Translate } from "./i18n.ts";
import { formatRub } from "./money.ts";
import type { Wizard } from "./state.ts";
import type { Notice, View } from "./views.ts";
import { currentStep } from "./wizard.ts";

/** A button that sends callback data (the only kind the bot uses). */
export interface Button {
  readonly text: string;
  readonly callback_data: string;
}
type InlineKeyboardButton = Button;

/** A rendered screen. */
export interface Screen {
  readonly text: string;
  readonly keyboard: InlineKeyboardButton[][];
}

/** What the shell fetched for a view. */
export interface ViewData {
  readonly sections?: readonly SectionSummary[];
  readonly page?: ModelPage;
  readonly card?: ModelCard;
  readonly optionPrices?: readonly OptionPrice[];
  readonly quote?: QuoteResult;
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
  readonly balanceKopecks: number;
}

/** Escapes text for Telegram's HTML parse mode. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

const PAGE_SIZE = 8;

export { PAGE_SIZE };

/** Renders a view with an optional notice line above it. */
export function renderView(view: View, data: ViewData, ctx: ViewContext, notice?: Notice): Screen {
  const screen = renderBody(view, data, ctx);
  if (notice === undefined) return screen;
  const line = ctx.t(ctx.lang, notice.key, notice.args);
  return { ...screen, text: screen.text === "" ? line : `${line}\n\n${screen.text}` };
}

function renderBody(view: View, data: ViewData, ctx: ViewContext): Screen {
  const { t, lang } = ctx;
  const button = (key: string, action: Action): InlineKeyboardButton => ({
    text: t(lang, key),
    callback_data: encodeAction(action),
  });
  const menuRow = [button("btn-menu", { a: "menu" })];
  switch (view.kind) {
    case "main": {
      const sections = data.sections ?? [];
      const rows: InlineKeyboardButton[][] = [];
      for (let i = 0; i < sections.length; i += 2) {
        rows.push(
          sections.slice(i, i + 2).map((section) => ({
            text: section.id === "free" ? t(lang, "btn-free") : section.title,
            callback_data: encodeAction({ a: "section", section: section.id, page: 0 }),
          })),
        );
      }
      rows.push([
        button("btn-balance", { a: "page", page: "balance" }),
        button("btn-history", { a: "page", page: "history" }),
      ]);
      rows.push([
        button("btn-referral", { a: "page", page: "referral" }),
        button("btn-help", { a: "page", page: "help" }),
      ]);
      rows.push([button("btn-language", { a: "page", page: "language" })]);
      const title =
        view.greetName !== undefined
          ? t(lang, "start-greeting", { name: escapeHtml(view.greetName) })
          : t(lang, "menu-title");
      return { text: title, keyboard: rows };
    }
    case "section": {
      const page = data.page;
      if (page === undefined) return { text: t(lang, "model-gone"), keyboard: [menuRow] };
      const title = data.sections?.find((section) => section.id === view.section)?.title ?? view.section;
      const rows = page.items.map((item) => [
        {
          text: `${item.free ? `${t(lang, "free-badge")} ` : ""}${item.name} · ${t(lang, "price-from", { price: formatRub(item.fromKopecks, lang) })}`,
          callback_data: encodeAction({ a: "card", model: item.id, page: page.page }),
        },
      ]);
      const nav: InlineKeyboardButton[] = [];
      if (page.page > 0) nav.push(button("btn-prev", { a: "section", section: view.section, page: page.page - 1 }));
      if (page.page < page.pages - 1)
        nav.push(button("btn-next", { a: "section", section: view.section, page: page.page + 1 }));
      if (nav.length > 0) rows.push(nav);
      rows.push(menuRow);
      return {
        text: t(lang, "section-title", { title: escapeHtml(title), page: page.page + 1, pages: page.pages }),
        keyboard: rows,
      };
    }
    case "card": {
      const card = data.card;
      if (card === undefined) return { text: t(lang, "model-gone"), keyboard: [menuRow] };
      const sends = card.inputs.map((input) => t(lang, `media-${input.media}`)).join(", ");
      const price =
        card.fromKopecks === card.toKopecks
          ? formatRub(card.fromKopecks, lang)
          : t(lang, "price-range", { from: formatRub(card.fromKopecks, lang), to: formatRub(card.toKopecks, lang) });
      const lines = [
        `<b>${escapeHtml(card.name)}</b>`,
        escapeHtml(card.description),
        "",
        t(lang, "card-sends", { what: sends }),
        t(lang, "card-gets", { what: t(lang, `output-${card.output}`) }),
        t(lang, "card-price", { price: card.perUnit ? `${price} ${t(lang, `per-${card.perUnit}`)}` : price }) +
          (card.free ? ` (${t(lang, "card-free")})` : ""),
        t(lang, "card-time", { time: duration(card.typicalSeconds, ctx) }),
      ];
      return {
        text: lines.join("\n"),
        keyboard: [
          [button("btn-start-wizard", { a: "generate", model: card.id })],
          [button("btn-back", { a: "section", section: card.section, page: view.page }), ...menuRow],
        ],
      };
    }
    case "wizard":
      return renderWizard(view.wizard, data, ctx, button, menuRow);
    case "info":
      return renderInfo(view.page, ctx, button, menuRow);
    case "notice":
      return { text: "", keyboard: [menuRow] };
  }
}

type ButtonOf = (key: string, action: Action) => InlineKeyboardButton;

function renderWizard(
  wizard: Wizard,
  data: ViewData,
  ctx: ViewContext,
  button: ButtonOf,
  menuRow: InlineKeyboardButton[],
): Screen {
  const { t, lang } = ctx;
  const w = wizard.id;
  const controls = [button("btn-back", { a: "back", w }), ...menuRow, button("btn-cancel", { a: "cancel" })];
  const modelName = escapeHtml(data.card?.name ?? wizard.modelId);
  const step = currentStep(wizard);
  if (step === undefined && wizard.inParams) {
    const rows = wizard.optional.map((optional, i) => [
      {
        text: `${fieldLabel(optional.field, ctx)}: ${valueLabel(wizard.values[optional.field] ?? (optional as { default?: unknown }).default, ctx)}`,
        callback_data: encodeAction({ a: "param", w, i }),
      },
    ]);
    rows.push([button("btn-to-confirm", { a: "confirm", w })], controls);
    return { text: `<b>${modelName}</b>\n${t(lang, "params-title")}`, keyboard: rows };
  }
  if (step === undefined) return renderConfirm(wizard, data, ctx, button, controls);
  const header =
    wizard.editing === undefined
      ? t(lang, "step-header", { model: modelName, n: wizard.step + 1, total: wizard.steps.length })
      : `<b>${modelName}</b> · ${escapeHtml(fieldLabel(step.field, ctx))}`;
  const rows: InlineKeyboardButton[][] = [];
  let ask: string;
  const s = step as unknown as Record<string, unknown> & { kind: string; field: string };
  switch (s.kind) {
    case "media": {
      ask = t(lang, "step-media", { media: String(s.media), max: Number(s.maxItems), mb: Number(s.maxMb) });
      const count = wizard.media[s.field]?.length ?? 0;
      if (count >= Number(s.minItems)) rows.push([button("btn-done", { a: "done", w })]);
      break;
    }
    case "prompt":
      ask = t(lang, "step-prompt", { max: Number(s.maxLength) });
      break;
    case "link":
      ask = t(lang, "step-link", { host: String((s.hosts as string[])[0]) });
      break;
    case "text":
      ask = t(lang, "step-text", { max: Number(s.maxLength), field: fieldLabel(s.field, ctx) });
      break;
    case "number":
      ask = t(lang, "step-number", { min: Number(s.min), max: Number(s.max), field: fieldLabel(s.field, ctx) });
      break;
    case "boolean":
      ask = t(lang, "step-bool", { field: fieldLabel(s.field, ctx) });
      rows.push([button("btn-yes", { a: "option", w, i: 1 }), button("btn-no", { a: "option", w, i: 0 })]);
      break;
    default: {
      ask = t(lang, "step-option", { field: fieldLabel(s.field, ctx) });
      const values = (s.values as (string | number)[]) ?? [];
      const prices = new Map((data.optionPrices ?? []).map((option) => [String(option.value), option]));
      const buttons = values.map((value, i) => {
        const price = prices.get(String(value));
        const suffix =
          price === undefined
            ? ""
            : price.kopecks === null
              ? " · —"
              : price.free
                ? ` · ${t(lang, "free-badge")}`
                : ` · ${formatRub(price.kopecks, lang)}`;
        return { text: `${value}${suffix}`, callback_data: encodeAction({ a: "option", w, i }) };
      });
      for (let i = 0; i < buttons.length; i += 2) rows.push(buttons.slice(i, i + 2));
    }
  }
  if (wizard.optional.length > 0 && wizard.editing === undefined) rows.push([button("btn-params", { a: "params", w })]);
  rows.push(controls);
  return { text: `${header}\n\n${ask}`, keyboard: rows };
}

function renderConfirm(
  wizard: Wizard,
  data: ViewData,
  ctx: ViewContext,
  button: ButtonOf,
  controls: InlineKeyboardButton[],
): Screen {
  const { t, lang } = ctx;
  const w = wizard.id;
  const lines = [
    t(lang, "confirm-title"),
    t(lang, "confirm-model", { model: escapeHtml(data.card?.name ?? wizard.modelId) }),
  ];
  const prompt = wizard.values.prompt ?? wizard.values.text;
  if (typeof prompt === "string") lines.push(t(lang, "confirm-prompt", { prompt: escapeHtml(prompt) }));
  const files = Object.values(wizard.media).reduce((sum, items) => sum + items.length, 0);
  if (files > 0) lines.push(t(lang, "confirm-media", { files }));
  const params = Object.entries(wizard.values)
    .filter(([field]) => field !== "prompt" && field !== "text")
    .map(([field, value]) => `${fieldLabel(field, ctx)} ${valueLabel(value, ctx)}`);
  if (params.length > 0) lines.push(t(lang, "confirm-params", { params: escapeHtml(params.join(", ")) }));
  if (data.card) {
    lines.push(t(lang, "confirm-output", { output: t(lang, `output-${data.card.output}`) }));
    lines.push(t(lang, "confirm-time", { time: duration(data.card.typicalSeconds, ctx) }));
  }
  const quote = data.quote;
  const rows: InlineKeyboardButton[][] = [];
  if (quote?.ok) {
    if (quote.quote.free && ctx.freeLeft > 0) {
      lines.push(t(lang, "confirm-free", { left: ctx.freeLeft }));
    } else {
      lines.push(t(lang, "confirm-price", { price: formatRub(quote.quote.kopecks, lang) }));
      lines.push(
        t(lang, "confirm-balance", {
          before: formatRub(ctx.balanceKopecks, lang),
          after: formatRub(ctx.balanceKopecks - quote.quote.kopecks, lang),
        }),
      );
    }
    rows.push([button("btn-generate", { a: "go", w })]);
  } else {
    lines.push(t(lang, "confirm-unpriced"));
  }
  if (wizard.optional.length > 0) rows.push([button("btn-params", { a: "params", w })]);
  rows.push(controls);
  return { text: lines.join("\n"), keyboard: rows };
}

function renderInfo(page: string, ctx: ViewContext, button: ButtonOf, menuRow: InlineKeyboardButton[]): Screen {
  const { t, lang } = ctx;
  const support = ctx.support ?? "/paysupport";
  switch (page) {
    case "balance":
      return {
        text: `${t(lang, "balance-title", { balance: formatRub(ctx.balanceKopecks, lang) })}\n${t(lang, "balance-free", { left: ctx.freeLeft, limit: ctx.freeDailyLimit })}`,
        keyboard: [
          [button("btn-topup", { a: "page", page: "topup" }), button("btn-history", { a: "page", page: "history" })],
          menuRow,
        ],
      };
    case "topup":
      return {
        text: `${t(lang, "topup-title")}\n${t(lang, "topup-soon")}`,
        keyboard: [[button("btn-balance", { a: "page", page: "balance" })], menuRow],
      };
    case "history":
      return { text: `${t(lang, "history-title")}\n${t(lang, "history-empty")}`, keyboard: [menuRow] };
    case "help":
      return {
        text: `${t(lang, "help-title")}\n${t(lang, "help-body", { limit: ctx.freeDailyLimit, support: escapeHtml(support) })}`,
        keyboard: [menuRow],
      };
    case "language":
      return {
        text: t(lang, "language-title"),
        keyboard: [
          [
            { text: "🇷🇺 Русский", callback_data: encodeAction({ a: "lang", lang: "ru" }) },
            { text: "🇬🇧 English", callback_data: encodeAction({ a: "lang", lang: "en" }) },
          ],
          menuRow,
        ],
      };
    case "referral": {
      const link = `https://t.me/${ctx.botUsername}?start=ref_${ctx.userId.toString(36)}`;
      return {
        text: `${t(lang, "referral-title")}\n${t(lang, "referral-body", { link: escapeHtml(link) })}`,
        keyboard: [menuRow],
      };
    }
    case "terms":
      return { text: `${t(lang, "terms-title")}\n${t(lang, "terms-body")}`, keyboard: [menuRow] };
    default:
      return {
        text: `${t(lang, "support-title")}\n${t(lang, "support-body", { support: escapeHtml(support) })}`,
        keyboard: [menuRow],
      };
  }
}

function fieldLabel(field: string, ctx: ViewContext): string {
  const label = ctx.t(ctx.lang, `field-${field}`);
  return label === `field-${field}` ? field : label;
}

function valueLabel(value: unknown, ctx: ViewContext): string {
  if (value === undefined) return ctx.t(ctx.lang, "param-default");
  if (typeof value === "boolean") return ctx.t(ctx.lang, value ? "btn-yes" : "btn-no");
  return String(value);
}

function duration(seconds: number, ctx: ViewContext): string {
  return seconds < 90
    ? ctx.t(ctx.lang, "time-seconds", { n: seconds })
    : ctx.t(ctx.lang, "time-minutes", { n: Math.round(seconds / 60) });
}
