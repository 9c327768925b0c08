/**
 * The text module under Deno (its own ICU and Intl.Segmenter): user text
 * is cut at whole graphemes and the last check fits a call, exactly as on
 * Node (tests/telegram.text.test.ts). Run with `npx deno test -A tests/deno/`.
 */
import { fitOutgoing } from "../../src/telegram/outgoing.ts";
import { cutHtml, cutText, escapeHtml, htmlLength } from "../../src/telegram/text.ts";

declare const Deno: {
  test(name: string, fn: () => void): void;
};

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const FAMILY = "👩‍👩‍👧‍👦";
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

Deno.test("user text is cut at whole graphemes", () => {
  assertEquals(cutText(`${"a".repeat(298)}😀 and more`, 300), `${"a".repeat(298)}…`, "surrogate pair at the cut");
  assertEquals(cutText(`ab${FAMILY}cd`, 12), "ab…", "family emoji at the cut");
  assertEquals(cutText("🇷🇺🇷🇺🇷🇺", 9), "🇷🇺🇷🇺…", "flags");
  assertEquals(cutText("e\u0301".repeat(4), 6), `${"e\u0301".repeat(2)}…`, "combining marks");
});

Deno.test("the bot's HTML is cut and fitted by its parsed length", () => {
  const html = `<b>Model</b>\n<i>${escapeHtml(`<${FAMILY}&`.repeat(400))}</i>`;
  const cut = cutHtml(html, 1024);
  assertEquals(htmlLength(cut) <= 1024, true, "within the caption limit");
  assertEquals(LONE.test(cut), false, "no lone surrogate");
  const fitted = fitOutgoing("sendMessage", { chat_id: 1, text: `${html}${html}`, parse_mode: "HTML" });
  assertEquals(fitted.changed, ["text"], "changed fields");
  assertEquals(htmlLength(String(fitted.payload.text)) <= 4096, true, "within the message limit");
});
