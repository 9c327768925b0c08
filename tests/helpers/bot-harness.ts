/**
 * Driving the whole bot in-thread with real update JSON and an msw-mocked
 * Bot API that records every call and answers as strictly as Telegram.
 */
import type { Update } from "grammy/types";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { type App, startApp } from "../../src/app.ts";
import { platform } from "../../src/platform/mod.ts";
import type { Clock } from "../../src/platform/types.ts";
import { TEST_TOKEN, testConfig } from "./app.ts";
import { silentLog } from "./runtime.ts";
import { decodeBody, type FakeTelegram, messageObject, sharedTelegram } from "./telegram/mod.ts";

export { sharedTelegram };

export interface BotCall {
  readonly method: string;
  readonly body: Record<string, unknown>;
}

/** An inline button as the bot sent it. */
export interface SentButton {
  readonly text: string;
  readonly callback_data: string;
}

export const BOT_USER = {
  id: 1,
  is_bot: true,
  first_name: "KIE",
  username: "kie_test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

/** The msw server; tests call `listen`/`close` in their hooks. */
export function botApiServer(calls: BotCall[], hooks: BotApiHooks = {}) {
  return setupServer(...botApiHandlers(calls, hooks));
}

/** Test control over the fake Bot API. */
export interface BotApiHooks {
  /**
   * Refuses the call: a description alone is a 400 (as Telegram refuses a
   * URL it cannot fetch); `status` 500 plays Telegram being down.
   */
  refuse?(call: BotCall): string | { readonly status: number; readonly description: string } | undefined;
  /** The Telegram that answers (its chats, flood waits and refusals); `sharedTelegram` by default. */
  readonly telegram?: FakeTelegram;
}

/**
 * Handlers of a Bot API that records every call (refused ones too) and
 * answers as Telegram does: the documented limits, its HTML parse mode and
 * the state of the messages it sent (see `telegram/`), files included.
 */
export function botApiHandlers(calls: BotCall[], hooks: BotApiHooks = {}) {
  const telegram = hooks.telegram ?? sharedTelegram;
  return [
    http.post(`https://api.telegram.org/bot${TEST_TOKEN}/:method`, async ({ request, params }) => {
      const method = String(params.method);
      const decoded = decodeBody(request.headers.get("content-type"), new Uint8Array(await request.arrayBuffer()));
      const body = decoded.multipart ? { multipart: true, ...decoded.payload } : decoded.payload;
      const call = { method, body };
      calls.push(call);
      const refusal = hooks.refuse?.(call);
      if (refusal !== undefined) {
        const { status, description } = typeof refusal === "string" ? { status: 400, description: refusal } : refusal;
        return HttpResponse.json({ ok: false, error_code: status, description }, { status });
      }
      if (method === "getMe") return HttpResponse.json({ ok: true, result: BOT_USER });
      const answer = telegram.answer(method, decoded.payload);
      return HttpResponse.json(answer.body, { status: answer.status });
    }),
    http.get(`https://api.telegram.org/file/bot${TEST_TOKEN}/*`, () =>
      HttpResponse.arrayBuffer(new Uint8Array(4096).fill(1).buffer),
    ),
  ];
}

let nextUpdateId = 5_000;
let nextCallbackId = 1;

/** Builds updates from one user, as Telegram sends them. */
export function userOf(id: number, language_code = "ru", first_name = "Анна", telegram = sharedTelegram) {
  const from = { id, is_bot: false, first_name, language_code };
  const chat = { id, type: "private" as const, first_name };
  const base = () => ({ update_id: nextUpdateId++ });
  const message = (extra: Record<string, unknown>): Update =>
    ({ ...base(), message: { message_id: nextUpdateId, date: 1_790_000_000, chat, from, ...extra } }) as Update;
  return {
    id,
    text: (text: string) =>
      message(
        text.startsWith("/")
          ? { text, entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]?.length ?? 0 }] }
          : { text },
      ),
    photo: (bytes = 200_000) =>
      message({
        photo: [
          { file_id: `small-${nextUpdateId}`, file_unique_id: `s${nextUpdateId}`, width: 90, height: 90 },
          {
            file_id: `photo-${nextUpdateId}`,
            file_unique_id: `p${nextUpdateId}`,
            width: 1280,
            height: 960,
            file_size: bytes,
          },
        ],
      }),
    document: (mime: string, bytes = 100_000) =>
      message({
        document: {
          file_id: `doc-${nextUpdateId}`,
          file_unique_id: `d${nextUpdateId}`,
          mime_type: mime,
          file_size: bytes,
        },
      }),
    voice: (seconds = 4) =>
      message({
        voice: {
          file_id: `voice-${nextUpdateId}`,
          file_unique_id: `v${nextUpdateId}`,
          duration: seconds,
          file_size: 30_000,
        },
      }),
    sticker: () =>
      message({
        sticker: {
          file_id: "st",
          file_unique_id: "st",
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        },
      }),
    /**
     * A press of the button with `data`, from the message Telegram would
     * name: `messageId` if given, else the latest message the fake sent to
     * this chat with that button (see `FakeTelegram.pressedMessage`).
     */
    press: (data: string, messageId?: number): Update => {
      const pressed = telegram.pressedMessage(chat.id, data, messageId);
      const { chat: _chat, ...shown } = messageObject(chat.id, pressed);
      return {
        ...base(),
        callback_query: {
          id: `${nextCallbackId++}`,
          from,
          chat_instance: "ci",
          data,
          message: { ...shown, chat, from: BOT_USER },
        },
      } as Update;
    },
  };
}

/**
 * A running in-thread bot with helpers to feed updates and read what it did.
 * With `pace` "human" the bot's wall clock moves a second per turn, as if a
 * person were tapping (otherwise flood control would step in); "real" is
 * the platform's clock; a clock of the test's own moves as the test says.
 * `send` tells `telegram` what it sends (pre-checkout queries, Stars
 * charges), as Telegram knows what it sent.
 */
export async function startBot(
  kvPath: string,
  calls: BotCall[],
  env: Record<string, string> = {},
  pace: "human" | "real" | Clock = "human",
  telegram: FakeTelegram = sharedTelegram,
) {
  let now = Date.now();
  const clock =
    pace === "real"
      ? platform.clock
      : pace === "human"
        ? { now: () => (now += 1_000), monotonic: () => platform.clock.monotonic() }
        : pace;
  const app: App = await startApp({
    config: testConfig(kvPath, env),
    platform: { ...platform, clock },
    log: silentLog,
    mode: "in-thread",
  });
  return {
    app,
    /**
     * Sends an update and waits until the bot has made at least `expected`
     * new Bot API calls (its visible reaction), or `waitMs` passed, then returns them.
     */
    async send(update: Update, expected = 1, waitMs = 5_000): Promise<BotCall[]> {
      const before = calls.length;
      if (update.pre_checkout_query) telegram.recordPreCheckout(update.pre_checkout_query.id);
      const paid = update.message?.successful_payment;
      if (paid?.currency === "XTR" && update.message?.from) {
        telegram.recordStarsCharge({
          chargeId: paid.telegram_payment_charge_id,
          userId: update.message.from.id,
          stars: paid.total_amount,
        });
      }
      await app.dispatch(update);
      const deadline = Date.now() + waitMs;
      while (calls.length < before + expected && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 2));
      // Let follow-up turns (e.g. the shell telling the actor a message id) settle.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return calls.slice(before);
    },
  };
}

/** The screen (send or edit) among some calls. */
export function screenOf(made: readonly BotCall[]): { text: string; buttons: SentButton[]; method: string } {
  const call = [...made]
    .reverse()
    .find((c) => c.method === "sendMessage" || c.method === "editMessageText" || c.method === "sendInvoice");
  if (call === undefined) throw new Error(`no screen in ${made.map((c) => c.method).join(", ")}`);
  const markup = call.body.reply_markup as { inline_keyboard?: SentButton[][] } | undefined;
  const text = String(call.method === "sendInvoice" ? call.body.description : call.body.text);
  const buttons = (markup?.inline_keyboard ?? []).flat().filter((button) => button.callback_data !== undefined);
  return { text, buttons, method: call.method };
}

/** True when the calls show a screen (a message sent or edited, an invoice). */
export function hasScreen(made: readonly BotCall[]): boolean {
  return made.some((c) => c.method === "sendMessage" || c.method === "editMessageText" || c.method === "sendInvoice");
}

/**
 * The screen a chat shows now: its latest text message as the fake
 * Telegram keeps it (plain text). For a press the bot answered without an
 * edit, because the message already showed what the press asked for.
 */
export function shownScreen(
  chatId: number,
  telegram: FakeTelegram = sharedTelegram,
): { text: string; buttons: SentButton[]; method: string } {
  const message = telegram
    .messages(chatId)
    .reverse()
    .find((each) => each.kind === "text");
  if (message === undefined) throw new Error(`chat ${chatId} shows no text message`);
  const markup = message.markup as { inline_keyboard?: SentButton[][] } | undefined;
  const buttons = (markup?.inline_keyboard ?? []).flat().filter((button) => button.callback_data !== undefined);
  return { text: message.text, buttons, method: "unchanged" };
}

/** The callback data of the button whose text contains `label`. */
export function buttonData(made: readonly BotCall[], label: string | RegExp): string {
  const { buttons } = screenOf(made);
  const found = buttons.find((button) =>
    typeof label === "string" ? button.text.includes(label) : label.test(button.text),
  );
  if (found === undefined) throw new Error(`no button "${label}" among ${buttons.map((b) => b.text).join(" | ")}`);
  return found.callback_data;
}
