/**
 * The Telegram both fake Bot APIs answer for: the messages sent to each
 * chat (ids counted per chat, as in private chats), flood waits a test asks
 * for, and every refusal, so a test or the chaos run can see each call
 * Telegram would have refused. The transport (msw, a local HTTP server)
 * lives in the fakes; what Telegram answers lives here.
 */
import {
  type ChatView,
  chatIdOf,
  checkCall,
  DESCRIPTIONS,
  type PreCheckoutView,
  type Refusal,
  type StarsChargeView,
  type StoredMessage,
  sentKind,
  storedText,
} from "./rules.ts";

/** A call Telegram refused (400s by the rules, 429s asked for by `floodWait`). */
export interface RefusalRecord {
  readonly method: string;
  readonly chatId: number | undefined;
  readonly status: number;
  readonly description: string;
  /** The call's short fields (text cut to 80 characters), for a readable report. */
  readonly summary: string;
}

/** Telegram's answer to a call: the HTTP status and the JSON body. */
export interface TelegramAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The refusal, when the call was refused. */
  readonly refusal?: RefusalRecord;
}

interface Flood {
  readonly chatId: number | undefined;
  readonly retryAfter: number;
  remaining: number;
}

interface ChatLog {
  nextId: number;
  readonly messages: Map<number, StoredMessage>;
}

const DATE = 1_790_000_000;

/** A short, single-line description of a call's payload for refusal reports. */
export function summarize(payload: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    if (key === "reply_markup") {
      const rows = (value as { inline_keyboard?: unknown[][] } | undefined)?.inline_keyboard;
      parts.push(`reply_markup=${Array.isArray(rows) ? `${rows.flat().length} buttons` : "?"}`);
      continue;
    }
    const text = typeof value === "string" ? value : JSON.stringify(value);
    const cut = text.length > 80 ? `${text.slice(0, 80)}… (${text.length} chars)` : text;
    parts.push(`${key}=${cut.replace(/\s+/g, " ")}`);
  }
  return parts.join(" ");
}

/** A Stars payment Telegram took (a `successful_payment` it sent). */
interface StarsCharge {
  readonly userId: number;
  readonly stars: number;
  refunded: boolean;
}

interface PreCheckout {
  readonly at: number;
  answered: boolean;
}

export class FakeTelegram implements ChatView {
  /** Every refused call, oldest first. */
  readonly refusals: RefusalRecord[] = [];
  readonly #chats = new Map<number, ChatLog>();
  readonly #floods: Flood[] = [];
  readonly #answered = new Set<string>();
  readonly #listeners = new Set<(refusal: RefusalRecord) => void>();
  readonly #charges = new Map<string, StarsCharge>();
  readonly #preCheckouts = new Map<string, PreCheckout>();
  readonly #now: () => number;

  /** `now`: the clock pre-checkout deadlines are measured on (epoch ms; the wall clock by default). */
  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? (() => Date.now());
  }

  now(): number {
    return this.#now();
  }

  /**
   * Records a Stars payment, as Telegram does when it sends the
   * `successful_payment` update: `refundStarPayment` refunds only a recorded
   * charge, of its own user, once.
   */
  recordStarsCharge(charge: { readonly chargeId: string; readonly userId: number; readonly stars: number }): void {
    this.#charges.set(charge.chargeId, { userId: charge.userId, stars: charge.stars, refunded: false });
  }

  /** The charges refunded so far. */
  refundedCharges(): ReadonlySet<string> {
    return new Set([...this.#charges].filter(([, charge]) => charge.refunded).map(([id]) => id));
  }

  starsCharge(chargeId: string): StarsChargeView | undefined {
    return this.#charges.get(chargeId);
  }

  /**
   * Records a pre-checkout query sent at `at` (now by default), as Telegram
   * does when it sends the `pre_checkout_query` update: it is answered once,
   * within 10 seconds. Queries never recorded are answered without checks.
   */
  recordPreCheckout(queryId: string, at = this.#now()): void {
    this.#preCheckouts.set(queryId, { at, answered: false });
  }

  preCheckout(queryId: string): PreCheckoutView | undefined {
    return this.#preCheckouts.get(queryId);
  }

  /**
   * Answers the next `calls` calls (to `chatId`, or to any chat without it)
   * with 429 "Too Many Requests: retry after N", as Telegram's flood control does.
   */
  floodWait(options: { readonly chatId?: number; readonly retryAfter: number; readonly calls?: number }): void {
    this.#floods.push({ chatId: options.chatId, retryAfter: options.retryAfter, remaining: options.calls ?? 1 });
  }

  /** Calls `listener` with each refusal from now on; returns the way to stop. */
  onRefusal(listener: (refusal: RefusalRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  answered(callbackQueryId: string): boolean {
    return this.#answered.has(callbackQueryId);
  }

  message(chatId: number, messageId: number): StoredMessage | undefined {
    return this.#chats.get(chatId)?.messages.get(messageId);
  }

  /** The messages sent to `chatId`, oldest first. */
  messages(chatId: number): StoredMessage[] {
    return [...(this.#chats.get(chatId)?.messages.values() ?? [])];
  }

  /**
   * The message a user's press of a button with `data` comes from, as
   * Telegram would name it in the callback query: the given one (recorded
   * as a message with that button if the fake never sent it), else the
   * latest message in the chat that carries the button, else the latest
   * text message, else a message recorded now with that one button.
   */
  pressedMessage(chatId: number, data: string, messageId?: number): StoredMessage {
    if (messageId !== undefined) return this.message(chatId, messageId) ?? this.#remember(chatId, data, messageId);
    const messages = this.messages(chatId).reverse();
    const withButton = messages.find((message) => buttonsOf(message.markup).some((b) => b.callback_data === data));
    return withButton ?? messages.find((message) => message.kind === "text") ?? this.#remember(chatId, data);
  }

  /** Forgets every chat, flood wait, refusal, charge and pre-checkout query. */
  reset(): void {
    this.#chats.clear();
    this.#floods.length = 0;
    this.#answered.clear();
    this.#charges.clear();
    this.#preCheckouts.clear();
    this.refusals.length = 0;
  }

  /** Telegram's answer to `method` with `payload`; accepted sends and edits change the chats. */
  answer(method: string, payload: Record<string, unknown>): TelegramAnswer {
    const chatId = chatIdOf(payload);
    const flood = this.#floods.find(
      (candidate) => candidate.remaining > 0 && (candidate.chatId === undefined || candidate.chatId === chatId),
    );
    if (flood !== undefined) {
      flood.remaining--;
      if (flood.remaining === 0) this.#floods.splice(this.#floods.indexOf(flood), 1);
      return this.#refused(method, payload, {
        status: 429,
        description: DESCRIPTIONS.tooManyRequests(flood.retryAfter),
        parameters: { retry_after: flood.retryAfter },
      });
    }
    const refusal = checkCall(method, payload, this);
    if (refusal !== undefined) return this.#refused(method, payload, refusal);
    return { status: 200, body: { ok: true, result: this.#perform(method, payload, chatId) } };
  }

  #refused(method: string, payload: Record<string, unknown>, refusal: Refusal): TelegramAnswer {
    const record: RefusalRecord = {
      method,
      chatId: chatIdOf(payload),
      status: refusal.status,
      description: refusal.description,
      summary: summarize(payload),
    };
    this.refusals.push(record);
    for (const listener of this.#listeners) listener(record);
    return {
      status: refusal.status,
      refusal: record,
      body: {
        ok: false,
        error_code: refusal.status,
        description: refusal.description,
        ...(refusal.parameters ? { parameters: refusal.parameters } : {}),
      },
    };
  }

  #perform(method: string, payload: Record<string, unknown>, chatId: number | undefined): unknown {
    const kind = sentKind(method);
    if (kind !== undefined && chatId !== undefined) {
      const parsed =
        kind === "invoice"
          ? { text: String(payload.description), entities: [] }
          : storedText(payload, kind === "text" ? "text" : "caption");
      const stored = this.#store(chatId, { kind, ...parsed, markup: payload.reply_markup });
      return messageObject(chatId, stored, payload);
    }
    if (method === "sendMediaGroup" && chatId !== undefined) {
      const groupId = `g${chatId}-${this.#log(chatId).nextId}`;
      return (payload.media as Record<string, unknown>[]).map((item) => {
        const parsed = storedText(item, "caption");
        const stored = this.#store(chatId, { kind: String(item.type), ...parsed, markup: undefined });
        return { ...messageObject(chatId, stored, item), media_group_id: groupId };
      });
    }
    if (method === "answerCallbackQuery") this.#answered.add(String(payload.callback_query_id));
    if (method === "answerPreCheckoutQuery") {
      const query = this.#preCheckouts.get(String(payload.pre_checkout_query_id));
      if (query !== undefined) query.answered = true;
    }
    if (method === "refundStarPayment") {
      const charge = this.#charges.get(String(payload.telegram_payment_charge_id));
      if (charge !== undefined) charge.refunded = true;
    }
    if (method === "getFile") {
      const fileId = String(payload.file_id);
      return { file_id: fileId, file_unique_id: `u-${fileId}`, file_size: 4096, file_path: `files/${fileId}.jpg` };
    }
    const edited = this.#edit(method, payload, chatId);
    if (edited !== undefined) return edited;
    if (method === "deleteMessage" && chatId !== undefined) {
      this.#chats.get(chatId)?.messages.delete(Number(payload.message_id));
    }
    return true;
  }

  #edit(method: string, payload: Record<string, unknown>, chatId: number | undefined): unknown {
    if (!method.startsWith("editMessage") || chatId === undefined || payload.inline_message_id !== undefined)
      return undefined;
    const target = this.message(chatId, Number(payload.message_id));
    if (target === undefined) return undefined;
    const content =
      method === "editMessageText"
        ? storedText(payload, "text")
        : method === "editMessageCaption"
          ? storedText(payload, "caption")
          : { text: target.text, entities: target.entities };
    // Without reply_markup, an edit of text or caption removes the keyboard, as in Telegram.
    const next: StoredMessage = { ...target, ...content, markup: payload.reply_markup };
    this.#log(chatId).messages.set(target.messageId, next);
    return { ...messageObject(chatId, next, payload), edit_date: DATE };
  }

  #log(chatId: number): ChatLog {
    let log = this.#chats.get(chatId);
    if (log === undefined) {
      log = { nextId: 1, messages: new Map() };
      this.#chats.set(chatId, log);
    }
    return log;
  }

  #store(chatId: number, content: Omit<StoredMessage, "messageId">, messageId?: number): StoredMessage {
    const log = this.#log(chatId);
    const id = messageId ?? log.nextId;
    log.nextId = Math.max(log.nextId, id + 1);
    const stored = { messageId: id, ...content };
    log.messages.set(id, stored);
    return stored;
  }

  /** Records a message the bot sent before the fake saw it (a fixture of a test), carrying one button. */
  #remember(chatId: number, data: string, messageId?: number): StoredMessage {
    const markup = { inline_keyboard: [[{ text: "…", callback_data: data }]] };
    return this.#store(chatId, { kind: "text", text: "…", entities: [], markup }, messageId);
  }
}

const buttonsOf = (markup: unknown) =>
  ((markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined)?.inline_keyboard ?? []).flat();

/** A Message object as Telegram returns it for a stored message. */
export function messageObject(chatId: number, message: StoredMessage, payload: Record<string, unknown> = {}) {
  const fileId = `file-${chatId}-${message.messageId}`;
  const file = { file_id: fileId, file_unique_id: `u${chatId}x${message.messageId}` };
  const media: Record<string, unknown> = {
    text: {},
    photo: { photo: [{ ...file, width: 1280, height: 960 }] },
    video: { video: { ...file, width: 1280, height: 720, duration: 5 } },
    animation: { animation: { ...file, width: 480, height: 480, duration: 3 } },
    audio: { audio: { ...file, duration: 30 } },
    voice: { voice: { ...file, duration: 4 } },
    document: { document: file },
    invoice: {
      invoice: {
        title: payload.title,
        description: payload.description,
        start_parameter: payload.start_parameter ?? "",
        currency: payload.currency,
        total_amount: Array.isArray(payload.prices)
          ? (payload.prices as { amount: number }[]).reduce((sum, price) => sum + price.amount, 0)
          : 0,
      },
    },
  };
  const textField = message.kind === "text" ? "text" : message.kind === "invoice" ? undefined : "caption";
  const entitiesField = message.kind === "text" ? "entities" : "caption_entities";
  const keyboard = (message.markup as { inline_keyboard?: unknown[][] } | undefined)?.inline_keyboard;
  return {
    message_id: message.messageId,
    date: DATE,
    chat: { id: chatId, type: "private" },
    ...(media[message.kind] as object),
    ...(textField !== undefined && message.text !== "" ? { [textField]: message.text } : {}),
    ...(message.entities.length > 0 ? { [entitiesField]: message.entities } : {}),
    ...(Array.isArray(keyboard) && keyboard.length > 0 ? { reply_markup: { inline_keyboard: keyboard } } : {}),
  };
}

/** The Telegram of this test process, which both fakes answer for unless given another. */
export const sharedTelegram = new FakeTelegram();

// `FAKE_TELEGRAM_REFUSALS=log` prints each refusal, to find which call of a run Telegram would refuse.
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
if (env?.FAKE_TELEGRAM_REFUSALS === "log") {
  sharedTelegram.onRefusal((refusal) =>
    console.warn(`fake Telegram refused ${refusal.method}: ${refusal.description} [${refusal.summary}]`),
  );
}
