/**
 * The Bot API's documented limits as one pure check shared by every fake:
 * `checkCall(method, payload, chats)` answers the refusal Telegram would
 * give (status and its own description string) or undefined. Where the
 * wording comes from: the Bot API server (tdlib/telegram-bot-api
 * Client.cpp lowercases the first letter of tdlib's messages and keeps
 * server codes such as BUTTON_DATA_INVALID as they are), tdlib
 * (MessageEntity.cpp, ReplyMarkup.cpp, InputInvoice.cpp) and answers seen
 * from api.telegram.org; limits from core.telegram.org/bots/api.
 */
import { hasLoneSurrogate, type ParsedEntity, parseTelegramHtml, utf8Length } from "./html.ts";

/** A refused call: the HTTP status and Telegram's answer body fields. */
export interface Refusal {
  readonly status: number;
  readonly description: string;
  readonly parameters?: { readonly retry_after?: number };
}

/** Limits from the Bot API documentation (lengths in UTF-16 code units after entity parsing). */
export const LIMITS = {
  /** sendMessage/editMessageText `text`: 1-4096 characters after entities parsing. */
  messageText: 4096,
  /** Captions: 0-1024 characters after entities parsing. */
  caption: 1024,
  /** InlineKeyboardButton `callback_data`: 1-64 bytes. */
  callbackDataBytes: 64,
  /** answerCallbackQuery `text`: 0-200 characters. */
  callbackAnswer: 200,
  /** sendMediaGroup `media`: 2-10 items. */
  mediaGroupMin: 2,
  mediaGroupMax: 10,
  /** sendInvoice: title 1-32, description 1-255 characters, payload 1-128 bytes. */
  invoiceTitle: 32,
  invoiceDescription: 255,
  invoicePayloadBytes: 128,
  /** The Bot API server refuses any text argument over 32 KiB before parsing it. */
  rawTextBytes: 1 << 15,
} as const;

/** Telegram's descriptions, by cause. */
export const DESCRIPTIONS = {
  textEmpty: "Bad Request: message text is empty",
  textTooLong: "Bad Request: message is too long",
  rawTextTooLong: "Bad Request: text is too long",
  captionTooLong: "Bad Request: message caption is too long",
  textNotUtf8: "Bad Request: text must be encoded in UTF-8",
  stringsNotUtf8: "Bad Request: strings must be encoded in UTF-8",
  parseEntities: (error: string) => `Bad Request: can't parse entities: ${error}`,
  unsupportedParseMode: "Bad Request: unsupported parse_mode",
  buttonTextNotUtf8: "Bad Request: inline keyboard button text must be encoded in UTF-8",
  buttonTextEmpty: "Bad Request: inline keyboard button text must be non-empty",
  buttonWithoutType:
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
  buttonNotObject: "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object",
  buttonTextMissing: `Bad Request: can't parse inline keyboard button: Can't find field "text"`,
  keyboardNotArrays: `Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays`,
  buttonDataInvalid: "Bad Request: BUTTON_DATA_INVALID",
  buttonUrlInvalid: "Bad Request: BUTTON_URL_INVALID",
  callbackAnswerTooLong: "Bad Request: MESSAGE_TOO_LONG",
  messageIdInvalid: "Bad Request: MESSAGE_ID_INVALID",
  chatNotFound: "Bad Request: chat not found",
  editNotFound: "Bad Request: message to edit not found",
  editNoText: "Bad Request: there is no text in the message to edit",
  editNoCaption: "Bad Request: there is no caption in the message to edit",
  deleteNotFound: "Bad Request: message to delete not found",
  notModified:
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
  mediaNotArray: "Bad Request: expected an Array of InputMedia",
  mediaNotFound: "Bad Request: can't parse InputMedia: media not found",
  mediaGroupEmpty: "Bad Request: there are no messages to send",
  // The documented 2-10 items. tdlib sends a single item as a lone message instead, so Telegram has
  // no answer for it: this fake holds the bot to the documented rule, and its description names it.
  mediaGroupTooSmall: "Bad Request: media group must include 2-10 items",
  mediaGroupTooLarge: "Bad Request: too many messages to send as an album",
  mediaGroupMixed: (type: string) => `Bad Request: ${type} can't be mixed with other media types`,
  parameterRequired: (name: string) => `Bad Request: parameter "${name}" is required`,
  invoiceTitleNotUtf8: "Bad Request: invoice title must be encoded in UTF-8",
  invoiceDescriptionNotUtf8: "Bad Request: invoice description must be encoded in UTF-8",
  invoicePayloadNotUtf8: "Bad Request: the payload must be encoded in UTF-8",
  // Server-side codes (the Bot API passes MTProto errors on upper-case).
  invoiceTitleInvalid: "Bad Request: TITLE_INVALID",
  invoiceDescriptionInvalid: "Bad Request: DESCRIPTION_INVALID",
  invoicePayloadInvalid: "Bad Request: INVOICE_PAYLOAD_INVALID",
  currencyInvalid: "Bad Request: CURRENCY_INVALID",
  currencyTotalInvalid: "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID",
  starsInvoiceInvalid: "Bad Request: STARS_INVOICE_INVALID",
  pricesNotArray: "Bad Request: expected an Array of labeled prices",
  pricesEmpty: "Bad Request: there must be at least one price",
  priceLabelEmpty: "Bad Request: can't parse labeled price: LabeledPrice label must be non-empty",
  priceAmountInvalid: `Bad Request: can't parse labeled price: Field "amount" must be of type Number`,
  // The Bot API server rewrites tdlib's QUERY_ID_INVALID so for every query (callback, pre-checkout).
  queryIdInvalid: "Bad Request: query is too old and response timeout expired or query ID is invalid",
  // payments.refundStarsCharge's documented errors (core.telegram.org/method/payments.refundStarsCharge).
  chargeAlreadyRefunded: "Bad Request: CHARGE_ALREADY_REFUNDED",
  chargeIdEmpty: "Bad Request: CHARGE_ID_EMPTY",
  userIdInvalid: "Bad Request: USER_ID_INVALID",
  // Not documented for a charge Telegram does not know (or another user's): the code bots report seeing.
  chargeNotFound: "Bad Request: CHARGE_NOT_FOUND",
  // The documented "the first button must be a Pay button" of an invoice's keyboard.
  payButtonFirst: "Bad Request: REPLY_MARKUP_BUY_EMPTY",
  tooManyRequests: (seconds: number) => `Too Many Requests: retry after ${seconds}`,
} as const;

/** A message the fake sent, as much of it as the rules compare. */
export interface StoredMessage {
  readonly messageId: number;
  /** "text" for a text message, else the media kind ("photo", "video", "invoice", ...). */
  readonly kind: string;
  /** The parsed text (text messages) or caption (media). */
  readonly text: string;
  readonly entities: readonly ParsedEntity[];
  /** The inline keyboard as sent (undefined: none). */
  readonly markup: unknown;
}

/** A Stars payment Telegram took, as the rules see it. */
export interface StarsChargeView {
  readonly userId: number;
  readonly refunded: boolean;
}

/** A pre-checkout query Telegram sent, as the rules see it. */
export interface PreCheckoutView {
  /** When it was sent (epoch ms). */
  readonly at: number;
  readonly answered: boolean;
}

/** Telegram waits this long for a pre-checkout answer, then the query is gone. */
export const PRE_CHECKOUT_ANSWER_MS = 10_000;

/**
 * What the rules need to know of Telegram's state: the messages the fake
 * has sent, the callback queries answered, and (when the view tracks them)
 * Stars charges and pre-checkout queries.
 */
export interface ChatView {
  message(chatId: number, messageId: number): StoredMessage | undefined;
  /** True once a callback query has been answered (a query is answered once). */
  answered?(callbackQueryId: string): boolean;
  /** A Stars charge by its id; without this method, every refund is accepted. */
  starsCharge?(chargeId: string): StarsChargeView | undefined;
  /** A pre-checkout query by its id; undefined (or no method): one the view never recorded, answered as before. */
  preCheckout?(queryId: string): PreCheckoutView | undefined;
  /** The view's clock (epoch ms). */
  now?(): number;
}

/** Text after Telegram parsed it: plain text and entities. */
export interface FormattedText {
  readonly text: string;
  readonly entities: readonly ParsedEntity[];
}

const refuse = (description: string, status = 400): Refusal => ({ status, description });
const isRefusal = (value: unknown): value is Refusal =>
  typeof value === "object" && value !== null && "description" in value && "status" in value;

/** Telegram counts characters in UTF-16 code units (entity offsets too): an emoji outside the BMP is 2. */
export const utf16Length = (s: string) => s.length;

/** Text is trimmed of leading and trailing white space before it is measured and stored. */
const trimmed = (s: string) => s.replace(/^\s+|\s+$/g, "");

/**
 * The `text` (or `caption`) of `fields` as Telegram reads it: parsed with
 * `parse_mode`, or with the `entities` (`caption_entities`) given without
 * one, within its limit; or the refusal.
 */
export function formattedText(fields: Record<string, unknown>, kind: "text" | "caption"): FormattedText | Refusal {
  const value = fields[kind];
  const parseMode = fields.parse_mode;
  if (value === undefined || value === null || value === "") {
    return kind === "text" ? refuse(DESCRIPTIONS.textEmpty) : { text: "", entities: [] };
  }
  const raw = String(value);
  if (utf8Length(raw) > LIMITS.rawTextBytes) return refuse(DESCRIPTIONS.rawTextTooLong);
  const mode = typeof parseMode === "string" ? parseMode.toLowerCase() : "";
  let parsed: FormattedText;
  if (mode === "" || mode === "none") {
    const given = fields[kind === "text" ? "entities" : "caption_entities"];
    parsed = { text: raw, entities: Array.isArray(given) ? (given as ParsedEntity[]) : [] };
  } else if (mode === "html") {
    const html = parseTelegramHtml(raw);
    if (!html.ok) return refuse(DESCRIPTIONS.parseEntities(html.error));
    parsed = html;
  } else {
    // Markdown modes are real but not modelled here; the bot sends HTML only.
    return refuse(DESCRIPTIONS.unsupportedParseMode);
  }
  if (hasLoneSurrogate(parsed.text)) return refuse(DESCRIPTIONS.textNotUtf8);
  const text = trimmed(parsed.text);
  if (text === "") return kind === "text" ? refuse(DESCRIPTIONS.textEmpty) : { text: "", entities: [] };
  const limit = kind === "text" ? LIMITS.messageText : LIMITS.caption;
  if (utf16Length(text) > limit)
    return refuse(kind === "text" ? DESCRIPTIONS.textTooLong : DESCRIPTIONS.captionTooLong);
  const shift = parsed.text.length - parsed.text.replace(/^\s+/, "").length;
  const entities = parsed.entities
    .map((entity) => ({ ...entity, offset: entity.offset - shift }))
    .filter((entity) => entity.length > 0 && entity.offset >= 0 && entity.offset < text.length);
  return { text, entities };
}

const BUTTON_TYPES = [
  "url",
  "callback_data",
  "web_app",
  "login_url",
  "switch_inline_query",
  "switch_inline_query_current_chat",
  "switch_inline_query_chosen_chat",
  "copy_text",
  "callback_game",
  "pay",
] as const;

/** The inline keyboard's structure, as the Bot API server parses it (before anything reaches Telegram). */
function keyboardStructure(markup: unknown): Refusal | undefined {
  if (markup === undefined || markup === null) return undefined;
  if (typeof markup !== "object") return refuse("Bad Request: can't parse reply keyboard markup JSON object");
  const keyboard = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (keyboard === undefined) return undefined;
  if (!Array.isArray(keyboard) || keyboard.some((row) => !Array.isArray(row)))
    return refuse(DESCRIPTIONS.keyboardNotArrays);
  for (const button of keyboard.flat() as unknown[]) {
    if (typeof button !== "object" || button === null || Array.isArray(button))
      return refuse(DESCRIPTIONS.buttonNotObject);
    const fields = button as Record<string, unknown>;
    if (typeof fields.text !== "string") return refuse(DESCRIPTIONS.buttonTextMissing);
    const typed = BUTTON_TYPES.some((type) =>
      type === "url" || type === "callback_data"
        ? typeof fields[type] === "string" && fields[type] !== ""
        : type in fields,
    );
    if (!typed) return refuse(DESCRIPTIONS.buttonWithoutType);
  }
  return undefined;
}

/** The keyboard's contents, as tdlib and the server check them (after the text). */
function keyboardContents(markup: unknown): Refusal | undefined {
  const keyboard = (markup as { inline_keyboard?: unknown[][] } | undefined)?.inline_keyboard;
  if (!Array.isArray(keyboard)) return undefined;
  for (const button of keyboard.flat() as Record<string, unknown>[]) {
    const text = String(button.text);
    if (hasLoneSurrogate(text)) return refuse(DESCRIPTIONS.buttonTextNotUtf8);
    if (text === "") return refuse(DESCRIPTIONS.buttonTextEmpty);
    const url = button.url;
    if (typeof url === "string" && url !== "" && !isButtonUrl(url)) return refuse(DESCRIPTIONS.buttonUrlInvalid);
    const data = button.callback_data;
    if (typeof data === "string" && data !== "") {
      if (hasLoneSurrogate(data)) return refuse(DESCRIPTIONS.stringsNotUtf8);
      if (utf8Length(data) > LIMITS.callbackDataBytes) return refuse(DESCRIPTIONS.buttonDataInvalid);
    }
  }
  return undefined;
}

/** A URL an inline button may open: http(s) with a host, or tg:. */
export function isButtonUrl(url: string): boolean {
  if (/^tg:\/\/\S+$/i.test(url)) return true;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== "";
  } catch {
    return false;
  }
}

/** The first string anywhere in `value` that is not valid UTF-8, by its path. */
function loneSurrogatePath(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return hasLoneSurrogate(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = loneSurrogatePath(item, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = loneSurrogatePath(item, path === "" ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The chat id of a call as a number (undefined: no chat). */
export function chatIdOf(payload: Record<string, unknown>): number | undefined {
  const id = payload.chat_id;
  if (id === undefined || id === null || id === "") return undefined;
  const number = Number(id);
  return Number.isSafeInteger(number) ? number : Number.NaN;
}

const MEDIA_METHODS: Record<string, string> = {
  sendPhoto: "photo",
  sendVideo: "video",
  sendAudio: "audio",
  sendDocument: "document",
  sendAnimation: "animation",
  sendVoice: "voice",
};

/** The kind of message a send method makes ("text", a media kind), or undefined for other methods. */
export function sentKind(method: string): string | undefined {
  if (method === "sendMessage") return "text";
  if (method === "sendInvoice") return "invoice";
  return MEDIA_METHODS[method];
}

/** Keyboards compare by content: no keyboard and an empty one are the same. */
export function sameMarkup(a: unknown, b: unknown): boolean {
  return canonical(keyboardOf(a)) === canonical(keyboardOf(b));
}

const keyboardOf = (markup: unknown) => {
  const keyboard = (markup as { inline_keyboard?: unknown[][] } | undefined)?.inline_keyboard;
  return Array.isArray(keyboard) && keyboard.some((row) => row.length > 0) ? keyboard : [];
};

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const sameText = (a: FormattedText, b: FormattedText) =>
  a.text === b.text && canonical(a.entities) === canonical(b.entities);

/** The message an edit targets, or Telegram's refusal. */
function editTarget(payload: Record<string, unknown>, chats: ChatView): StoredMessage | Refusal | undefined {
  if (payload.inline_message_id !== undefined) return undefined;
  const chatId = chatIdOf(payload);
  if (chatId === undefined || Number.isNaN(chatId)) return refuse(DESCRIPTIONS.chatNotFound);
  const messageId = Number(payload.message_id);
  if (!Number.isSafeInteger(messageId) || messageId <= 0) return refuse(DESCRIPTIONS.messageIdInvalid);
  return chats.message(chatId, messageId) ?? refuse(DESCRIPTIONS.editNotFound);
}

function checkMediaGroup(payload: Record<string, unknown>): Refusal | undefined {
  const media = payload.media;
  if (media === undefined) return refuse(DESCRIPTIONS.parameterRequired("media"));
  if (!Array.isArray(media)) return refuse(DESCRIPTIONS.mediaNotArray);
  for (const item of media as unknown[]) {
    const fields = item as Record<string, unknown> | null;
    if (typeof fields !== "object" || fields === null || typeof fields.media !== "string" || fields.media === "")
      return refuse(DESCRIPTIONS.mediaNotFound);
    if (!["photo", "video", "audio", "document"].includes(String(fields.type)))
      return refuse(`Bad Request: can't parse InputMedia: unsupported media type "${String(fields.type)}"`);
  }
  for (const item of media as Record<string, unknown>[]) {
    const caption = formattedText(item, "caption");
    if (isRefusal(caption)) return caption;
  }
  if (media.length === 0) return refuse(DESCRIPTIONS.mediaGroupEmpty);
  if (media.length > LIMITS.mediaGroupMax) return refuse(DESCRIPTIONS.mediaGroupTooLarge);
  if (media.length < LIMITS.mediaGroupMin) return refuse(DESCRIPTIONS.mediaGroupTooSmall);
  const types = new Set((media as Record<string, unknown>[]).map((item) => String(item.type)));
  // Audio goes only with audio and documents only with documents.
  for (const only of ["audio", "document"]) {
    if (types.has(only) && types.size > 1) return refuse(DESCRIPTIONS.mediaGroupMixed(only));
  }
  return undefined;
}

function checkInvoice(payload: Record<string, unknown>): Refusal | undefined {
  for (const name of ["title", "description", "payload", "currency", "prices"]) {
    const value = payload[name];
    if (value === undefined || value === null || value === "") return refuse(DESCRIPTIONS.parameterRequired(name));
  }
  const title = String(payload.title);
  const description = String(payload.description);
  const invoicePayload = String(payload.payload);
  if (hasLoneSurrogate(invoicePayload)) return refuse(DESCRIPTIONS.invoicePayloadNotUtf8);
  const prices = payload.prices;
  if (!Array.isArray(prices)) return refuse(DESCRIPTIONS.pricesNotArray);
  for (const price of prices as Record<string, unknown>[]) {
    if (typeof price?.label !== "string" || price.label === "") return refuse(DESCRIPTIONS.priceLabelEmpty);
    if (typeof price.amount !== "number" || !Number.isSafeInteger(price.amount))
      return refuse(DESCRIPTIONS.priceAmountInvalid);
  }
  if (prices.length === 0) return refuse(DESCRIPTIONS.pricesEmpty);
  if (hasLoneSurrogate(title)) return refuse(DESCRIPTIONS.invoiceTitleNotUtf8);
  if (hasLoneSurrogate(description)) return refuse(DESCRIPTIONS.invoiceDescriptionNotUtf8);
  if (utf16Length(title) > LIMITS.invoiceTitle) return refuse(DESCRIPTIONS.invoiceTitleInvalid);
  if (utf16Length(description) > LIMITS.invoiceDescription) return refuse(DESCRIPTIONS.invoiceDescriptionInvalid);
  if (utf8Length(invoicePayload) > LIMITS.invoicePayloadBytes) return refuse(DESCRIPTIONS.invoicePayloadInvalid);
  const currency = String(payload.currency);
  if (!/^[A-Z]{3}$/.test(currency)) return refuse(DESCRIPTIONS.currencyInvalid);
  const total = (prices as { amount: number }[]).reduce((sum, price) => sum + price.amount, 0);
  if (currency === "XTR") {
    // Stars: no provider token and exactly one price.
    const token = payload.provider_token;
    if ((typeof token === "string" && token !== "") || prices.length !== 1)
      return refuse(DESCRIPTIONS.starsInvoiceInvalid);
  }
  if (total <= 0) return refuse(DESCRIPTIONS.currencyTotalInvalid);
  return undefined;
}

/** A Stars refund: only of a charge Telegram took from that user, and once. */
function checkStarsRefund(payload: Record<string, unknown>, chats: ChatView): Refusal | undefined {
  const userId = Number(payload.user_id);
  if (!Number.isSafeInteger(userId) || userId <= 0) return refuse(DESCRIPTIONS.userIdInvalid);
  const chargeId = payload.telegram_payment_charge_id;
  if (typeof chargeId !== "string" || chargeId === "") return refuse(DESCRIPTIONS.chargeIdEmpty);
  if (chats.starsCharge === undefined) return undefined;
  const charge = chats.starsCharge(chargeId);
  if (charge === undefined || charge.userId !== userId) return refuse(DESCRIPTIONS.chargeNotFound);
  return charge.refunded ? refuse(DESCRIPTIONS.chargeAlreadyRefunded) : undefined;
}

/**
 * Telegram's refusal of `method` with `payload`, given the messages the
 * fake has sent (`chats`), or undefined when Telegram would accept it.
 * Flood limits (429) are not a property of the call; the fakes add them.
 */
export function checkCall(method: string, payload: Record<string, unknown>, chats: ChatView): Refusal | undefined {
  const chatId = chatIdOf(payload);
  if (chatId !== undefined && Number.isNaN(chatId)) return refuse(DESCRIPTIONS.chatNotFound);
  const structure = keyboardStructure(payload.reply_markup);
  if (structure !== undefined) return structure;
  const specific = checkSpecific(method, payload, chats);
  if (specific !== undefined) return specific;
  const contents = keyboardContents(payload.reply_markup);
  if (contents !== undefined) return contents;
  const badString = loneSurrogatePath(payload);
  if (badString !== undefined) return refuse(DESCRIPTIONS.stringsNotUtf8);
  return undefined;
}

function checkSpecific(method: string, payload: Record<string, unknown>, chats: ChatView): Refusal | undefined {
  switch (method) {
    case "sendMessage": {
      const text = formattedText(payload, "text");
      return isRefusal(text) ? text : undefined;
    }
    case "editMessageText": {
      const text = formattedText(payload, "text");
      if (isRefusal(text)) return text;
      const target = editTarget(payload, chats);
      if (target === undefined) return undefined;
      if (isRefusal(target)) return target;
      if (target.kind !== "text") return refuse(DESCRIPTIONS.editNoText);
      if (sameText(target, text) && sameMarkup(target.markup, payload.reply_markup))
        return refuse(DESCRIPTIONS.notModified);
      return undefined;
    }
    case "editMessageCaption": {
      const caption = formattedText(payload, "caption");
      if (isRefusal(caption)) return caption;
      const target = editTarget(payload, chats);
      if (target === undefined) return undefined;
      if (isRefusal(target)) return target;
      if (target.kind === "text" || target.kind === "invoice") return refuse(DESCRIPTIONS.editNoCaption);
      if (sameText(target, caption) && sameMarkup(target.markup, payload.reply_markup))
        return refuse(DESCRIPTIONS.notModified);
      return undefined;
    }
    case "editMessageReplyMarkup": {
      const target = editTarget(payload, chats);
      if (target === undefined) return undefined;
      if (isRefusal(target)) return target;
      if (sameMarkup(target.markup, payload.reply_markup)) return refuse(DESCRIPTIONS.notModified);
      return undefined;
    }
    case "deleteMessage": {
      const target = editTarget(payload, chats);
      if (isRefusal(target))
        return target.description === DESCRIPTIONS.editNotFound ? refuse(DESCRIPTIONS.deleteNotFound) : target;
      return undefined;
    }
    case "sendMediaGroup":
      return checkMediaGroup(payload);
    case "answerCallbackQuery": {
      if (chats.answered?.(String(payload.callback_query_id)) === true) return refuse(DESCRIPTIONS.queryIdInvalid);
      const text = payload.text;
      if (typeof text !== "string") return undefined;
      if (hasLoneSurrogate(text)) return refuse(DESCRIPTIONS.stringsNotUtf8);
      return utf16Length(text) > LIMITS.callbackAnswer ? refuse(DESCRIPTIONS.callbackAnswerTooLong) : undefined;
    }
    case "refundStarPayment":
      return checkStarsRefund(payload, chats);
    case "answerPreCheckoutQuery": {
      const query = chats.preCheckout?.(String(payload.pre_checkout_query_id));
      if (query === undefined) return undefined;
      const late = (chats.now?.() ?? Date.now()) - query.at > PRE_CHECKOUT_ANSWER_MS;
      return query.answered || late ? refuse(DESCRIPTIONS.queryIdInvalid) : undefined;
    }
    case "sendInvoice": {
      const first = (payload.reply_markup as { inline_keyboard?: Record<string, unknown>[][] } | undefined)
        ?.inline_keyboard?.[0]?.[0];
      if (first !== undefined && first.pay !== true) return refuse(DESCRIPTIONS.payButtonFirst);
      return checkInvoice(payload);
    }
    default: {
      if (MEDIA_METHODS[method] === undefined) return undefined;
      const caption = formattedText(payload, "caption");
      return isRefusal(caption) ? caption : undefined;
    }
  }
}

/** The text or caption of `fields` as Telegram stores it, for a call `checkCall` accepted. */
export function storedText(fields: Record<string, unknown>, kind: "text" | "caption"): FormattedText {
  const parsed = formattedText(fields, kind);
  return isRefusal(parsed) ? { text: "", entities: [] } : parsed;
}
