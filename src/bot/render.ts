/**
 * Rendering: a view and the catalog data it needs, to HTML text and an
 * inline keyboard. Pure; user text is escaped, every button's data is
 * encoded (and so checked against the 64-byte limit), and every screen has
 * a way back.
 */

import type { ModelCard, ModelListItem } from "../../catalog/queries.ts";
import { htmlLength, TELEGRAM_LIMITS } from "../telegram/text.ts";
import { encodeAction } from "./callback-data.ts";
import { formatRub } from "./money.ts";
import { renderInfo, renderYooPay } from "./render-info.ts";
import { renderHistory, renderHistoryEntry, renderJob, renderShortfall } from "./render-jobs.ts";
import {
  type Button,
  buttonsFor,
  duration,
  escapeHtml,
  type Screen,
  type ViewContext,
  type ViewData,
} from "./render-parts.ts";
import { renderWizard } from "./render-wizard.ts";
import type { Notice, View } from "./views.ts";

/** Models per page of a section list. */
export const PAGE_SIZE = 8;

export type { Button, Screen, ViewContext, ViewData };
export { escapeHtml };

/** Renders a view with an optional notice line above it. */
export function renderView(view: View, data: ViewData, ctx: ViewContext, notice?: Notice): Screen {
  if (notice === undefined) return renderBody(view, data, ctx, TELEGRAM_LIMITS.messageText);
  const line = ctx.t(ctx.lang, notice.key, notice.args);
  // The notice and its blank line take room from the screen below it.
  const screen = renderBody(view, data, ctx, TELEGRAM_LIMITS.messageText - htmlLength(line) - 2);
  return { ...screen, text: screen.text === "" ? line : `${line}\n\n${screen.text}` };
}

/** The screen of a view; `limit` is the room its text has. */
function renderBody(view: View, data: ViewData, ctx: ViewContext, limit: number): Screen {
  const { t, lang } = ctx;
  const button = buttonsFor(t, lang);
  const menuRow = [button("btn-menu", { a: "menu" })];
  switch (view.kind) {
    case "main": {
      const sections = data.sections ?? [];
      const rows: Button[][] = [];
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
      const rows = page.items.map((item) => [modelButton(item, page.page, ctx)]);
      const nav: Button[] = [];
      if (page.page > 0) nav.push(button("btn-prev", { a: "section", section: view.section, page: page.page - 1 }));
      if (page.page < page.pages - 1)
        nav.push(button("btn-next", { a: "section", section: view.section, page: page.page + 1 }));
      if (nav.length > 0) rows.push(nav);
      rows.push(menuRow);
      return {
        text: [
          t(lang, "section-title", { title: escapeHtml(title), page: page.page + 1, pages: page.pages }),
          ...goodAtLines(page.items),
        ].join("\n"),
        keyboard: rows,
      };
    }
    case "search": {
      const found = data.found;
      const text = escapeHtml(view.text);
      if (found === undefined || found.total === 0) {
        return { text: t(lang, "search-none", { text }), keyboard: [menuRow] };
      }
      return {
        text: [
          t(lang, "search-found", { text, n: found.total }),
          ...goodAtLines(found.items),
          ...(found.total > found.items.length ? ["", t(lang, "search-more", { shown: found.items.length })] : []),
        ].join("\n"),
        keyboard: [...found.items.map((item) => [modelButton(item, 0, ctx)]), menuRow],
      };
    }
    case "card": {
      const card = data.card;
      if (card === undefined) return { text: t(lang, "model-gone"), keyboard: [menuRow] };
      const sends = card.inputs.map((input) => t(lang, `media-${input.media}`)).join(", ");
      const range =
        card.fromKopecks === card.toKopecks
          ? formatRub(card.fromKopecks, lang)
          : t(lang, "price-range", { from: formatRub(card.fromKopecks, lang), to: formatRub(card.toKopecks, lang) });
      const price = card.perUnit ? `${range} ${t(lang, `per-${card.perUnit}`)}` : range;
      const lines = [
        `<b>${escapeHtml(card.name)}</b>`,
        escapeHtml(card.description),
        "",
        t(lang, "card-sends", { what: sends }),
        t(lang, "card-gets", { what: t(lang, `output-${card.output}`) }),
        cardPriceLine(card, price, ctx),
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
      return renderWizard(view.wizard, data, ctx, button, menuRow, limit);
    case "info":
      return renderInfo(view.page, ctx, button, menuRow);
    case "notice":
      return { text: "", keyboard: [menuRow] };
    case "job":
      return renderJob(view.job, view.now, data, ctx, button, menuRow);
    case "shortfall":
      return renderShortfall(view.wizardId, view.shortfallKopecks, ctx, button, menuRow);
    case "history":
      return renderHistory(view.page, view.total, data, ctx, button, menuRow);
    case "historyEntry":
      return renderHistoryEntry(data, ctx, button, menuRow);
    case "yooPay":
      return renderYooPay(view.attemptId, view.url, view.kopecks, ctx, button, menuRow);
  }
}

/** A model of a list: its name with its marks and lowest price ("free" for a free-only model). */
function modelButton(item: ModelListItem, page: number, ctx: ViewContext): Button {
  const { t, lang } = ctx;
  const marks = `${item.free ? `${t(lang, "free-badge")} ` : ""}${item.isNew ? `${t(lang, "new-badge")} ` : ""}`;
  const price = item.freeOnly
    ? t(lang, "price-free")
    : t(lang, "price-from", { price: formatRub(item.fromKopecks, lang) });
  return { text: `${marks}${item.name} · ${price}`, callback_data: encodeAction({ a: "card", model: item.id, page }) };
}

/** "Name — what it is good at", one line a model, under a list's title. */
function goodAtLines(items: readonly ModelListItem[]): string[] {
  const lines = items.flatMap((item) =>
    item.goodAt === undefined ? [] : [`• <b>${escapeHtml(item.name)}</b> — ${escapeHtml(item.goodAt)}`],
  );
  return lines.length === 0 ? [] : ["", ...lines];
}

/** The card's price, and what its free options do once the day's free quota is used up. */
function cardPriceLine(card: ModelCard, price: string, ctx: ViewContext): string {
  const { t, lang } = ctx;
  if (card.freeOnly) return t(lang, "card-price-free-only", { n: ctx.freeDailyLimit });
  const line = t(lang, "card-price", { price });
  if (card.paidAfterFree) return `${line} (${t(lang, "card-free-then-paid", { n: ctx.freeDailyLimit })})`;
  return card.free ? `${line} (${t(lang, "card-free")})` : line;
}
