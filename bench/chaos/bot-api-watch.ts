/**
 * What the bot did at Telegram, as the fake Bot API saw it: calls indexed
 * by chat (and button answers by their query id) so a simulated user can
 * wait for the screen an update causes, and every result file sent, by URL,
 * so the run can tell a result sent twice or to the wrong chat. Only calls
 * the fake answered successfully are seen: a faulted call did nothing.
 */
import type { RecordedCall } from "../../tests/helpers/fake-bot-api.ts";

interface Waiter {
  readonly key: string;
  readonly since: number;
  readonly predicate: (call: RecordedCall) => boolean;
  readonly resolve: (call: RecordedCall | undefined) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Methods that send a generation's result file, and where each puts the file. */
const RESULT_METHODS: Readonly<Record<string, string>> = {
  sendPhoto: "photo",
  sendVideo: "video",
  sendAudio: "audio",
  sendDocument: "document",
};

/** The callback data of every inline button of a call's keyboard. */
export function buttonsOf(call: RecordedCall): string[] {
  const markup = call.payload.reply_markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat().flatMap((button) => button.callback_data ?? []);
}

/** The text of a message or the caption of a file. */
export function textOf(call: RecordedCall): string {
  return String(call.payload.text ?? call.payload.caption ?? "");
}

export class BotApiWatch {
  /** Calls by method, over the whole run. */
  readonly methods: Record<string, number> = {};
  /** Result file URLs and the chats each was sent to (once per send). */
  readonly results = new Map<string, number[]>();
  /** Calls seen in total. */
  total = 0;
  readonly #calls = new Map<string, RecordedCall[]>();
  #waiters: Waiter[] = [];
  #listeners = new Set<(call: RecordedCall) => void>();

  /** Sees every call from now on, until the returned function is called. */
  listen(listener: (call: RecordedCall) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes one call the fake answered (its `onCall` hook). */
  observe(call: RecordedCall): void {
    this.total++;
    this.methods[call.method] = (this.methods[call.method] ?? 0) + 1;
    this.#recordResult(call);
    for (const listener of this.#listeners) listener(call);
    const key = keyOf(call);
    if (key === undefined) return;
    const list = this.#calls.get(key) ?? [];
    list.push(call);
    this.#calls.set(key, list);
    for (const waiter of this.#waiters.filter((waiter) => waiter.key === key)) {
      if (waiter.predicate(call)) this.#settle(waiter, call);
    }
  }

  /** How many calls concern chat `chatId` so far: pass it to `waitFor` to see only newer ones. */
  mark(chatId: number): number {
    return this.#calls.get(`chat:${chatId}`)?.length ?? 0;
  }

  /** Calls to chat `chatId` after `since`. */
  since(chatId: number, since: number): RecordedCall[] {
    return (this.#calls.get(`chat:${chatId}`) ?? []).slice(since);
  }

  /** The first call to chat `chatId` after `since` that matches, or undefined after `timeoutMs`. */
  waitFor(
    chatId: number,
    since: number,
    predicate: (call: RecordedCall) => boolean,
    timeoutMs: number,
  ): Promise<RecordedCall | undefined> {
    return this.#wait(`chat:${chatId}`, since, predicate, timeoutMs);
  }

  /** The answer to a button press or a pre-checkout query (by its id), or undefined after `timeoutMs`. */
  waitForAnswer(queryId: string, timeoutMs: number): Promise<RecordedCall | undefined> {
    return this.#wait(`query:${queryId}`, 0, () => true, timeoutMs);
  }

  /** True once the bot answered the button press or pre-checkout query `queryId`. */
  answered(queryId: string): boolean {
    return this.answerOf(queryId) !== undefined;
  }

  /** The bot's (first) answer to the button press or pre-checkout query `queryId`. */
  answerOf(queryId: string): RecordedCall | undefined {
    return this.#calls.get(`query:${queryId}`)?.[0];
  }

  /** Ends every wait now (undefined): the run is stopping its users. */
  releaseAll(): void {
    for (const waiter of [...this.#waiters]) this.#settle(waiter, undefined);
  }

  #wait(
    key: string,
    since: number,
    predicate: (call: RecordedCall) => boolean,
    timeoutMs: number,
  ): Promise<RecordedCall | undefined> {
    const seen = (this.#calls.get(key) ?? []).slice(since).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        key,
        since,
        predicate,
        resolve,
        timer: setTimeout(() => this.#settle(waiter, undefined), timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #settle(waiter: Waiter, call: RecordedCall | undefined): void {
    clearTimeout(waiter.timer);
    this.#waiters = this.#waiters.filter((other) => other !== waiter);
    waiter.resolve(call);
  }

  #recordResult(call: RecordedCall): void {
    const chatId = Number(call.payload.chat_id);
    const field = RESULT_METHODS[call.method];
    const urls =
      field !== undefined
        ? [call.payload[field]]
        : call.method === "sendMediaGroup"
          ? ((call.payload.media as { media?: unknown }[] | undefined) ?? []).map((item) => item.media)
          : [];
    for (const url of urls) {
      // An upload (`attach://…`) is no result URL.
      if (typeof url !== "string" || !url.startsWith("https://")) continue;
      const chats = this.results.get(url) ?? [];
      chats.push(chatId);
      this.results.set(url, chats);
    }
  }
}

/** What a call is about: a chat, or the query it answers. */
function keyOf(call: RecordedCall): string | undefined {
  const query = call.payload.callback_query_id ?? call.payload.pre_checkout_query_id;
  if (query !== undefined) return `query:${String(query)}`;
  if (call.payload.chat_id !== undefined) return `chat:${String(call.payload.chat_id)}`;
  return undefined;
}
