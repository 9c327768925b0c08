/**
 * Sending a finished generation to the user's chat. Telegram is asked to
 * fetch each result file by URL first (cheapest for us); when it cannot, the
 * file is downloaded under the safe-fetch rules and uploaded; when the upload
 * is refused, it goes as a document; when even that fails, the user gets a
 * link, so a paid result is never silently lost. A refusal of the text (the
 * caption, its HTML, the buttons) is told apart from a refusal of the file:
 * the message goes again with a plainer text, and nothing is downloaded for it.
 */
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import { type Api, GrammyError, HttpError, InputFile } from "grammy/web";
import {
  cutHtml,
  cutText,
  escapeHtml,
  escapeHtmlAttribute,
  graphemeBoundary,
  htmlLength,
  htmlToPlain,
  TELEGRAM_LIMITS,
  wellFormed,
} from "../telegram/text.ts";
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
const { caption: CAPTION_LIMIT, messageText: MESSAGE_LIMIT } = TELEGRAM_LIMITS;
const ALBUM_SIZE = 10;
/** Text of the keyboard message after an album when there is no caption to repeat. */
const POINTER_TEXT = "⬆️";
/** How much of a long text result the message before its file quotes, in UTF-16 units. */
const TEXT_PREVIEW = 1000;
/** The file name of a long text result. */
const TEXT_FILE_NAME = "result.txt";
/**
 * Files of one result sent as files at most (one album): past that, a user
 * would get hundreds of messages (and wait minutes on Telegram's per-chat
 * limit), so the rest comes as one `.txt` file listing every link.
 */
export const MAX_FILES_SENT = 10;
/** The file name of the link list of a result with more files than {@link MAX_FILES_SENT}. */
const LINKS_FILE_NAME = "result-links.txt";

type FileKind = "photo" | "video" | "audio" | "document";

/** One message (or album) to send, with whether it carries the caption and the keyboard. */
type Unit =
  | { readonly kind: "files"; readonly urls: readonly string[]; readonly caption: boolean; readonly keyboard: boolean }
  | { readonly kind: "link"; readonly url: string; readonly caption: boolean; readonly keyboard: boolean }
  | { readonly kind: "list"; readonly urls: readonly string[]; readonly caption: boolean; readonly keyboard: boolean };

interface Sending {
  readonly deps: SendResultDeps;
  readonly result: ResultToSend;
  readonly file: FileKind;
  readonly via: SentVia[];
  readonly messageIds: number[];
}

/**
 * Sends `result` to its chat. Throws {@link ResultUndeliverable} when
 * nothing of it could be shown (no URL can be sent, or Telegram refused
 * every form of every message): the caller gives the money back. A refusal
 * after part of the result went out is rethrown once the rest was tried;
 * Telegram errors other than a refusal of the content (network, 5xx, 429)
 * propagate at once so the caller can tell the user to look in the history.
 */
export async function sendResult(deps: SendResultDeps, result: ResultToSend): Promise<SendResultOutcome> {
  const via: SentVia[] = [];
  const messageIds: number[] = [];
  const refusals: unknown[] = [];
  const refused = (error: unknown) => {
    if (refusalOf(error) === undefined) throw error;
    refusals.push(error);
  };
  if (result.output === "text" && result.text !== undefined && result.text.trim() !== "") {
    await sendText(deps.api, result, wellFormed(result.text), messageIds).catch(refused);
  } else {
    const sending: Sending = { deps, result, file: fileKindOf(result.output), via, messageIds };
    for (const unit of plan(result.urls, deps.allowedHosts, sending.file === "photo")) {
      try {
        if (unit.kind === "link") await sendLink(sending, unit.url, unit.caption, unit.keyboard);
        else if (unit.kind === "list") await sendLinkList(sending, unit.urls, unit.keyboard);
        else if (unit.urls.length === 1) await deliverFile(sending, unit.urls[0]!, unit.caption, unit.keyboard);
        else await deliverAlbum(sending, unit.urls, unit.caption, unit.keyboard);
      } catch (error) {
        refused(error);
        // A chat Telegram does not know (or the bot may not write to) takes none of the rest either.
        if (refusalOf(error) === "chat") break;
      }
    }
  }
  if (refusals.length === 0) return { via, messageIds };
  if (messageIds.length === 0) {
    throw new ResultUndeliverable("Telegram refused every message of the result", { cause: refusals[0] });
  }
  throw refusals[0];
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
  const shown = fetchable.slice(0, MAX_FILES_SENT);
  for (let i = 0; i < shown.length; i += size) groups.push(shown.slice(i, i + size));
  const tooMany = fetchable.length + linkOnly.length > MAX_FILES_SENT;
  const shapes = [
    ...groups.map((group) => ({ kind: "files" as const, urls: group })),
    ...(tooMany
      ? [{ kind: "list" as const, urls: [...fetchable, ...linkOnly] }]
      : linkOnly.map((url) => ({ kind: "link" as const, url }))),
  ];
  return shapes.map((shape, index) => ({ ...shape, caption: index === 0, keyboard: index === shapes.length - 1 }));
}

type SendExtra = { caption?: string; parse_mode?: "HTML"; reply_markup?: InlineKeyboardMarkup };

/**
 * The forms a message's caption and keyboard are tried in, while Telegram
 * refuses the text: the HTML caption, the same as plain text, no caption,
 * and at last neither caption nor keyboard.
 */
function captionForms(captionHtml: string, keyboard: ResultToSend["keyboard"]): SendExtra[] {
  const buttons = markup(keyboard);
  const forms: SendExtra[] = [];
  if (captionHtml !== "") {
    forms.push({ caption: cutHtml(captionHtml, CAPTION_LIMIT), parse_mode: "HTML", ...buttons });
    const plain = cutText(htmlToPlain(captionHtml), CAPTION_LIMIT);
    if (plain.trim() !== "") forms.push({ caption: plain, ...buttons });
  }
  forms.push({ ...buttons });
  if (buttons.reply_markup !== undefined) forms.push({});
  return forms;
}

/** Sends with each form in turn while Telegram refuses the text; any other error (or the last refusal) is thrown. */
async function firstAccepted<F, T>(forms: readonly F[], send: (form: F) => Promise<T>): Promise<T> {
  for (const [index, form] of forms.entries()) {
    try {
      return await send(form);
    } catch (error) {
      if (refusalOf(error) !== "text" || index === forms.length - 1) throw error;
    }
  }
  throw new Error("no form to send");
}

/** Sends an album by URLs; when Telegram refuses a file of it, each photo goes on its own with the fallbacks. */
async function deliverAlbum(sending: Sending, urls: readonly string[], caption: boolean, keyboard: boolean) {
  const { api } = sending.deps;
  const { result } = sending;
  // The album's keyboard goes in a message of its own, so the album tries its captions alone.
  const forms = captionForms(caption ? result.caption : "", []);
  let messages: Message[];
  try {
    messages = await firstAccepted(forms, (form) =>
      api.sendMediaGroup(
        result.chatId,
        urls.map((url, index) => ({
          type: "photo" as const,
          media: url,
          ...(index === 0 && form.caption !== undefined
            ? { caption: form.caption, ...(form.parse_mode ? { parse_mode: form.parse_mode } : {}) }
            : {}),
        })),
      ),
    );
  } catch (error) {
    if (!isContentRefusal(error)) throw error;
    for (const [index, url] of urls.entries()) {
      await deliverFile(sending, url, caption && index === 0, keyboard && index === urls.length - 1);
    }
    return;
  }
  for (const message of messages) sending.messageIds.push(message.message_id);
  sending.via.push(...urls.map(() => "url" as const));
  if (keyboard && hasButtons(result.keyboard)) {
    const html = cutHtml(result.caption, MESSAGE_LIMIT);
    const plain = cutText(htmlToPlain(result.caption), MESSAGE_LIMIT);
    const texts: [string, "HTML" | undefined][] = [
      ...(htmlToPlain(html).trim() === "" ? [] : [[html, "HTML"] as [string, "HTML"]]),
      ...(plain.trim() === "" ? [] : [[plain, undefined] as [string, undefined]]),
      [POINTER_TEXT, undefined],
    ];
    const message = await firstAccepted(texts, ([text, parse_mode]) =>
      api.sendMessage(result.chatId, text, { ...(parse_mode ? { parse_mode } : {}), ...markup(result.keyboard) }),
    );
    sending.messageIds.push(message.message_id);
  }
}

/**
 * Sends one fetchable file: by URL, then uploaded, then as a document, then
 * as a link. A refusal of the caption is not a refusal of the file: the same
 * file goes again with a plainer caption (or none), and is never downloaded for it.
 */
async function deliverFile(sending: Sending, url: string, caption: boolean, keyboard: boolean): Promise<void> {
  const { deps, result, file } = sending;
  const forms = captionForms(caption ? result.caption : "", keyboard ? result.keyboard : []);
  const done = (via: SentVia, message: Message) => {
    sending.via.push(via);
    sending.messageIds.push(message.message_id);
  };
  try {
    return done("url", await firstAccepted(forms, (form) => sendFile(deps.api, result.chatId, file, url, form)));
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal === undefined || refusal === "chat") throw error;
    // Even the bare file by URL was refused for its text: no upload would fare better.
    if (refusal === "text") return sendLink(sending, url, caption, keyboard);
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
  const upload = (kind: FileKind) =>
    firstAccepted(forms, (form) => sendFile(deps.api, result.chatId, kind, new InputFile(bytes, name), form));
  try {
    return done("upload", await upload(file));
  } catch (error) {
    if (!isContentRefusal(error)) throw error;
  }
  if (file !== "document") {
    try {
      return done("document", await upload("document"));
    } catch (error) {
      if (!isContentRefusal(error)) throw error;
    }
  }
  await sendLink(sending, url, caption, keyboard);
}

function sendFile(
  api: Api,
  chatId: number,
  kind: FileKind,
  source: string | InputFile,
  extra: SendExtra,
): Promise<Message> {
  if (kind === "photo") return api.sendPhoto(chatId, source, extra);
  if (kind === "video") return api.sendVideo(chatId, source, { ...extra, supports_streaming: true });
  if (kind === "audio") return api.sendAudio(chatId, source, extra);
  return api.sendDocument(chatId, source, extra);
}

/**
 * A message with a link to the file, for results Telegram cannot take and
 * we cannot fetch: with the HTML caption, else as plain text, else the bare
 * URL without buttons.
 */
async function sendLink(sending: Sending, url: string, caption: boolean, keyboard: boolean): Promise<void> {
  const { api } = sending.deps;
  const { result } = sending;
  const link = `<a href="${escapeHtmlAttribute(url)}">${escapeHtml(url)}</a>`;
  const head = caption ? cutHtml(result.caption, CAPTION_LIMIT) : "";
  const plainHead = caption ? cutText(htmlToPlain(result.caption), CAPTION_LIMIT) : "";
  const fits = (text: string) => htmlLength(text) <= MESSAGE_LIMIT;
  const buttons = keyboard ? markup(result.keyboard) : {};
  const forms: { text: string; html: boolean; buttons: boolean }[] = [
    { text: head !== "" && fits(`${head}\n\n${link}`) ? `${head}\n\n${link}` : link, html: true, buttons: true },
    {
      text:
        plainHead.trim() !== "" && plainHead.length + 2 + url.length <= MESSAGE_LIMIT ? `${plainHead}\n\n${url}` : url,
      html: false,
      buttons: true,
    },
    { text: url, html: false, buttons: false },
  ];
  const message = await firstAccepted(forms, (form) =>
    api.sendMessage(result.chatId, form.text, {
      ...(form.html ? { parse_mode: "HTML" as const } : {}),
      link_preview_options: { is_disabled: true },
      ...(form.buttons ? buttons : {}),
    }),
  );
  sending.via.push("link");
  sending.messageIds.push(message.message_id);
}

/**
 * Every link of a result with more files than {@link MAX_FILES_SENT}, one a
 * line, as a `.txt` document with the buttons; when Telegram refuses the
 * document, the links go in plain messages of at most 4096 characters.
 */
async function sendLinkList(sending: Sending, urls: readonly string[], keyboard: boolean): Promise<void> {
  const { api } = sending.deps;
  const { result } = sending;
  const list = `${urls.join("\n")}\n`;
  const file = new InputFile(new TextEncoder().encode(list), LINKS_FILE_NAME);
  try {
    const message = await firstAccepted(captionForms("", keyboard ? result.keyboard : []), (form) =>
      api.sendDocument(result.chatId, file, form),
    );
    sending.via.push("document");
    sending.messageIds.push(message.message_id);
    return;
  } catch (error) {
    if (!isContentRefusal(error)) throw error;
  }
  const pieces = splitPlain(list, MESSAGE_LIMIT).filter((piece) => piece.trim() !== "");
  for (const [index, piece] of pieces.entries()) {
    const message = await api.sendMessage(result.chatId, piece, {
      link_preview_options: { is_disabled: true },
      ...(keyboard && index === pieces.length - 1 ? markup(result.keyboard) : {}),
    });
    sending.via.push("link");
    sending.messageIds.push(message.message_id);
  }
}

/**
 * A transcription: with the caption in one message when it fits one;
 * longer, a short preview message and then the whole text as a `.txt`
 * document (a 40,000-character transcript is one file, not ten messages).
 * When Telegram refuses the document, the text goes in messages of at most
 * 4096 characters. Ids of the messages sent are pushed to `ids`.
 */
async function sendText(api: Api, result: ResultToSend, text: string, ids: number[]): Promise<void> {
  const head = cutHtml(result.caption, CAPTION_LIMIT);
  const prefix = htmlToPlain(head).trim() === "" ? "" : `${head}\n\n`;
  const keyboard = markup(result.keyboard);
  const say = async (html: string, buttons: boolean) => {
    const plain = cutText(htmlToPlain(html), MESSAGE_LIMIT);
    const forms = [
      { text: html, html: true, buttons },
      { text: plain, html: false, buttons },
      { text: plain, html: false, buttons: false },
    ].filter((form, index) => (form.html ? htmlToPlain(form.text) : form.text).trim() !== "" && (index < 2 || buttons));
    const message = await firstAccepted(forms, (form) =>
      api.sendMessage(result.chatId, form.text, {
        ...(form.html ? { parse_mode: "HTML" as const } : {}),
        link_preview_options: { is_disabled: true },
        ...(form.buttons ? keyboard : {}),
      }),
    );
    ids.push(message.message_id);
  };
  if (htmlLength(prefix) + text.length <= MESSAGE_LIMIT) return say(`${prefix}${escapeHtml(text)}`, true);
  await say(`${prefix}${escapeHtml(cutText(text, TEXT_PREVIEW))}`, false);
  const file = new InputFile(new TextEncoder().encode(text), TEXT_FILE_NAME);
  try {
    const message = await firstAccepted(captionForms("", result.keyboard), (form) =>
      api.sendDocument(result.chatId, file, form),
    );
    ids.push(message.message_id);
    return;
  } catch (error) {
    if (!isContentRefusal(error)) throw error;
  }
  // Telegram refused the file: the whole text in messages, the buttons under the last.
  const pieces = splitPlain(text, MESSAGE_LIMIT).filter((piece) => piece.trim() !== "");
  for (const [index, piece] of pieces.entries()) await say(escapeHtml(piece), index === pieces.length - 1);
}

/**
 * Splits plain text into pieces of at most `limit` UTF-16 units, preferring
 * line breaks, then spaces, never inside a grapheme.
 */
function splitPlain(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let remaining = text;
  while (remaining.length > limit) {
    let cut = remaining.lastIndexOf("\n", limit - 1) + 1;
    if (cut <= limit / 2) cut = remaining.lastIndexOf(" ", limit - 1) + 1;
    if (cut <= limit / 2) cut = graphemeBoundary(remaining, limit) || limit;
    pieces.push(remaining.slice(0, cut));
    remaining = remaining.slice(cut);
  }
  pieces.push(remaining);
  return pieces;
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

/**
 * What a Telegram refusal is about: `text` (the caption, the message text,
 * its entities or the keyboard: resend with a plainer text, never download),
 * `file` (the URL or the file: download and upload, or link), `chat` (the
 * chat itself: nothing can be sent there), or undefined when it is no
 * refusal of the content (network, 5xx, 429, 403: the caller decides).
 */
export function refusalOf(error: unknown): "text" | "file" | "chat" | undefined {
  if (!(error instanceof GrammyError)) return undefined;
  if (error.error_code === 413) return "file";
  if (error.error_code !== 400) return undefined;
  if (CHAT_REFUSAL.test(error.description)) return "chat";
  return TEXT_REFUSAL.test(error.description) ? "text" : "file";
}

/**
 * True when a send failed on something that may pass by itself: the
 * network, Telegram down (5xx) or flooded (429, once the API's own retries
 * gave up), or a user who blocked the bot (403 "blocked by the user": they
 * may unblock it). A deleted account (403 "user is deactivated") and every
 * refusal of the content or the chat stay as they are: sending again later
 * changes nothing.
 */
export function mayPassLater(error: unknown): boolean {
  if (error instanceof HttpError) return true;
  if (!(error instanceof GrammyError)) return false;
  if (error.error_code === 429 || error.error_code >= 500) return true;
  return error.error_code === 403 && /blocked by the user/i.test(error.description);
}

/** True when Telegram refused what was sent (its text or its file), so another form may pass. */
function isContentRefusal(error: unknown): boolean {
  const refusal = refusalOf(error);
  return refusal === "text" || refusal === "file";
}

/** Telegram's descriptions of a 400 about the chat rather than the message. */
const CHAT_REFUSAL = /chat not found|user not found|PEER_ID_INVALID|CHAT_WRITE_FORBIDDEN|have no rights to send/i;

/** Telegram's descriptions of a 400 about the text, its entities or the buttons rather than the file. */
const TEXT_REFUSAL = new RegExp(
  [
    "can't parse entities",
    "can't find end",
    "unsupported start tag",
    "can't parse inline keyboard",
    "caption is too long",
    "message is too long",
    "text is too long",
    "MEDIA_CAPTION_TOO_LONG",
    "MESSAGE_TOO_LONG",
    "text must be non-empty",
    "text is empty",
    "MESSAGE_EMPTY",
    "must be encoded in UTF-8",
    "ENTITY_",
    "ENTITIES_",
    "BUTTON_DATA_INVALID",
    "BUTTON_TEXT",
    "button text",
    "inline_keyboard",
    "reply markup",
  ].join("|"),
  "i",
);

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
