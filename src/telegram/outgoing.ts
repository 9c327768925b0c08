/**
 * The last check of every Bot API call before it leaves: texts, captions,
 * callback answers, invoice fields and keyboards are made to fit Telegram's
 * documented limits (see `text.ts`), so a screen that came out too long is
 * shortened instead of refused. Screens fit themselves first; this only
 * catches what slipped through, and says so in a warning (which names the
 * method and the fields, never their text).
 */
import type { Transformer } from "grammy/web";
import type { Log } from "../../actors/behavior.ts";
import {
  cutHtml,
  cutText,
  ELLIPSIS,
  htmlLength,
  htmlToPlain,
  TELEGRAM_LIMITS,
  utf8Length,
  wellFormed,
} from "./text.ts";

/** A payload made to fit, and the fields that had to change. */
export interface Fitted {
  readonly payload: Record<string, unknown>;
  readonly changed: readonly string[];
}

const CAPTION_METHODS = new Set([
  "sendPhoto",
  "sendVideo",
  "sendAudio",
  "sendDocument",
  "sendAnimation",
  "sendVoice",
  "editMessageCaption",
  "copyMessage",
]);

/**
 * `payload` of `method` within Telegram's limits: message text 1-4096 and
 * captions up to 1024 parsed characters, callback answers up to 200, invoice
 * title 1-32 and description 1-255, every string valid UTF-8; a button whose
 * callback data is over 64 bytes is dropped (cutting it would change what
 * it does). Returns the payload itself when nothing had to change.
 */
export function fitOutgoing(method: string, payload: Record<string, unknown>): Fitted {
  const changed: string[] = [];
  const out: Record<string, unknown> = { ...payload };
  const html = payload.parse_mode === "HTML";
  const fitField = (field: string, limit: number, isHtml: boolean, required: boolean) => {
    const value = out[field];
    if (typeof value !== "string") return;
    const next = fitString(value, limit, isHtml, required);
    if (next !== value) {
      out[field] = next;
      changed.push(field);
    }
  };
  if (method === "sendMessage" || method === "editMessageText")
    fitField("text", TELEGRAM_LIMITS.messageText, html, true);
  if (CAPTION_METHODS.has(method)) fitField("caption", TELEGRAM_LIMITS.caption, html, false);
  if (method === "answerCallbackQuery") fitField("text", TELEGRAM_LIMITS.callbackAnswer, false, false);
  if (method === "sendInvoice") {
    fitField("title", TELEGRAM_LIMITS.invoiceTitle, false, true);
    fitField("description", TELEGRAM_LIMITS.invoiceDescription, false, true);
  }
  if (method === "sendMediaGroup" && Array.isArray(out.media)) {
    let mediaChanged = false;
    const media = out.media.map((item: unknown) => {
      if (typeof item !== "object" || item === null) return item;
      const entry = item as Record<string, unknown>;
      if (typeof entry.caption !== "string") return item;
      const caption = fitString(entry.caption, TELEGRAM_LIMITS.caption, entry.parse_mode === "HTML", false);
      if (caption === entry.caption) return item;
      mediaChanged = true;
      return { ...entry, caption };
    });
    if (mediaChanged) {
      out.media = media;
      changed.push("media.caption");
    }
  }
  const markup = fitMarkup(out.reply_markup);
  if (markup !== out.reply_markup) {
    out.reply_markup = markup;
    changed.push("reply_markup");
  }
  return changed.length === 0 ? { payload, changed } : { payload: out, changed };
}

function fitString(value: string, limit: number, html: boolean, required: boolean): string {
  let next = wellFormed(value);
  if (html ? htmlLength(next) > limit : next.length > limit) next = html ? cutHtml(next, limit) : cutText(next, limit);
  // Telegram refuses a required text that is empty (or only spaces) once parsed.
  if (required && (html ? htmlToPlain(next) : next).trim() === "") next = ELLIPSIS;
  return next;
}

function fitMarkup(markup: unknown): unknown {
  if (typeof markup !== "object" || markup === null) return markup;
  const keyboard = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (!Array.isArray(keyboard)) return markup;
  let changed = false;
  const rows = keyboard
    .map((row: unknown) => {
      if (!Array.isArray(row)) return row;
      const buttons = row.flatMap((button: unknown) => {
        if (typeof button !== "object" || button === null) return [button];
        const { text, callback_data } = button as { text?: unknown; callback_data?: unknown };
        if (typeof callback_data === "string" && utf8Length(callback_data) > TELEGRAM_LIMITS.callbackDataBytes) {
          changed = true;
          return [];
        }
        if (typeof text === "string" && wellFormed(text) !== text) {
          changed = true;
          return [{ ...button, text: wellFormed(text) }];
        }
        return [button];
      });
      return buttons;
    })
    .filter((row: unknown) => !Array.isArray(row) || row.length > 0);
  if (rows.length !== keyboard.length) changed = true;
  return changed ? { ...markup, inline_keyboard: rows } : markup;
}

/** The grammY transformer that runs {@link fitOutgoing} on every call and warns when it had to change one. */
export function outgoingGuard(log?: Log): Transformer {
  return (prev, method, payload, signal) => {
    const fitted = fitOutgoing(method, payload as Record<string, unknown>);
    if (fitted.changed.length > 0) {
      log?.warn({ method, fields: fitted.changed }, "outgoing Bot API call shortened to fit Telegram's limits");
    }
    return prev(method, fitted.payload as typeof payload, signal);
  };
}
