/**
 * Sending a finished generation to the user's chat. Telegram is asked to
 * fetch each result file by URL first (cheapest for us); when it cannot, the
 * file is downloaded under the safe-fetch rules and uploaded; when the upload
 * is refused, it goes as a document; when even that fails, the user gets a
 * link, so a paid result is never silently lost.
 */
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { type Api, GrammyError, InputFile } from "grammy/web";
import { checkResultUrl, FetchRefused, safeDownload } from "./safe-fetch.ts";

export type ResultOutput = "image" | "video" | "audio" | "text";

export interface ResultToSend {
  readonly chatId: number;
  readonly output: ResultOutput;
  /** Result file URLs from KIE (https). */
  readonly urls: readonly string[];
  /** For output "text" (a transcription): plain text, not yet escaped. */
  readonly text?: string;
  /** Already-escaped HTML (model name and prompt); cut here to Telegram's limits. */
  readonly caption: string;
  /** The after-result buttons. */
  readonly keyboard: readonly (readonly { text: string; callback_data: string }[])[];
}

export interface SendResultDeps {
  readonly api: Api;
  /** Used for downloads when Telegram cannot fetch a URL itself. */
  readonly fetch: typeof fetch;
  readonly allowedHosts: readonly string[];
  /** Download cap (the Bot API takes uploads up to 50 MB). */
  readonly maxBytes: number;
  /** Download time cap. */
  readonly timeoutMs: number;
}

/** How each result file went out. */
export type SentVia = "url" | "upload" | "document" | "link";

/** `via` has one entry per delivered file, in sending order; `messageIds` every message sent. */
export interface SendResultOutcome {
  readonly via: readonly SentVia[];
  readonly messageIds: readonly number[];
}

/** Nothing in the result can be shown to the user, so the caller should fail the job. */
export class ResultUndeliverable extends Error {
  override readonly name = "ResultUndeliverable";
  readonly code = "result_undeliverable";
}

/** Telegram's limits, in characters after entity parsing. */
const CAPTION_LIMIT = 1024;
const MESSAGE_LIMIT = 4096;
const ALBUM_SIZE = 10;
/** Text of the keyboard message after an album when there is no caption to repeat. */
const POINTER_TEXT = "⬆️";

type FileKind = "photo" | "video" | "audio" | "document";

/** One message (or album) to send, with whether it carries the caption and the keyboard. */
type Unit =
  | { readonly kind: "files"; readonly urls: readonly string[]; readonly caption: boolean; readonly keyboard: boolean }
  | { readonly kind: "link"; readonly url: string; readonly caption: boolean; readonly keyboard: boolean };

interface Sending {
  readonly deps: SendResultDeps;
  readonly result: ResultToSend;
  readonly file: FileKind;
  readonly via: SentVia[];
  readonly messageIds: number[];
}

/**
 * Sends `result` to its chat. Throws {@link ResultUndeliverable} when no URL
 * (and no text) can be shown at all; Telegram errors other than a refusal of
 * the content (400/413) propagate so the caller can retry later.
 */
export async function sendResult(deps: SendResultDeps, result: ResultToSend): Promise<SendResultOutcome> {
  const via: SentVia[] = [];
  const messageIds: number[] = [];
  if (result.output === "text" && result.text !== undefined && result.text.trim() !== "") {
    for (const id of await sendText(deps.api, result, result.text)) messageIds.push(id);
    return { via, messageIds };
  }
  const sending: Sending = { deps, result, file: fileKindOf(result.output), via, messageIds };
  for (const unit of plan(result.urls, deps.allowedHosts, sending.file === "photo")) {
    if (unit.kind === "link") await sendLink(sending, unit.url, unit.caption, unit.keyboard);
    else if (unit.urls.length === 1) await deliverFile(sending, unit.urls[0]!, unit.caption, unit.keyboard);
    else await deliverAlbum(sending, unit.urls, unit.caption, unit.keyboard);
  }
  return { via, messageIds };
}

function fileKindOf(output: ResultOutput): FileKind {
  if (output === "image") return "photo";
  if (output === "video") return "video";
  if (output === "audio") return "audio";
  return "document";
}

/**
 * Splits the URLs into units: fetchable ones (photos grouped into albums of
 * up to ten), then https ones we must not fetch (links only); other schemes
 * are dropped. The caption goes on the first unit, the keyboard on the last.
 */
function plan(urls: readonly string[], allowedHosts: readonly string[], albums: boolean): Unit[] {
  const fetchable: string[] = [];
  const linkOnly: string[] = [];
  for (const url of urls) {
    try {
      fetchable.push(checkResultUrl(url, allowedHosts).href);
    } catch (error) {
      if (!(error instanceof FetchRefused)) throw error;
      if (error.code === "host_not_allowed" || error.code === "private_address") linkOnly.push(new URL(url).href);
    }
  }
  if (fetchable.length + linkOnly.length === 0) {
    throw new ResultUndeliverable(`none of ${urls.length} result URL(s) can be delivered`);
  }
  const groups: string[][] = [];
  const size = albums ? ALBUM_SIZE : 1;
  for (let i = 0; i < fetchable.length; i += size) groups.push(fetchable.slice(i, i + size));
  const shapes = [
    ...groups.map((group) => ({ kind: "files" as const, urls: group })),
    ...linkOnly.map((url) => ({ kind: "link" as const, url })),
  ];
  return shapes.map((shape, index) => ({ ...shape, caption: index === 0, keyboard: index === shapes.length - 1 }));
}

/** Sends an album by URLs; when Telegram refuses it, each photo goes on its own with the fallbacks. */
async function deliverAlbum(sending: Sending, urls: readonly string[], caption: boolean, keyboard: boolean) {
  const { api } = sending.deps;
  const { result } = sending;
  const firstCaption = caption ? cutHtml(result.caption, CAPTION_LIMIT) : "";
  let messages: Message[];
  try {
    messages = await api.sendMediaGroup(
      result.chatId,
      urls.map((url, index) => ({
        type: "photo" as const,
        media: url,
        ...(index === 0 && firstCaption !== "" ? { caption: firstCaption, parse_mode: "HTML" as const } : {}),
      })),
    );
  } catch (error) {
    if (!isRefusal(error, [400])) throw error;
    for (const [index, url] of urls.entries()) {
      await deliverFile(sending, url, caption && index === 0, keyboard && index === urls.length - 1);
    }
    return;
  }
  for (const message of messages) sending.messageIds.push(message.message_id);
  sending.via.push(...urls.map(() => "url" as const));
  if (keyboard && hasButtons(result.keyboard)) {
    const text = cutHtml(result.caption, MESSAGE_LIMIT) || POINTER_TEXT;
    const message = await api.sendMessage(result.chatId, text, { parse_mode: "HTML", ...markup(result.keyboard) });
    sending.messageIds.push(message.message_id);
  }
}

/** Sends one fetchable file: by URL, then uploaded, then as a document, then as a link. */
async function deliverFile(sending: Sending, url: string, caption: boolean, keyboard: boolean): Promise<void> {
  const { deps, result, file } = sending;
  const captionText = caption ? cutHtml(result.caption, CAPTION_LIMIT) : "";
  const extra = {
    ...(captionText !== "" ? { caption: captionText, parse_mode: "HTML" as const } : {}),
    ...(keyboard ? markup(result.keyboard) : {}),
  };
  const done = (via: SentVia, message: Message) => {
    sending.via.push(via);
    sending.messageIds.push(message.message_id);
  };
  try {
    return done("url", await sendFile(deps.api, result.chatId, file, url, extra));
  } catch (error) {
    if (!isRefusal(error, [400])) throw error;
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const { allowedHosts, maxBytes, timeoutMs, fetch } = deps;
    ({ bytes } = await safeDownload(url, { allowedHosts, maxBytes, timeoutMs, fetch }));
  } catch (error) {
    if (!(error instanceof FetchRefused)) throw error;
    return sendLink(sending, url, caption, keyboard);
  }
  const name = fileNameOf(url, result.output);
  try {
    return done("upload", await sendFile(deps.api, result.chatId, file, new InputFile(bytes, name), extra));
  } catch (error) {
    if (!isRefusal(error, [400, 413])) throw error;
  }
  if (file !== "document") {
    try {
      return done("document", await sendFile(deps.api, result.chatId, "document", new InputFile(bytes, name), extra));
    } catch (error) {
      if (!isRefusal(error, [400, 413])) throw error;
    }
  }
  await sendLink(sending, url, caption, keyboard);
}

type SendExtra = { caption?: string; parse_mode?: "HTML"; reply_markup?: InlineKeyboardMarkup };

function sendFile(api: Api, chatId: number, kind: FileKind, source: string | InputFile, extra: SendExtra) {
  if (kind === "photo") return api.sendPhoto(chatId, source, extra);
  if (kind === "video") return api.sendVideo(chatId, source, { ...extra, supports_streaming: true });
  if (kind === "audio") return api.sendAudio(chatId, source, extra);
  return api.sendDocument(chatId, source, extra);
}

/** A message with a link to the file, for results Telegram cannot take and we cannot fetch. */
async function sendLink(sending: Sending, url: string, caption: boolean, keyboard: boolean): Promise<void> {
  const { api } = sending.deps;
  const { result } = sending;
  const link = `<a href="${escapeAttribute(url)}">${escapeHtml(url)}</a>`;
  const head = caption ? cutHtml(result.caption, CAPTION_LIMIT) : "";
  const text = head !== "" && htmlLength(head) + 2 + url.length <= MESSAGE_LIMIT ? `${head}\n\n${link}` : link;
  const message = await api.sendMessage(result.chatId, text, {
    parse_mode: "HTML",
    link_preview_options: { is_disabled: true },
    ...(keyboard ? markup(result.keyboard) : {}),
  });
  sending.via.push("link");
  sending.messageIds.push(message.message_id);
}

/** A transcription: the caption, then the escaped text in messages of at most 4096 characters. */
async function sendText(api: Api, result: ResultToSend, text: string): Promise<number[]> {
  const head = cutHtml(result.caption, CAPTION_LIMIT);
  const prefix = head === "" ? "" : `${head}\n\n`;
  // Telegram rejects a message that is only whitespace; the caption keeps the first one.
  const pieces = splitPlain(text, MESSAGE_LIMIT - htmlLength(prefix), MESSAGE_LIMIT).filter(
    (piece, index) => piece.trim() !== "" || (index === 0 && prefix !== ""),
  );
  const ids: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    const last = index === pieces.length - 1;
    const message = await api.sendMessage(result.chatId, `${index === 0 ? prefix : ""}${escapeHtml(piece)}`, {
      parse_mode: "HTML",
      link_preview_options: { is_disabled: true },
      ...(last ? markup(result.keyboard) : {}),
    });
    ids.push(message.message_id);
  }
  return ids;
}

/**
 * Splits plain text into pieces of at most `first` (then `rest`) characters,
 * preferring line breaks, then spaces, never inside a surrogate pair.
 */
function splitPlain(text: string, first: number, rest: number): string[] {
  const pieces: string[] = [];
  let remaining = text;
  let limit = first;
  while (remaining.length > limit) {
    let cut = remaining.lastIndexOf("\n", limit - 1) + 1;
    if (cut <= limit / 2) cut = remaining.lastIndexOf(" ", limit - 1) + 1;
    if (cut <= limit / 2) cut = isHighSurrogate(remaining.charCodeAt(limit - 1)) ? limit - 1 : limit;
    pieces.push(remaining.slice(0, cut));
    remaining = remaining.slice(cut);
    limit = rest;
  }
  pieces.push(remaining);
  return pieces;
}

/** Characters Telegram counts in `html` once parsed: tags count nothing, an entity one. */
function htmlLength(html: string): number {
  let length = 0;
  for (const token of tokens(html)) length += token.visible;
  return length;
}

/**
 * Cuts already-escaped HTML to `limit` parsed characters, ending with "…",
 * never inside a tag, an entity or a surrogate pair, and closing open tags.
 */
function cutHtml(html: string, limit: number): string {
  if (htmlLength(html) <= limit) return html;
  const open: string[] = [];
  let out = "";
  let length = 0;
  for (const token of tokens(html)) {
    if (length + token.visible > limit - 1) break;
    length += token.visible;
    out += token.text;
    const tag = token.visible === 0 ? token.text.match(/^<(\/?)([a-zA-Z][\w-]*)/) : null;
    if (tag === null || token.text.endsWith("/>")) continue;
    const name = tag[2]!.toLowerCase();
    if (tag[1] === "") open.push(name);
    else if (open.lastIndexOf(name) !== -1) open.splice(open.lastIndexOf(name), 1);
  }
  return `${out}…${open
    .reverse()
    .map((name) => `</${name}>`)
    .join("")}`;
}

interface Token {
  readonly text: string;
  readonly visible: number;
}

function* tokens(html: string): Generator<Token> {
  let i = 0;
  while (i < html.length) {
    const char = html[i]!;
    if (char === "<") {
      const end = html.indexOf(">", i);
      if (end !== -1) {
        yield { text: html.slice(i, end + 1), visible: 0 };
        i = end + 1;
        continue;
      }
    }
    if (char === "&") {
      const entity = html.slice(i, i + 12).match(/^&(?:#\d{1,7}|#x[\da-fA-F]{1,6}|[a-zA-Z]{2,8});/);
      if (entity !== null) {
        yield { text: entity[0], visible: 1 };
        i += entity[0].length;
        continue;
      }
    }
    const pair = isHighSurrogate(html.charCodeAt(i)) && isLowSurrogate(html.charCodeAt(i + 1));
    const text = html.slice(i, pair ? i + 2 : i + 1);
    yield { text, visible: text.length };
    i += text.length;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

const FALLBACK_EXTENSION: Record<ResultOutput, string> = { image: "png", video: "mp4", audio: "mp3", text: "txt" };

/**
 * An upload's file name: the URL's last path segment, reduced to safe
 * characters (grammY writes it unquoted into the multipart header), with an
 * extension by output kind when it has none; `result.<ext>` when empty.
 */
function fileNameOf(url: string, output: ResultOutput): string {
  const ext = FALLBACK_EXTENSION[output];
  let segment = "";
  try {
    segment = new URL(url).pathname.split("/").pop() ?? "";
    segment = decodeURIComponent(segment);
  } catch {
    // A malformed escape keeps the raw segment; an unparsable URL gives the fallback.
  }
  const safe = segment
    .replace(/[^\w.-]+/g, "_")
    .replace(/^[._]+/, "")
    .slice(-100);
  if (safe === "") return `result.${ext}`;
  return /\.[a-zA-Z\d]{1,5}$/.test(safe) ? safe : `${safe}.${ext}`;
}

/** True when Telegram answered with one of `codes` (it refuses the content, not the request as such). */
function isRefusal(error: unknown, codes: readonly number[]): boolean {
  return error instanceof GrammyError && codes.includes(error.error_code);
}

function hasButtons(keyboard: ResultToSend["keyboard"]): boolean {
  return keyboard.some((row) => row.length > 0);
}

function markup(keyboard: ResultToSend["keyboard"]): { reply_markup?: InlineKeyboardMarkup } {
  if (!hasButtons(keyboard)) return {};
  return {
    reply_markup: {
      inline_keyboard: keyboard.map((row) =>
        row.map((button) => ({ text: button.text, callback_data: button.callback_data })),
      ),
    },
  };
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function escapeAttribute(text: string): string {
  return escapeHtml(text).replaceAll('"', "&quot;");
}
