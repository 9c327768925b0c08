/**
 * What the bot believes a message shows: the digest of a screen matches
 * Telegram's copy of the message, and a shard skips exactly the edits that
 * would show what the message shows already.
 */
import { describe, expect, it } from "vitest";
import { messageDigest, ShownScreens, screenDigest } from "../src/bot/screen-digest.ts";
import { parseTelegramHtml } from "./helpers/telegram/mod.ts";

const KEYBOARD = [[{ text: "🏠 Главное меню", callback_data: "1|m" }], [{ text: "Pay", url: "https://yoomoney.ru/x" }]];

describe("screen digests", () => {
  it("a screen's digest equals the digest of the message Telegram stores for it", () => {
    for (const html of [
      "<b>Лиса в снегу 🦊</b>\nЦена: 19,64 ₽",
      "👩‍👩‍👧‍👦 <i>שלום</i> &lt;tag&gt; &amp; e\u0301",
      '<a href="https://example.org/?a=1&amp;b=2">ссылка</a> · <code>x</code>',
    ]) {
      const parsed = parseTelegramHtml(html);
      if (!parsed.ok) throw new Error(`Telegram would refuse ${html}`);
      expect(screenDigest(html, KEYBOARD), html).toBe(messageDigest(parsed.text, KEYBOARD));
    }
  });

  it("tells apart screens that differ in text, a button's text or a button's data", () => {
    const base = screenDigest("<b>Баланс</b>", KEYBOARD);
    expect(screenDigest("<b>Баланс</b> ", KEYBOARD)).not.toBe(base);
    expect(screenDigest("<b>Баланс</b>", [[{ text: "🏠 Главное меню", callback_data: "1|x" }]])).not.toBe(base);
    expect(screenDigest("<b>Баланс</b>", [[{ text: "🏠 Меню", callback_data: "1|m" }]])).not.toBe(base);
  });
});

describe("what a shard knows its messages show", () => {
  const [A, B, C] = ["a", "b", "c"];

  it("edits a message it knows nothing of, then skips showing the same there again", async () => {
    const shown = new ShownScreens();
    const settle = await shown.claim(1, 10, A);
    expect(settle).toBeDefined();
    settle?.(true);
    expect(await shown.claim(1, 10, A)).toBeUndefined();
    expect(await shown.claim(1, 10, B)).toBeDefined();
  });

  it("skips a press's screen that its message showed when pressed", async () => {
    expect(await new ShownScreens().claim(1, 10, A, A)).toBeUndefined();
  });

  it("a double tap: the second press saw the screen the first one replaced, and its edit is skipped", async () => {
    const shown = new ShownScreens();
    (await shown.claim(1, 10, B, A))?.(true);
    expect(await shown.claim(1, 10, B, A)).toBeUndefined();
  });

  it("a press that saw a screen this shard never showed (another instance's edit) is believed", async () => {
    const shown = new ShownScreens();
    (await shown.claim(1, 10, B, A))?.(true);
    expect(await shown.claim(1, 10, B, C)).toBeDefined();
  });

  it("an identical edit under way: skipped when it succeeds, sent when it failed", async () => {
    const shown = new ShownScreens();
    const first = await shown.claim(1, 10, A);
    const second = shown.claim(1, 10, A);
    first?.(true);
    expect(await second).toBeUndefined();

    const failing = await shown.claim(2, 20, A);
    const retry = shown.claim(2, 20, A);
    failing?.(false);
    expect(await retry).toBeDefined();
  });

  it("forgets the oldest message past its limit (its next edit is sent)", async () => {
    const shown = new ShownScreens();
    shown.sent(1, 0, A);
    for (let id = 1; id <= ShownScreens.LIMIT; id++) shown.sent(1, id, A);
    expect(await shown.claim(1, 0, A)).toBeDefined();
    expect(await shown.claim(1, ShownScreens.LIMIT, A)).toBeUndefined();
  });
});
