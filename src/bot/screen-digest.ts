/**
 * What a message shows, reduced to a short digest of its text (as Telegram
 * stores it, after HTML parsing) and its buttons, and what each message of
 * a shard shows as far as it knows: an edit that would show what the
 * message shows already is not sent, since Telegram refuses it ("message is
 * not modified").
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

/** What a shard knows of one message: what it shows, what that replaced, and the edit under way. */
interface Shown {
  readonly digest: string;
  readonly before: string | undefined;
  readonly sending?: Promise<boolean>;
}

/**
 * What this shard last showed in each message it sent or edited, for the
 * most recent {@link ShownScreens.LIMIT} messages.
 *
 * What a message shows now: what the press it came with saw (`pressed`),
 * unless that is what this shard showed or replaced there, in which case
 * this shard's own edit is the newer; without a press (a job's progress),
 * what this shard showed. A message this shard does not know (after a
 * restart) is edited, and a refusal is harmless. A job's status message
 * only moves forward (elapsed time, state), so another instance's edit
 * cannot make a remembered screen wanted again while the message shows
 * something else.
 */
export class ShownScreens {
  static readonly LIMIT = 10_000;
  readonly #messages = new Map<string, Shown>();

  /**
   * Claims the edit of message `messageId` in `chatId` to `digest`:
   * undefined when the message shows it already (or an edit to it under way
   * succeeds), else the function to call with the edit's outcome (true:
   * the message shows it now).
   */
  async claim(
    chatId: number,
    messageId: number,
    digest: string,
    pressed?: string,
  ): Promise<((shown: boolean) => void) | undefined> {
    const key = `${chatId}:${messageId}`;
    for (;;) {
      const known = this.#messages.get(key);
      if (known?.sending !== undefined && known.digest === digest) {
        await known.sending;
        continue;
      }
      const ours =
        known !== undefined && (pressed === undefined || pressed === known.digest || pressed === known.before);
      const current = ours ? known.digest : pressed;
      if (current === digest) return undefined;
      let settle: (shown: boolean) => void = () => {};
      const sending = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      this.#set(key, { digest, before: current, sending });
      return (shown) => {
        if (this.#messages.get(key)?.sending === sending) {
          if (shown) this.#set(key, { digest, before: current });
          else this.#messages.delete(key);
        }
        settle(shown);
      };
    }
  }

  /** Remembers a message this shard sent with `digest`. */
  sent(chatId: number, messageId: number, digest: string): void {
    this.#set(`${chatId}:${messageId}`, { digest, before: undefined });
  }

  #set(key: string, shown: Shown): void {
    this.#messages.delete(key);
    this.#messages.set(key, shown);
    if (this.#messages.size > ShownScreens.LIMIT) this.#messages.delete(this.#messages.keys().next().value as string);
  }
}
