/**
 * The bad input corpus: what a careless client, an attacker or a Telegram
 * update the bot does not handle may send to its HTTP routes. Each case
 * says what it sends, the HTTP status it must get and what its probe user
 * must see: a clear reply, an answered button, or nothing at all. Every
 * case also must change nothing in KV (checked by `bad-inputs.ts`).
 */
import type { Update } from "grammy/types";
import { signCallback } from "../../src/kie/callback-signature.ts";
import { KIE_HMAC_KEY } from "./bot-runner.ts";
import type { Dice } from "./random.ts";
import type { UpdateFactory } from "./updates.ts";
import type { TelegramWebhook } from "./webhook.ts";

/** What the probe user must see after the input. */
export type Expectation =
  /** A message to the probe's chat whose text matches. */
  | { readonly reply: RegExp }
  /** The button press answered (answerCallbackQuery with this id); a fresh menu may follow. */
  | { readonly answered: string }
  /** The pre-checkout query refused (answerPreCheckoutQuery ok false). */
  | { readonly refused: string }
  /** No Bot API call at all for the probe (or for any chat the input names). */
  | "nothing";

export interface BadInput {
  readonly kind: string;
  /** The probe user sending it: KV changes and Bot API calls are attributed by this id. */
  readonly userId?: number;
  /** A wizard the probe must be in first (a model id): set up before the KV snapshot. */
  readonly wizard?: string;
  readonly send: () => Promise<number>;
  readonly status: number;
  readonly expect: Expectation;
}

const MiB = 1024 * 1024;

export interface CaseDeps {
  readonly updates: UpdateFactory;
  readonly webhook: TelegramWebhook;
  readonly dice: Dice;
  /** Gives out a new probe user id for each case that needs its own user. */
  readonly probe: () => number;
}

/** The whole corpus. */
export function badInputCases(deps: CaseDeps): BadInput[] {
  return [...httpCases(deps), ...unhandledUpdateCases(deps), ...userCases(deps), ...kieCallbackCases(deps)];
}

/** Bodies and headers the webhook refuses before any update is read. */
function httpCases({ updates, webhook, probe }: CaseDeps): BadInput[] {
  const post = (body: BodyInit, headers?: Record<string, string>) => () =>
    webhook.post("/telegram/webhook", body, headers);
  // If the bot took one of these in after all, its reply would go to this user and show.
  const sender = probe();
  const update = (text: string) => JSON.stringify(updates.text(sender, text));
  const stream = (bytes: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < bytes; sent += 64 * 1024) controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        controller.close();
      },
    });
  return [
    { kind: "oversized_body", send: post(update("x".repeat(1.5 * MiB))), status: 413, expect: "nothing" },
    // No content-length: the cap must hold while the body streams in.
    { kind: "oversized_body_chunked", send: post(stream(2 * MiB)), status: 413, expect: "nothing" },
    { kind: "invalid_json", send: post('{"update_id": 1, "message": {'), status: 400, expect: "nothing" },
    { kind: "json_not_an_update", send: post('{"hello": "world"}'), status: 400, expect: "nothing" },
    { kind: "json_array", send: post("[1, 2, 3]"), status: 400, expect: "nothing" },
    { kind: "negative_update_id", send: post('{"update_id": -5}'), status: 400, expect: "nothing" },
    { kind: "empty_body", send: post(""), status: 400, expect: "nothing" },
    {
      kind: "wrong_secret",
      send: post(update("/start"), { "x-telegram-bot-api-secret-token": "not-the-secret-0123456789" }),
      status: 401,
      expect: "nothing",
    },
    { kind: "no_secret", send: post(update("/start"), {}), status: 401, expect: "nothing" },
    {
      kind: "webhook_get",
      send: () => webhook.post("/telegram/webhook", "", undefined, "GET"),
      status: 404,
      expect: "nothing",
    },
    {
      kind: "unknown_path",
      send: () => webhook.post("/telegram/other", update("/start")),
      status: 404,
      expect: "nothing",
    },
  ];
}

/** Update types the bot does not handle: accepted (200, so Telegram stops sending them) and ignored. */
function unhandledUpdateCases({ updates, webhook, probe }: CaseDeps): BadInput[] {
  const channel = { id: -1001234567890, type: "channel", title: "Chaos channel" };
  const message = (userId: number) => ({
    message_id: 1,
    date: 1_790_000_000,
    chat: updates.chat(userId),
    from: updates.from(userId),
    text: "hello",
  });
  const shapes: Record<string, (userId: number) => Record<string, unknown>> = {
    edited_message: (userId) => ({ edited_message: { ...message(userId), edit_date: 1_790_000_100 } }),
    channel_post: () => ({ channel_post: { message_id: 1, date: 1_790_000_000, chat: channel, text: "post" } }),
    edited_channel_post: () => ({
      edited_channel_post: { message_id: 1, date: 1_790_000_000, edit_date: 1_790_000_100, chat: channel, text: "x" },
    }),
    inline_query: (userId) => ({ inline_query: { id: "iq1", from: updates.from(userId), query: "cats", offset: "" } }),
    chosen_inline_result: (userId) => ({
      chosen_inline_result: { result_id: "r1", from: updates.from(userId), query: "cats" },
    }),
    shipping_query: (userId) => ({
      shipping_query: {
        id: "sq1",
        from: updates.from(userId),
        invoice_payload: "s1",
        shipping_address: {
          country_code: "RU",
          state: "",
          city: "Moscow",
          street_line1: "",
          street_line2: "",
          post_code: "",
        },
      },
    }),
    poll: () => ({
      poll: {
        id: "p1",
        question: "?",
        options: [{ text: "a", voter_count: 1 }],
        total_voter_count: 1,
        is_closed: false,
        is_anonymous: true,
        type: "regular",
        allows_multiple_answers: false,
      },
    }),
    poll_answer: (userId) => ({ poll_answer: { poll_id: "p1", user: updates.from(userId), option_ids: [0] } }),
    chat_member: (userId) => ({
      chat_member: {
        chat: channel,
        from: updates.from(userId),
        date: 1_790_000_000,
        old_chat_member: { status: "left", user: updates.from(userId) },
        new_chat_member: { status: "member", user: updates.from(userId) },
      },
    }),
    chat_join_request: (userId) => ({
      chat_join_request: { chat: channel, from: updates.from(userId), user_chat_id: userId, date: 1_790_000_000 },
    }),
    message_reaction: (userId) => ({
      message_reaction: {
        chat: updates.chat(userId),
        message_id: 1,
        user: updates.from(userId),
        date: 1_790_000_000,
        old_reaction: [],
        new_reaction: [{ type: "emoji", emoji: "👍" }],
      },
    }),
    chat_boost: () => ({ chat_boost: { chat: channel, boost: { boost_id: "b1", add_date: 0, expiration_date: 1 } } }),
    business_message: (userId) => ({ business_message: { ...message(userId), business_connection_id: "bc1" } }),
    // Telegram never sends these, but a broken proxy might.
    update_without_content: () => ({}),
    message_without_chat: (userId) => ({ message: { message_id: 1, date: 0, from: updates.from(userId), text: "hi" } }),
  };
  return Object.entries(shapes).map(([kind, shape]) => {
    const userId = probe();
    return {
      kind: `unhandled_${kind}`,
      userId,
      send: () => webhook.post("/telegram/webhook", JSON.stringify(updates.raw(shape(userId)))),
      status: 200,
      expect: "nothing" as const,
    };
  });
}

/** What users may send that the bot must answer clearly: random button data, huge prompts, wrong files. */
function userCases({ updates, webhook, dice, probe }: CaseDeps): BadInput[] {
  const send = (update: Update) => () => webhook.post("/telegram/webhook", JSON.stringify(update));
  const randomPress = (length: number): BadInput => {
    const userId = probe();
    // Random bytes read as Latin-1: any byte becomes one character, as Telegram would pass them through.
    const update = updates.press(userId, Buffer.from(dice.bytes(length)).toString("latin1"));
    return {
      kind: "callback_random_bytes",
      userId,
      send: send(update),
      status: 200,
      expect: { answered: String(update.callback_query?.id) },
    };
  };
  /** An update from a probe in a model's wizard: a reply that matches, or (`"nothing"`) no call at all. */
  const inWizard = (
    kind: string,
    model: string,
    update: (userId: number) => Update,
    reply: RegExp | "nothing",
  ): BadInput => {
    const userId = probe();
    const expect = reply === "nothing" ? reply : { reply };
    return { kind, userId, wizard: model, send: () => send(update(userId))(), status: 200, expect };
  };
  const MEDIA_MODEL = "recraft/remove-background";
  const unknownInput = /I understand commands, buttons and model names/;
  const talker = probe();
  const outsider = probe();
  const unknownInvoice = updates.preCheckout(outsider, "s-not-an-invoice", 50);
  return [
    randomPress(1),
    randomPress(17),
    randomPress(64),
    randomPress(200),
    inWizard(
      "prompt_10000_chars",
      "google/imagen4",
      (userId) => updates.text(userId, "a".repeat(10_000)),
      /Too long: 10\D?000 characters, the limit is 5\D?000/,
    ),
    {
      kind: "text_10000_chars_outside_wizard",
      userId: talker,
      send: send(updates.text(talker, "b".repeat(10_000))),
      status: 200,
      // Text at the menu is a model search: it names no model.
      expect: { reply: /I found no model called «b+…?»/ },
    },
    inWizard(
      "document_where_photo_expected",
      MEDIA_MODEL,
      (userId) => updates.document(userId, "application/pdf", 100_000),
      /This file does not fit: I need a picture/,
    ),
    inWizard(
      "photo_over_size_limit",
      MEDIA_MODEL,
      (userId) => updates.photo(userId, 30 * MiB),
      /The file is too big: 30 MB, the limit is 5 MB/,
    ),
    inWizard(
      "image_document_over_size_limit",
      MEDIA_MODEL,
      (userId) => updates.document(userId, "image/png", 45 * MiB),
      /The file is too big: 45 MB, the limit is 5 MB/,
    ),
    inWizard(
      "video_where_photo_expected",
      MEDIA_MODEL,
      (userId) => updates.document(userId, "video/mp4", 1 * MiB),
      /This file does not fit/,
    ),
    inWizard("text_where_photo_expected", MEDIA_MODEL, (userId) => updates.text(userId, "a cat"), /Now I need a/),
    // A size Telegram never sends: refused at the boundary, so nothing unloadable is saved (the user is not locked out).
    inWizard("photo_forged_negative_size", MEDIA_MODEL, (userId) => updates.photo(userId, -5), "nothing"),
    inWizard("sticker_in_wizard", MEDIA_MODEL, (userId) => updates.sticker(userId), unknownInput),
    {
      kind: "pre_checkout_unknown_invoice",
      userId: outsider,
      send: send(unknownInvoice),
      status: 200,
      expect: { refused: String(unknownInvoice.pre_checkout_query?.id) },
    },
  ];
}

/** KIE's callback route: only signed, fresh, small callbacks for known tasks get anywhere. */
function kieCallbackCases({ webhook }: CaseDeps): BadInput[] {
  const post = (body: string, headers: Record<string, string>) => () => webhook.post("/kie/callback", body, headers);
  const signed = async (taskId: string, at = Math.floor(Date.now() / 1000)) => ({
    "x-webhook-timestamp": String(at),
    "x-webhook-signature": await signCallback(KIE_HMAC_KEY, taskId, String(at)),
  });
  const body = (taskId: string) => JSON.stringify({ code: 200, data: { taskId, state: "success" } });
  return [
    { kind: "kie_callback_unsigned", send: post(body("task_x"), {}), status: 401, expect: "nothing" },
    {
      kind: "kie_callback_bad_signature",
      send: post(body("task_x"), {
        "x-webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "x-webhook-signature": "AAAA",
      }),
      status: 401,
      expect: "nothing",
    },
    {
      kind: "kie_callback_stale",
      send: async () => post(body("task_x"), await signed("task_x", Math.floor(Date.now() / 1000) - 3_600))(),
      status: 401,
      expect: "nothing",
    },
    {
      kind: "kie_callback_unknown_task",
      send: async () => post(body("task_never_created"), await signed("task_never_created"))(),
      status: 404,
      expect: "nothing",
    },
    { kind: "kie_callback_invalid_json", send: post("{not json", {}), status: 400, expect: "nothing" },
    { kind: "kie_callback_no_task_id", send: post('{"code": 200, "data": {}}', {}), status: 400, expect: "nothing" },
    {
      kind: "kie_callback_oversized",
      send: post(JSON.stringify({ data: { taskId: "task_x" }, pad: "x".repeat(100 * 1024) }), {}),
      status: 413,
      expect: "nothing",
    },
  ];
}
