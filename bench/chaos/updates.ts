/**
 * Telegram updates as Telegram sends them, with update ids unique over the
 * whole run (the bot's inbox and each user's actor remember ids across
 * restarts, so a reused id would be taken for a redelivery). Users write in
 * English, so replies can be matched against `src/bot/locales/en.ftl`.
 */
import type { Update } from "grammy/types";

export { wizardIdOf } from "../../src/bot/turn-parts.ts";

/** The chat of a user's private conversation with the bot, and the user. */
const userOf = (id: number) => ({ id, is_bot: false, first_name: "Chaos", language_code: "en" });
const chatOf = (id: number) => ({ id, type: "private" as const, first_name: "Chaos" });
const BOT = { id: 1, is_bot: true, first_name: "Test", username: "test_bot" };
const DATE = 1_790_000_000;

/**
 * The bot's message a press of `data` in `chatId` comes from, as Telegram
 * puts it in the callback query (its id, text or caption, keyboard).
 */
export type PressedMessage = (chatId: number, data: string) => Record<string, unknown>;

export class UpdateFactory {
  #updateId = 1;
  #messageId = 1;
  #callbackId = 1;
  #fileId = 1;

  /** `pressedMessage` gives the message a press comes from (the fake Telegram's chats); without it, message 1. */
  constructor(private readonly pressedMessage?: PressedMessage) {}

  /** The next update id (for wizard ids, which the bot derives from the update that started them). */
  nextUpdateId(): number {
    return this.#updateId;
  }

  /** A bare update: the id and whatever the caller puts in it. */
  raw(fields: Record<string, unknown>): Update {
    return { update_id: this.#updateId++, ...fields } as Update;
  }

  /** A message from `userId` in their private chat. */
  message(userId: number, fields: Record<string, unknown>): Update {
    return this.raw({
      message: { message_id: this.#messageId++, date: DATE, chat: chatOf(userId), from: userOf(userId), ...fields },
    });
  }

  /** A text message; a leading `/command` gets its entity, as Telegram marks it. */
  text(userId: number, text: string): Update {
    const command = text.startsWith("/")
      ? { entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]?.length ?? 0 }] }
      : {};
    return this.message(userId, { text, ...command });
  }

  /** A press of an inline button with `data` under the bot's message that carries it. */
  press(userId: number, data: string): Update {
    const shown = this.pressedMessage?.(userId, data) ?? { message_id: 1, date: DATE, text: "…" };
    return this.raw({
      callback_query: {
        id: `cq${this.#callbackId++}`,
        from: userOf(userId),
        chat_instance: `ci${userId}`,
        data,
        message: { ...shown, chat: chatOf(userId), from: BOT },
      },
    });
  }

  /** Telegram asks whether the bot accepts the payment of invoice `payload` (Stars). */
  preCheckout(userId: number, payload: string, stars: number): Update {
    return this.raw({
      pre_checkout_query: {
        id: `pcq${this.#callbackId++}`,
        from: userOf(userId),
        currency: "XTR",
        total_amount: stars,
        invoice_payload: payload,
      },
    });
  }

  /** Telegram reports a Stars payment of invoice `payload` with the charge id `chargeId`. */
  paid(userId: number, payload: string, stars: number, chargeId: string): Update {
    return this.message(userId, {
      successful_payment: {
        currency: "XTR",
        total_amount: stars,
        invoice_payload: payload,
        telegram_payment_charge_id: chargeId,
        provider_payment_charge_id: `provider-${chargeId}`,
      },
    });
  }

  /** A photo of `bytes` (its largest size). */
  photo(userId: number, bytes: number): Update {
    const id = this.#fileId++;
    return this.message(userId, {
      photo: [
        { file_id: `small-${id}`, file_unique_id: `s${id}`, width: 90, height: 90, file_size: 2_000 },
        { file_id: `photo-${id}`, file_unique_id: `p${id}`, width: 4096, height: 4096, file_size: bytes },
      ],
    });
  }

  /** A file sent as a document. */
  document(userId: number, mime: string, bytes: number): Update {
    const id = this.#fileId++;
    return this.message(userId, {
      document: {
        file_id: `doc-${id}`,
        file_unique_id: `d${id}`,
        file_name: `file-${id}`,
        mime_type: mime,
        file_size: bytes,
      },
    });
  }

  /** A sticker (a message the wizard has no use for). */
  sticker(userId: number): Update {
    const id = this.#fileId++;
    return this.message(userId, {
      sticker: {
        file_id: `sticker-${id}`,
        file_unique_id: `st${id}`,
        type: "regular",
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
      },
    });
  }

  /** The sender of updates from `userId` (for update types built by hand). */
  from(userId: number) {
    return userOf(userId);
  }

  /** The private chat of `userId`. */
  chat(userId: number) {
    return chatOf(userId);
  }
}
