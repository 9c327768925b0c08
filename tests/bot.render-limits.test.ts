/**
 * Screens that quote user text, rendered alone: the quote is shortened to
 * the room the screen leaves (a notice above it included), never inside an
 * emoji, a flag, a letter with its marks, a tag or an entity.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Quote } from "../catalog/quote.ts";
import { createTranslator } from "../src/bot/i18n.ts";
import { renderView, type ViewContext } from "../src/bot/render.ts";
import { resultCaption } from "../src/bot/render-jobs.ts";
import type { Wizard } from "../src/bot/state.ts";
import { htmlLength } from "../src/telegram/text.ts";
import { parseTelegramHtml } from "./helpers/telegram/mod.ts";

const t = createTranslator({
  ru: readFileSync(new URL("../src/bot/locales/ru.ftl", import.meta.url), "utf8"),
  en: readFileSync(new URL("../src/bot/locales/en.ftl", import.meta.url), "utf8"),
});

const ctx = (lang: "ru" | "en"): ViewContext => ({
  lang,
  t,
  userId: 1,
  botUsername: "kie_test_bot",
  support: undefined,
  freeDailyLimit: 5,
  freeLeft: 0,
  freeBank: 0,
  balanceKopecks: 1_000_000,
  invited: 0,
  referralBonusEarned: 0,
  timeZone: "Europe/Moscow",
  starsPackages: [],
  yooPackages: [],
});

const wizardWith = (values: Wizard["values"]): Wizard => ({
  id: "w1",
  modelId: "google/imagen4",
  page: 0,
  steps: [],
  optional: [],
  step: 0,
  values,
  media: {},
  inParams: false,
});

const quote = { ok: true, quote: { kopecks: 4_714, free: false } as Quote } as const;
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemes = (text: string) => [...segmenter.segment(text)].map((s) => s.segment);

/** The text Telegram would show (its own HTML parser, from the strict fake). */
function shown(html: string): string {
  const parsed = parseTelegramHtml(html);
  if (!parsed.ok) throw new Error(`Telegram would refuse this HTML: ${parsed.error}`);
  return parsed.text;
}

describe("the confirmation quotes as much of the prompt as fits", () => {
  const prompts = {
    "4096 Cyrillic letters": "ж".repeat(4096),
    "2048 grinning faces": "😀".repeat(2048),
    "family emoji and Arabic": "👩‍👩‍👧‍👦مرحبا ".repeat(240),
    "flags and combining marks": "🇷🇺e\u0301 ".repeat(600),
    "<, > and & in Hebrew": "<b>&amp; שלום ".repeat(300),
  };

  for (const [name, prompt] of Object.entries(prompts)) {
    for (const lang of ["ru", "en"] as const) {
      it(`${name} (${lang}), with a notice above`, () => {
        const params = { prompt, negative_prompt: "кошка ".repeat(680), aspect_ratio: "16:9" };
        const notice = { key: "job-delivery-failed" };
        for (const screen of [
          renderView({ kind: "wizard", wizard: wizardWith(params) }, { quote }, ctx(lang)),
          renderView({ kind: "wizard", wizard: wizardWith(params) }, { quote }, ctx(lang), notice),
        ]) {
          const text = shown(screen.text);
          expect(htmlLength(screen.text)).toBe(text.length);
          expect(text.length).toBeLessThanOrEqual(4096);
          expect(LONE.test(screen.text)).toBe(false);
          expect(text).toMatch(lang === "en" ? /Price: 47\.14 ₽/ : /Цена: 47,14 ₽/);
          expect(
            screen.keyboard.flat().some((button) => "callback_data" in button && button.callback_data === "1|y|w1"),
          ).toBe(true);
          // The quote is the prompt's start cut at a whole grapheme, then "…".
          const quoted = text.match(/(?:Description|Описание): ([\s\S]*?)\n/)?.[1] ?? "";
          expect(quoted.endsWith("…")).toBe(true);
          const kept = quoted.slice(0, -1);
          expect(graphemes(prompt).slice(0, graphemes(kept).length).join("")).toBe(kept);
          expect(kept.length).toBeGreaterThan(2_500);
        }
      });
    }
  }

  it("quotes a prompt that fits whole, escaped", () => {
    const screen = renderView(
      { kind: "wizard", wizard: wizardWith({ prompt: "a <b>cat</b> & 🐶" }) },
      { quote },
      ctx("en"),
    );
    expect(screen.text).toContain("Description: a &lt;b&gt;cat&lt;/b&gt; &amp; 🐶\n");
  });
});

describe("a result's caption", () => {
  it.each([
    ["its 300th unit is half an emoji", `${"a".repeat(298)}😀 fox`, `${"a".repeat(298)}…`],
    ["a family emoji spans the cut", `${"ж".repeat(295)}👩‍👩‍👧‍👦 fox`, `${"ж".repeat(295)}…`],
    ["a flag spans the cut", `${"ש".repeat(297)}🇷🇺 fox`, `${"ש".repeat(297)}…`],
    ["a combining mark follows the cut", `${"a".repeat(298)}e\u0301 fox`, `${"a".repeat(298)}…`],
  ])("quotes the prompt by whole graphemes when %s", (_name, prompt, expected) => {
    const caption = resultCaption("Flux <Kontext> & Co", { prompt });
    expect(caption).toBe(`<b>Flux &lt;Kontext&gt; &amp; Co</b>\n<i>${expected}</i>`);
    expect(LONE.test(caption)).toBe(false);
    expect(shown(caption).length).toBeLessThanOrEqual(1024);
  });
});
