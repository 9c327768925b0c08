/**
 * Simulated Telegram users for the load benchmark. Each one walks a session
 * the way people use the bot: /start, a section, a model card, the wizard
 * (start, prompt, options until the Generate button shows), Generate in one
 * session of four (Cancel otherwise), then /balance; and again.
 *
 * A step is one update posted to the webhook. Its latency runs from the
 * post to the first Bot API request it causes (the answer of a button
 * press, the screen of a message), seen by the fake Bot API on the same
 * clock; the step ends when its screen arrived, whose buttons tell the next
 * step what to press (the wizard's id). Both bots speak the same callback
 * data, so the same users drive both.
 */
import type { RecordedCall } from "../../tests/helpers/fake-bot-api.ts";

/** One update of a step, and how to know its first request. */
interface Sent {
  readonly key: string;
  readonly at: number;
  readonly kind: string;
  readonly onFirst: (ms: number) => void;
}

/** What the bot last showed a user: the buttons' callback data. */
type Keyboard = readonly string[];

/** Screens are the calls that show something with buttons or text (not chat actions or results). */
const SCREEN_METHODS = new Set(["sendMessage", "editMessageText", "editMessageReplyMarkup"]);

/** The callback data of every button of a call's inline keyboard. */
function buttonsOf(payload: Record<string, unknown>): Keyboard | undefined {
  const markup = payload.reply_markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined;
  if (markup?.inline_keyboard === undefined) return undefined;
  return markup.inline_keyboard.flat().flatMap((button) => (button.callback_data ? [button.callback_data] : []));
}

/** Latency samples by step kind, and what went wrong. */
export class LoadTally {
  readonly latencies = new Map<string, number[]>();
  steps = 0;
  timeouts = 0;
  refused = 0;
  generations = 0;
  results = 0;

  record(kind: string, ms: number): void {
    let samples = this.latencies.get(kind);
    if (samples === undefined) {
      samples = [];
      this.latencies.set(kind, samples);
    }
    samples.push(ms);
    this.steps++;
  }

  /** Every latency sample of the run, whatever the kind. */
  all(): number[] {
    return [...this.latencies.values()].flat();
  }
}

/**
 * Callback query ids over the whole run: Telegram never gives two presses one id, and the fake
 * Telegram (shared by the bots the run measures) answers a query once.
 */
let nextCallbackId = 1;

/** Telegram's side of the simulated users: correlates the bot's requests with their updates. */
export class UserPool {
  readonly #pending = new Map<string, Sent>();
  readonly #screens = new Map<number, { resolve: () => void; after: number }>();
  readonly #keyboards = new Map<number, Keyboard>();
  #updateId = 1;
  tally = new LoadTally();
  /** Spaces the steps of all users to a rate (absent: as fast as the bot answers). */
  pacer: Pacer | undefined;

  /**
   * `pressedMessage` gives the bot's message a press of `data` comes from, as
   * Telegram names it in the callback query (the fake Telegram keeps the chats).
   */
  constructor(
    readonly post: (update: unknown) => Promise<number>,
    readonly pressedMessage: (chatId: number, data: string) => Record<string, unknown>,
    readonly timeoutMs = 10_000,
  ) {}

  /** Feed every Bot API request the fake receives. */
  observe(call: RecordedCall): void {
    const now = performance.now();
    const payload = call.payload;
    if (call.method === "sendPhoto" || call.method === "sendMediaGroup") this.tally.results++;
    const key =
      call.method === "answerCallbackQuery"
        ? `cb:${String(payload.callback_query_id)}`
        : SCREEN_METHODS.has(call.method)
          ? `chat:${String(payload.chat_id)}`
          : undefined;
    if (key !== undefined) {
      const sent = this.#pending.get(key);
      if (sent !== undefined) {
        this.#pending.delete(key);
        sent.onFirst(now - sent.at);
      }
    }
    if (!SCREEN_METHODS.has(call.method)) return;
    const chatId = Number(payload.chat_id);
    const buttons = buttonsOf(payload);
    if (buttons !== undefined) this.#keyboards.set(chatId, buttons);
    const waiting = this.#screens.get(chatId);
    if (waiting !== undefined && now >= waiting.after) {
      this.#screens.delete(chatId);
      waiting.resolve();
    }
  }

  /** Runs one step for `userId`: posts the update, waits for its first request and its screen. */
  async step(userId: number, kind: string, update: (ids: { updateId: number; callbackId: string }) => unknown) {
    await this.pacer?.take();
    const updateId = this.#updateId++;
    const callbackId = `q${nextCallbackId++}`;
    const body = update({ updateId, callbackId }) as { callback_query?: unknown };
    const key = body.callback_query ? `cb:${callbackId}` : `chat:${userId}`;
    const at = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const first = new Promise<boolean>((resolve) => {
      const onFirst = (ms: number) => {
        this.tally.record(kind, ms);
        resolve(true);
      };
      this.#pending.set(key, { key, at, kind, onFirst });
    });
    const screen = new Promise<void>((resolve) => this.#screens.set(userId, { resolve, after: at }));
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
    });
    const status = await this.post(body);
    if (status !== 200) this.tally.refused++;
    const done = await Promise.race([Promise.all([first, screen]).then(() => true), timeout]);
    clearTimeout(timer);
    if (!done) {
      this.tally.timeouts++;
      this.#pending.delete(key);
      this.#screens.delete(userId);
    }
  }

  /** Update builders for one user: a message (commands marked as Telegram does) and a button press. */
  #updates(userId: number, lang: "ru" | "en") {
    const from = { id: userId, is_bot: false, first_name: `User ${userId}`, language_code: lang };
    const chat = { id: userId, type: "private" as const, first_name: from.first_name };
    const text = (value: string) => (ids: { updateId: number }) => ({
      update_id: ids.updateId,
      message: {
        message_id: ids.updateId,
        date: Math.floor(Date.now() / 1000),
        chat,
        from,
        text: value,
        // Telegram marks a command with an entity; grammY's `command` filter needs it.
        ...(value.startsWith("/") ? { entities: [{ type: "bot_command", offset: 0, length: value.length }] } : {}),
      },
    });
    const press = (data: string) => (ids: { updateId: number; callbackId: string }) => ({
      update_id: ids.updateId,
      callback_query: {
        id: ids.callbackId,
        from,
        chat_instance: `ci${userId}`,
        data,
        message: { ...this.pressedMessage(userId, data), chat },
      },
    });
    return { text, press };
  }

  /** A user who comes back and only opens the bot (/start): their actor becomes resident. */
  async visit(userId: number, lang: "ru" | "en"): Promise<void> {
    await this.step(userId, "start", this.#updates(userId, lang).text("/start"));
  }

  /** One session of a user (see the module comment). */
  async session(userId: number, generate: boolean, lang: "ru" | "en"): Promise<void> {
    const { text, press } = this.#updates(userId, lang);
    await this.step(userId, "start", text("/start"));
    await this.step(userId, "section", press("1|s|images|0"));
    await this.step(userId, "card", press("1|c|z-image|0"));
    await this.step(userId, "wizardStart", press("1|g|z-image"));
    await this.step(userId, "wizardStep", text(`A red fox in the snow, by user ${userId}`));
    if (generate) {
      // Options until the Generate button shows (the baseline shows it at once).
      for (let option = 0; option < 4; option++) {
        const buttons = this.#keyboards.get(userId) ?? [];
        const go = buttons.find((data) => data.startsWith("1|y|"));
        if (go !== undefined) {
          this.tally.generations++;
          await this.step(userId, "generate", press(go));
          break;
        }
        const next = buttons.find((data) => data.startsWith("1|o|") || data.startsWith("1|d|"));
        if (next === undefined) break;
        await this.step(userId, "wizardStep", press(next));
      }
    } else {
      await this.step(userId, "cancel", press("1|x"));
    }
    await this.step(userId, "balance", text("/balance"));
  }
}

/**
 * Lets steps start at a steady rate: each `take` waits for the next slot.
 * With more users waiting than the rate needs, updates arrive at the rate
 * whatever the bot's speed, until the bot cannot keep up (then users wait
 * for its answers, as real ones do).
 */
export class Pacer {
  readonly #waiting: (() => void)[] = [];
  readonly #started = performance.now();
  #released = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly perSecond: number) {
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - this.#started) * perSecond) / 1000);
      // Slots nobody waited for are not saved up: no burst after an idle moment.
      if (this.#waiting.length === 0) this.#released = Math.max(this.#released, due - 1);
      while (this.#released < due && this.#waiting.length > 0) {
        this.#released++;
        this.#waiting.shift()?.();
      }
    }, 1);
  }

  take(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}
