/**
 * Telegram's `parse_mode: "HTML"`, as the Bot API server parses it (a port
 * of `parse_html` in tdlib's MessageEntity.cpp): only its tags, attributes
 * in its grammar, the named entities `&lt; &gt; &amp; &quot;` and numeric
 * ones (any other `&...` stays literal text), every tag closed in order.
 * Errors carry tdlib's own wording; the Bot API prefixes them with
 * "Bad Request: can't parse entities: ". Offsets of entities are in UTF-16
 * code units, error positions in UTF-8 bytes of the source, as Telegram's.
 */

/** A formatting entity, as Telegram reports it in `Message.entities`. */
export interface ParsedEntity {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
  readonly language?: string;
  readonly custom_emoji_id?: string;
}

export type HtmlParse =
  | { readonly ok: true; readonly text: string; readonly entities: readonly ParsedEntity[] }
  | { readonly ok: false; readonly error: string };

const TAGS = new Set([
  "a",
  "b",
  "strong",
  "i",
  "em",
  "s",
  "strike",
  "del",
  "u",
  "ins",
  "tg-spoiler",
  "tg-emoji",
  "span",
  "pre",
  "code",
  "blockquote",
]);

const SIMPLE: Record<string, string> = {
  i: "italic",
  em: "italic",
  b: "bold",
  strong: "bold",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  u: "underline",
  ins: "underline",
  "tg-spoiler": "spoiler",
};

/** tdlib's `is_space`: the end of the text counts as one. */
const isSpace = (c: string | undefined) =>
  c === undefined || c === " " || c === "\t" || c === "\r" || c === "\n" || c === "\v" || c === "\0";
const isAlnum = (c: string | undefined) => c !== undefined && /^[A-Za-z0-9]$/.test(c);
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Bytes of `s` in UTF-8 (a lone surrogate as the 3 bytes a JSON decoder makes of it). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Decodes the entity at `s[pos] === "&"`: its code point and where it ends, or undefined (stays literal). */
function decodeEntity(s: string, pos: number): { code: number; end: number } | undefined {
  let end = pos + 1;
  let code = 0;
  if (s[pos + 1] === "#") {
    end++;
    if (s[pos + 2] === "x") {
      end++;
      while (end < s.length && /^[0-9A-Fa-f]$/.test(s[end] ?? ""))
        code = code * 16 + Number.parseInt(s[end++] ?? "0", 16);
    } else {
      while (end < s.length && /^[0-9]$/.test(s[end] ?? "")) code = code * 10 + Number(s[end++]);
    }
    if (code === 0 || code >= 0x10ffff || end - pos >= 10) return undefined;
  } else {
    while (end < s.length && /^[A-Za-z]$/.test(s[end] ?? "")) end++;
    const name = s.slice(pos + 1, end);
    const named: Record<string, number> = { lt: 0x3c, gt: 0x3e, amp: 0x26, quot: 0x22 };
    const found = named[name];
    if (found === undefined) return undefined;
    code = found;
  }
  return { code, end: s[end] === ";" ? end + 1 : end };
}

/** A code point as a JS string; a surrogate code point stays a lone surrogate (invalid UTF-8 for Telegram). */
const charOf = (code: number) =>
  code >= 0xd800 && code <= 0xdfff ? String.fromCharCode(code) : String.fromCodePoint(code);

/** True when `s` holds a UTF-16 surrogate without its pair (not encodable as UTF-8). */
export function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

interface OpenTag {
  readonly tag: string;
  readonly argument: string;
  readonly offset: number;
}

/** Parses `source` as Telegram's HTML: its plain text and entities, or tdlib's error. */
export function parseTelegramHtml(source: string): HtmlParse {
  const fail = (error: string): HtmlParse => ({ ok: false, error });
  const at = (pos: number) => utf8Length(source.slice(0, pos));
  const entities: ParsedEntity[] = [];
  const open: OpenTag[] = [];
  let text = "";
  let surrogateFromEntity = false;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === "&") {
      const decoded = decodeEntity(source, i);
      if (decoded !== undefined) {
        if (decoded.code >= 0xd800 && decoded.code <= 0xdfff) surrogateFromEntity = true;
        text += charOf(decoded.code);
        i = decoded.end;
        continue;
      }
    }
    if (c !== "<") {
      text += c;
      i++;
      continue;
    }
    const begin = i++;
    if (source[i] !== "/") {
      while (!isSpace(source[i]) && source[i] !== ">") i++;
      if (i >= source.length) return fail(`Unclosed start tag at byte offset ${at(begin)}`);
      const tag = asciiLower(source.slice(begin + 1, i));
      if (!TAGS.has(tag)) return fail(`Unsupported start tag "${tag}" at byte offset ${at(begin)}`);
      let argument = "";
      while (source[i] !== ">") {
        while (i < source.length && isSpace(source[i])) i++;
        if (source[i] === ">") break;
        const nameBegin = i;
        while (!isSpace(source[i]) && !"=>/\"'".includes(source[i] ?? "")) i++;
        const name = source.slice(nameBegin, i);
        if (name === "") return fail(`Empty attribute name in the tag "${tag}" at byte offset ${at(begin)}`);
        while (i < source.length && isSpace(source[i])) i++;
        if (source[i] !== "=") {
          if (i >= source.length) return fail(`Unclosed start tag "${tag}" at byte offset ${at(begin)}`);
          if (tag === "blockquote" && name === "expandable") argument = "1";
          continue;
        }
        i++;
        while (i < source.length && isSpace(source[i])) i++;
        if (i >= source.length) return fail(`Unclosed start tag "${tag}" at byte offset ${at(begin)}`);
        let value = "";
        const quote = source[i];
        if (quote !== "'" && quote !== '"') {
          const tokenBegin = i;
          while (isAlnum(source[i]) || source[i] === "." || source[i] === "-") i++;
          value = asciiLower(source.slice(tokenBegin, i));
          if (i >= source.length || (!isSpace(source[i]) && source[i] !== ">"))
            return fail(`Unexpected end of name token at byte offset ${at(tokenBegin)}`);
        } else {
          i++;
          while (i < source.length && source[i] !== quote) {
            if (source[i] === "&") {
              const decoded = decodeEntity(source, i);
              if (decoded !== undefined) {
                value += charOf(decoded.code);
                i = decoded.end;
                continue;
              }
            }
            value += source[i++];
          }
          if (source[i] === quote) i++;
        }
        if (i >= source.length) return fail(`Unclosed start tag at byte offset ${at(begin)}`);
        if (tag === "a" && name === "href") argument = value;
        else if (tag === "code" && name === "class" && value.startsWith("language-")) argument = value.slice(9);
        else if (tag === "span" && name === "class" && value.startsWith("tg-")) argument = value.slice(3);
        else if (tag === "tg-emoji" && name === "emoji-id") argument = value;
        else if (tag === "blockquote" && name === "expandable") argument = "1";
      }
      if (tag === "span" && argument !== "spoiler")
        return fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at(begin)}`);
      open.push({ tag, argument, offset: text.length });
      i++;
      continue;
    }
    const top = open.at(-1);
    if (top === undefined) return fail(`Unexpected end tag at byte offset ${at(begin)}`);
    while (!isSpace(source[i]) && source[i] !== ">") i++;
    const endTag = asciiLower(source.slice(begin + 2, i));
    while (i < source.length && isSpace(source[i])) i++;
    if (source[i] !== ">") return fail(`Unclosed end tag at byte offset ${at(begin)}`);
    i++;
    if (endTag !== "" && endTag !== top.tag)
      return fail(`Unmatched end tag at byte offset ${at(begin)}, expected "</${top.tag}>", found "</${endTag}>"`);
    open.pop();
    if (text.length <= top.offset) continue;
    const span = { offset: top.offset, length: text.length - top.offset };
    const simple = SIMPLE[top.tag];
    if (simple !== undefined || top.tag === "span") entities.push({ type: simple ?? "spoiler", ...span });
    else if (top.tag === "tg-emoji") {
      if (!/^[0-9]+$/.test(top.argument) || /^0+$/.test(top.argument))
        return fail("Invalid custom emoji identifier specified");
      entities.push({ type: "custom_emoji", ...span, custom_emoji_id: top.argument });
    } else if (top.tag === "a") {
      const url = top.argument === "" ? text.slice(top.offset) : top.argument;
      // An unusable link makes no entity (and no error), as in tdlib.
      if (isLink(url)) entities.push({ type: "text_link", ...span, url });
    } else if (top.tag === "pre") {
      const last = entities.at(-1);
      if (last?.type === "code" && last.offset === span.offset && last.length === span.length && last.language)
        entities[entities.length - 1] = { type: "pre", ...span, language: last.language };
      else entities.push({ type: "pre", ...span });
    } else if (top.tag === "code") {
      const last = entities.at(-1);
      if (last?.type === "pre" && last.offset === span.offset && last.length === span.length && top.argument !== "")
        entities[entities.length - 1] = { type: "pre", ...span, language: top.argument };
      else entities.push({ type: "code", ...span, ...(top.argument !== "" ? { language: top.argument } : {}) });
    } else if (top.tag === "blockquote") {
      entities.push({ type: top.argument !== "" ? "expandable_blockquote" : "blockquote", ...span });
    }
  }
  const unclosed = open.at(-1);
  if (unclosed !== undefined) return fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  if (surrogateFromEntity && hasLoneSurrogate(text))
    return fail(
      "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units",
    );
  // A standalone code tag keeps no language.
  const cleaned = entities.map((entity) =>
    entity.type === "code" && entity.language !== undefined
      ? { type: entity.type, offset: entity.offset, length: entity.length }
      : entity,
  );
  cleaned.sort((a, b) => a.offset - b.offset || b.length - a.length || a.type.localeCompare(b.type));
  return { ok: true, text, entities: cleaned };
}

/** A link Telegram keeps: http(s), tg: or a bare host with a dot. */
export function isLink(url: string): boolean {
  if (/^tg:\/\/./i.test(url)) return true;
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`;
  try {
    const parsed = new URL(withScheme);
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname.includes(".");
  } catch {
    return false;
  }
}
