/**
 * The bot's one text module: user text cut by grapheme to a UTF-16 budget,
 * the length Telegram counts after parsing the bot's HTML, screens fitted
 * around a quote, and the last check of every outgoing call.
 */
import fc from "fast-check";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelegramApi } from "../src/telegram/api.ts";
import { fitOutgoing } from "../src/telegram/outgoing.ts";
import {
  cutHtml,
  cutText,
  escapeHtml,
  fitQuote,
  graphemeBoundary,
  htmlLength,
  htmlToPlain,
  wellFormed,
} from "../src/telegram/text.ts";
import { checkCall } from "./helpers/telegram/mod.ts";

const FAMILY = "👩‍👩‍👧‍👦"; // 11 UTF-16 units, one grapheme
const FLAG = "🇷🇺"; // 4 units, one grapheme
const GRIN = "😀"; // 2 units
const COMBINING = "e\u0301"; // e + U+0301: 2 units, one grapheme
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemesOf = (text: string) => [...segmenter.segment(text)].map((s) => s.segment);

/** What a user sees of the bot's HTML, parsed independently of the module under test. */
const parsed = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&amp;", "&");

describe("cutting user text", () => {
  it("never splits the surrogate pair at the 300th unit (the emoji prompt that was charged and never shown)", () => {
    const prompt = `${"a".repeat(298)}${GRIN}${"b".repeat(50)}`; // units 298-299 are one emoji
    const cut = cutText(prompt, 300);
    expect(cut.length).toBeLessThanOrEqual(300);
    expect(LONE.test(cut)).toBe(false);
    expect(cut).toBe(`${"a".repeat(298)}…`);
    // The 299th unit is a high surrogate: the old slice(0, 299) left half an emoji.
    expect(LONE.test(prompt.slice(0, 299))).toBe(true);
  });

  it.each([
    ["family emoji", FAMILY],
    ["flag", FLAG],
    ["combining mark", COMBINING],
    ["Cyrillic", "ж"],
    ["Arabic", "م"],
    ["Hebrew", "ש"],
  ])("keeps every %s whole", (_name, grapheme) => {
    const text = `${grapheme.repeat(100)}`;
    for (const budget of [1, 2, 5, 12, 13, 50, 99]) {
      const cut = cutText(text, budget);
      expect(cut.length).toBeLessThanOrEqual(budget);
      expect(cut.endsWith("…")).toBe(true);
      expect(graphemesOf(cut.slice(0, -1)).every((g) => g === grapheme)).toBe(true);
    }
  });

  it("leaves text within the budget alone and cuts to nothing when not even the ellipsis fits", () => {
    expect(cutText("Привет, мир", 11)).toBe("Привет, мир");
    expect(cutText("Привет, мир", 0)).toBe("");
    expect(cutText(FAMILY, 10)).toBe("…");
  });

  it("replaces a lone surrogate that came in with the text", () => {
    expect(wellFormed("a\uD83Db")).toBe("a\uFFFDb");
    expect(wellFormed("a\uDE00")).toBe("a\uFFFD");
    expect(wellFormed(`${GRIN}${FAMILY}`)).toBe(`${GRIN}${FAMILY}`);
    expect(LONE.test(cutText("x\uD83D", 10))).toBe(false);
  });

  it("holds for any text and budget: within budget, well formed, a prefix of whole graphemes", () => {
    const alphabet = ["a", " ", "<", "&", "ж", "م", "ש", COMBINING, GRIN, FLAG, FAMILY, "\n"];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 200 }),
        fc.integer({ min: 0, max: 400 }),
        (parts, budget) => {
          const text = parts.join("");
          const cut = cutText(text, budget);
          expect(cut.length).toBeLessThanOrEqual(budget);
          expect(LONE.test(cut)).toBe(false);
          if (cut === text) return;
          const kept = cut.endsWith("…") ? cut.slice(0, -1) : cut;
          expect(text.startsWith(kept)).toBe(true);
          expect(graphemesOf(text).slice(0, graphemesOf(kept).length).join("")).toBe(kept);
        },
      ),
      { seed: 14, numRuns: 300 },
    );
  });

  it("finds grapheme boundaries for splitting long text", () => {
    const text = `ab${FAMILY}cd`;
    expect(graphemeBoundary(text, 5)).toBe(2);
    expect(graphemeBoundary(text, 13)).toBe(13);
    expect(graphemeBoundary(text, 100)).toBe(text.length);
  });
});

describe("the bot's HTML", () => {
  it("escapes <, > and & so the parsed text is the plain text", () => {
    const text = `a < b && c > d ${FAMILY} مرحبا "q"`;
    expect(escapeHtml(text)).toBe(`a &lt; b &amp;&amp; c &gt; d ${FAMILY} مرحبا "q"`);
    expect(parsed(escapeHtml(text))).toBe(text);
    expect(htmlLength(escapeHtml(text))).toBe(text.length);
    expect(htmlToPlain(`<b>${escapeHtml(text)}</b>`)).toBe(text);
  });

  it("counts tags as nothing and an entity as what it stands for", () => {
    expect(htmlLength("<b>Flux &amp; Co</b>\n<i>a cat</i>")).toBe("Flux & Co\na cat".length);
    expect(htmlLength("&#128512;")).toBe(2);
    expect(htmlLength('<a href="https://x.example/?a=1&amp;b=2">link</a>')).toBe(4);
  });

  it("cuts HTML without breaking a tag, an entity or a grapheme, and closes what it left open", () => {
    const html = `<b>Model</b>\n<i>${`&lt;${FAMILY}&amp;${FLAG}`.repeat(100)}</i>`;
    for (const limit of [10, 50, 101, 500]) {
      const cut = cutHtml(html, limit);
      expect(htmlLength(cut)).toBeLessThanOrEqual(limit);
      expect(parsed(cut).length).toBeLessThanOrEqual(limit);
      expect(LONE.test(cut)).toBe(false);
      expect(cut).toMatch(/…<\/i>$/);
      expect(cut).not.toMatch(/&[a-z]*…/);
      const body = parsed(cut).slice("Model\n".length, -1);
      expect(graphemesOf(body).every((g) => ["<", "&", FAMILY, FLAG].includes(g))).toBe(true);
    }
  });

  it("fits a screen around a quote: the rest stays whole and the quote takes the room left", () => {
    const compose = (quote: string) => `<b>Confirm</b>\nDescription: ${quote}\nPrice: 10 ₽`;
    const prompt = `${"<&ж".repeat(1500)}${FAMILY}`;
    const screen = fitQuote(compose, prompt, 4096);
    expect(htmlLength(screen)).toBeLessThanOrEqual(4096);
    expect(parsed(screen).length).toBe(4096);
    expect(screen.endsWith("…\nPrice: 10 ₽")).toBe(true);
    expect(screen).not.toMatch(/&[a-z]*…/);
    expect(fitQuote(compose, "a cat", 4096)).toBe(compose("a cat"));
  });
});

describe("the last check before a call leaves", () => {
  it("shortens a message text over 4096 parsed characters and a caption over 1024", () => {
    const long = `<b>x</b>${escapeHtml(`${FAMILY}<`.repeat(600))}`;
    const message = fitOutgoing("sendMessage", { chat_id: 1, text: long, parse_mode: "HTML" });
    expect(message.changed).toEqual(["text"]);
    expect(parsed(String(message.payload.text)).length).toBeLessThanOrEqual(4096);
    const photo = fitOutgoing("sendPhoto", { chat_id: 1, photo: "u", caption: long, parse_mode: "HTML" });
    expect(parsed(String(photo.payload.caption)).length).toBeLessThanOrEqual(1024);
    const album = fitOutgoing("sendMediaGroup", {
      chat_id: 1,
      media: [
        { type: "photo", media: "a", caption: long, parse_mode: "HTML" },
        { type: "photo", media: "b" },
      ],
    });
    const media = album.payload.media as { caption?: string }[];
    expect(parsed(String(media[0]?.caption)).length).toBeLessThanOrEqual(1024);
    expect(media[1]).toEqual({ type: "photo", media: "b" });
  });

  it("cuts plain text by its own length, callback answers to 200 and invoice fields to 32 and 255", () => {
    const plain = fitOutgoing("sendMessage", { chat_id: 1, text: "&amp;".repeat(1000) });
    expect(String(plain.payload.text).length).toBeLessThanOrEqual(4096);
    const answer = fitOutgoing("answerCallbackQuery", { callback_query_id: "1", text: "Ж".repeat(250) });
    expect(String(answer.payload.text).length).toBeLessThanOrEqual(200);
    const invoice = fitOutgoing("sendInvoice", { title: FLAG.repeat(20), description: GRIN.repeat(200) });
    expect(String(invoice.payload.title).length).toBeLessThanOrEqual(32);
    expect(String(invoice.payload.description).length).toBeLessThanOrEqual(255);
    expect(invoice.changed).toEqual(["title", "description"]);
  });

  it("mends lone surrogates, fills an empty text and drops a button whose data is over 64 bytes", () => {
    const fitted = fitOutgoing("editMessageText", {
      chat_id: 1,
      message_id: 2,
      text: "<b> </b>",
      parse_mode: "HTML",
      reply_markup: {
        inline_keyboard: [
          [{ text: "ok\uD83D", callback_data: "1|m" }],
          [{ text: "too long", callback_data: "ж".repeat(33) }],
        ],
      },
    });
    expect(fitted.payload.text).toBe("…");
    expect(fitted.payload.reply_markup).toEqual({ inline_keyboard: [[{ text: "ok\uFFFD", callback_data: "1|m" }]] });
    expect(LONE.test(String(fitOutgoing("sendMessage", { text: `a\uD83D` }).payload.text))).toBe(false);
  });

  it("leaves a call within the limits untouched", () => {
    const payload = {
      chat_id: 1,
      text: `<b>${escapeHtml(FAMILY.repeat(372))}</b>`,
      parse_mode: "HTML",
      reply_markup: { inline_keyboard: [[{ text: "Menu", callback_data: "1|m" }]] },
    };
    expect(htmlLength(payload.text)).toBe(4092);
    const fitted = fitOutgoing("sendMessage", payload);
    expect(fitted).toEqual({ payload, changed: [] });
    expect(fitted.payload).toBe(payload);
  });
});

describe("every call of the bot's Bot API client", () => {
  const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
  const received: { method: string; body: Record<string, unknown> }[] = [];
  const server = setupServer(
    http.post(`https://api.telegram.org/bot${TOKEN}/:method`, async ({ request, params }) => {
      const body = (await request.json()) as Record<string, unknown>;
      const method = String(params.method);
      received.push({ method, body });
      const refusal = checkCall(method, body, { message: () => undefined });
      if (refusal !== undefined) {
        return HttpResponse.json(
          { ok: false, error_code: refusal.status, description: refusal.description },
          { status: 400 },
        );
      }
      return HttpResponse.json({
        ok: true,
        result: method === "sendMessage" ? { message_id: 1, date: 0, chat: { id: 1, type: "private" } } : true,
      });
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());

  it("is fitted to Telegram's limits before it leaves, with a warning that quotes no user text", async () => {
    const warnings: { obj: object; msg?: string }[] = [];
    const log = {
      debug() {},
      info() {},
      warn: (obj: object, msg?: string) => warnings.push({ obj, msg }),
      error() {},
      child() {
        return log;
      },
    };
    const api = createTelegramApi({ botToken: TOKEN, apiRoot: "https://api.telegram.org" }, fetch, log);
    const secret = `секрет ${FAMILY}`;
    await api.sendMessage(1, `<b>${escapeHtml(secret.repeat(500))}</b>`, { parse_mode: "HTML" });
    await api.answerCallbackQuery("q", { text: secret.repeat(30) });
    expect(received.map((call) => call.method)).toEqual(["sendMessage", "answerCallbackQuery"]);
    expect(parsed(String(received[0]?.body.text)).length).toBeLessThanOrEqual(4096);
    expect(String(received[1]?.body.text).length).toBeLessThanOrEqual(200);
    expect(warnings.map((w) => w.obj)).toEqual([
      { method: "sendMessage", fields: ["text"] },
      { method: "answerCallbackQuery", fields: ["text"] },
    ]);
    expect(JSON.stringify(warnings)).not.toContain("секрет");
  });
});
