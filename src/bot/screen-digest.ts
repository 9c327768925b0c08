/**
 * What a message shows, reduced to a short digest of its text (as Telegram
 * stores it, after HTML parsing) and its buttons: a screen whose digest
 * equals the message's is not sent as an edit, since Telegram refuses an
 * edit that changes nothing ("message is not modified"). Pure.
 */
import { digest53 } from "../digest.ts";
import { htmlToPlain } from "../telegram/text.ts";

/** A button as Telegram reports it under a message (only the fields this compares). */
interface ShownButton {
  readonly text: string;
  readonly callback_data?: string;
  readonly url?: string;
}

/** The digest of a message's plain text and inline keyboard. */
export function messageDigest(text: string, keyboard: readonly (readonly ShownButton[])[]): string {
  const rows = keyboard.map((row) => row.map((button) => [button.text, button.callback_data ?? button.url ?? ""]));
  return digest53(JSON.stringify([text, rows]));
}

/** The digest of a screen the bot renders (HTML text), comparable with {@link messageDigest} of Telegram's copy. */
export function screenDigest(html: string, keyboard: readonly (readonly ShownButton[])[]): string {
  return messageDigest(htmlToPlain(html), keyboard);
}

/**
 * The digest of the message a button was pressed on, from the callback
 * query (undefined for a message Telegram no longer shows the bot).
 */
export function pressedMessageDigest(message: unknown): string | undefined {
  const shown = message as { text?: unknown; reply_markup?: { inline_keyboard?: ShownButton[][] } } | undefined;
  if (typeof shown?.text !== "string") return undefined;
  return messageDigest(shown.text, shown.reply_markup?.inline_keyboard ?? []);
}
