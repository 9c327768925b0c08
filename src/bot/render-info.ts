/** Screens of the main menu's info pages: balance, top-up, history, help, language, referral, terms, support. */
import { encodeAction } from "./callback-data.ts";
import { formatRub } from "./money.ts";
import type { ButtonOf } from "./render-parts.ts";
import { type Button, escapeHtml, type Screen, type UrlButton, type ViewContext } from "./render-parts.ts";

/** The screen of an info page. */
export function renderInfo(page: string, ctx: ViewContext, button: ButtonOf, menuRow: Button[]): Screen {
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
        text: `${t(lang, "topup-title")}\n${t(lang, "topup-stars", { balance: formatRub(ctx.balanceKopecks, lang) })}`,
        keyboard: [
          ...ctx.starsPackages.map((pack, i) => [
            {
              text: t(lang, "btn-stars-package", { stars: pack.stars, price: formatRub(pack.kopecks, lang) }),
              callback_data: encodeAction({ a: "stars", i }),
            },
          ]),
          ...ctx.yooPackages.map((kopecks, i) => [
            {
              text: t(lang, "btn-card-package", { price: formatRub(kopecks, lang) }),
              callback_data: encodeAction({ a: "yoo", i }),
            },
          ]),
          ...(ctx.yooPackages.length > 0 ? [[button("btn-card-amount", { a: "yooAmount" })]] : []),
          [button("btn-balance", { a: "page", page: "balance" })],
          menuRow,
        ],
      };
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
        text: [
          t(lang, "referral-title"),
          t(lang, "referral-body", { link: escapeHtml(link) }),
          t(lang, "referral-stats", { invited: ctx.invited, earned: ctx.referralBonusEarned }),
        ].join("\n"),
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

/** A card payment ready to pay: the YooKassa page, and "Check payment" for a notification that never came. */
export function renderYooPay(
  attemptId: string,
  url: string,
  kopecks: number,
  ctx: ViewContext,
  button: ButtonOf,
  menuRow: Button[],
): Screen {
  const { t, lang } = ctx;
  const price = formatRub(kopecks, lang);
  const pay: UrlButton = { text: t(lang, "btn-card-pay", { price }), url };
  return {
    text: t(lang, "yoo-ready", { price }),
    keyboard: [[pay], [button("btn-card-check", { a: "yooCheck", attempt: attemptId })], menuRow],
  };
}
