/**
 * Text the bot sends, kept within Telegram's rules: the one HTML escaper,
 * cutting user text by grapheme to a length budget, the length Telegram
 * counts after parsing the bot's HTML. The last check of every outgoing
 * call, which shortens what would still be refused, is `outgoing.ts`.
 *
 * Telegram counts lengths in UTF-16 code units (entity offsets are UTF-16),
 * after entity parsing: a tag counts nothing, `&amp;` counts one. Strings must
 * be valid UTF-8, so a lone surrogate (half an emoji) makes a call fail.
 *
 * @example
 * const quote = escapeHtml(cutText(prompt, 300)); // never half an emoji, ends with "…" when cut
 */

/** Telegram's documented limits (core.telegram.org/bots/api). */
export const TELEGRAM_LIMITS = {
  /** sendMessage/editMessageText `text`: 1-4096 characters after entities parsing. */
  messageText: 4096,
  /** Media `caption`: 0-1024 characters after entities parsing. */
  caption: 1024,
  /** InlineKeyboardButton `callback_data`: 1-64 bytes. */
  callbackDataBytes: 64,
  /** answerCallbackQuery `text`: 0-200 characters. */
  callbackAnswer: 200,
  /** sendInvoice `title`: 1-32 characters. */
  invoiceTitle: 32,
  /** sendInvoice `description`: 1-255 characters. */
  invoiceDescription: 255,
} as const;

/** What a cut text ends with. */
export const ELLIPSIS = "…";

/** Escapes plain text for Telegram's HTML parse mode (`&`, `<`, `>`); its parsed length is the plain length. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Escapes plain text for an HTML attribute value in double quotes (a link's `href`). */
export function escapeHtmlAttribute(text: string): string {
  return escapeHtml(text).replaceAll('"', "&quot;");
}

/** `text` with every lone UTF-16 surrogate replaced by U+FFFD, so it encodes as valid UTF-8. */
export function wellFormed(text: string): string {
  // A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Plain text cut to at most `budget` UTF-16 units at a grapheme boundary
 * (a family emoji, a flag or a letter with its combining marks stays whole),
 * ending with "…" when cut. Lone surrogates are replaced (see {@link wellFormed}).
 */
export function cutText(text: string, budget: number): string {
  const whole = wellFormed(text);
  if (whole.length <= budget) return whole;
  const room = budget - ELLIPSIS.length;
  if (room < 0) return "";
  let end = 0;
  for (const { segment, index } of graphemes.segment(whole)) {
    if (index + segment.length > room) break;
    end = index + segment.length;
  }
  return `${whole.slice(0, end)}${ELLIPSIS}`;
}

/** Telegram's length of `html` once parsed: tags count nothing, an entity one unit. */
export function htmlLength(html: string): number {
  let length = 0;
  for (const token of htmlTokens(html)) length += token.visible;
  return length;
}

/** The text a user sees of `html`: tags removed, entities decoded. */
export function htmlToPlain(html: string): string {
  let out = "";
  for (const token of htmlTokens(html)) {
    if (token.kind === "text") out += token.text;
    else if (token.kind === "entity") out += decodeEntity(token.text);
  }
  return out;
}

/**
 * The bot's own HTML cut to `limit` parsed units, ending with "…", never
 * inside a tag, an entity or a grapheme, with the tags left open closed.
 */
export function cutHtml(html: string, limit: number): string {
  if (htmlLength(html) <= limit) return html;
  const open: string[] = [];
  let out = "";
  let length = 0;
  const room = limit - ELLIPSIS.length;
  outer: for (const token of htmlTokens(html)) {
    if (token.kind === "text") {
      for (const { segment } of graphemes.segment(token.text)) {
        if (length + segment.length > room) break outer;
        length += segment.length;
        out += segment;
      }
      continue;
    }
    if (length + token.visible > room) break;
    length += token.visible;
    out += token.text;
    const tag = token.kind === "tag" ? token.text.match(/^<(\/?)([a-zA-Z][\w-]*)/) : null;
    if (tag === null || token.text.endsWith("/>")) continue;
    const name = tag[2]!.toLowerCase();
    if (tag[1] === "") open.push(name);
    else if (open.lastIndexOf(name) !== -1) open.splice(open.lastIndexOf(name), 1);
  }
  return `${out}${ELLIPSIS}${open
    .reverse()
    .map((name) => `</${name}>`)
    .join("")}`;
}

/**
 * A screen that quotes user text, fitted to `limit`: `compose` builds the
 * screen's HTML around the escaped quote, and the quote (plain text) is cut
 * by grapheme to the room the rest of the screen leaves. Cutting before
 * escaping never splits an entity, and the escaped quote's parsed length is
 * its plain length.
 */
export function fitQuote(compose: (quoteHtml: string) => string, quote: string, limit: number): string {
  const full = compose(escapeHtml(wellFormed(quote)));
  if (htmlLength(full) <= limit) return full;
  const room = limit - htmlLength(compose(""));
  return compose(escapeHtml(cutText(quote, Math.max(0, room))));
}

const encoder = new TextEncoder();

/** UTF-8 length of a string. */
export function utf8Length(text: string): number {
  // Non-ASCII text only is encoded (callback data, checked on every call, is ASCII).
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  return text.length;
}

type TokenKind = "tag" | "entity" | "text";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly visible: number;
}

const ENTITY = /^&(?:#\d{1,7}|#x[\da-fA-F]{1,6}|[a-zA-Z]{2,8});/;

function* htmlTokens(html: string): Generator<Token> {
  let i = 0;
  let run = "";
  const flush = function* (): Generator<Token> {
    if (run !== "") yield { kind: "text", text: run, visible: run.length };
    run = "";
  };
  while (i < html.length) {
    const char = html[i]!;
    if (char === "<") {
      const end = html.indexOf(">", i);
      if (end !== -1) {
        yield* flush();
        yield { kind: "tag", text: html.slice(i, end + 1), visible: 0 };
        i = end + 1;
        continue;
      }
    }
    if (char === "&") {
      const entity = html.slice(i, i + 12).match(ENTITY);
      if (entity !== null) {
        yield* flush();
        const decoded = decodeEntity(entity[0]);
        yield { kind: "entity", text: entity[0], visible: decoded.length };
        i += entity[0].length;
        continue;
      }
    }
    run += char;
    i += 1;
  }
  yield* flush();
}

const NAMED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"' };

function decodeEntity(entity: string): string {
  const body = entity.slice(1, -1);
  if (body.startsWith("#")) {
    const code = body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : "\uFFFD";
  }
  return NAMED[body] ?? entity;
}

/**
 * The largest grapheme boundary of `text` at or before `at` (a UTF-16
 * index), for splitting long text into messages without breaking a character.
 */
export function graphemeBoundary(text: string, at: number): number {
  if (at >= text.length) return text.length;
  let boundary = 0;
  // Boundaries well before the end of the window do not depend on what follows it.
  for (const { segment, index } of graphemes.segment(text.slice(0, at + 64))) {
    if (index + segment.length > at) break;
    boundary = index + segment.length;
  }
  return boundary;
}
