/**
 * Webhook mode, in-thread with msw for the Bot API: the secret token is
 * required, an update is recorded before the answer and handled once however
 * often Telegram delivers it, the answer does not wait for the user's turn,
 * a stopping bot answers 503, and recorded updates survive a restart.
 */
import { delay, HttpResponse, http } from "msw";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { platform } from "../src/platform/mod.ts";
import { TEST_TOKEN } from "./helpers/app.ts";
import { type BotCall, botApiServer, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const SECRET = "webhook-secret-0123456789";
const WEBHOOK = {
  BOT_MODE: "webhook",
  PUBLIC_BASE_URL: "https://bot.example.com",
  KIE_WEBHOOK_HMAC_KEY: "kie-hmac-key-0123",
  WEBHOOK_SECRET: SECRET,
};
const greetings = () =>
  calls.filter((call) => call.method === "sendMessage" && String(call.body.text).startsWith("Hi"));
/** Posts an update (or a JSON text as Telegram would send it) to the webhook. */
const post = (update: unknown, secret: string | null = SECRET) =>
  new Request("https://bot.example.com/telegram/webhook", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === null ? {} : { "x-telegram-bot-api-secret-token": secret }),
    },
    body: typeof update === "string" ? update : JSON.stringify(update),
  });

describe("webhook mode", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
  });

  async function bot(kvPath?: string) {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(kvPath ?? `${dir.path}/kv`, calls, WEBHOOK, "real");
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  it("sets the webhook with its secret and update types, never dropping pending updates", async () => {
    const { app } = await bot();
    await app.startWebhook();
    expect(calls.find((call) => call.method === "setWebhook")?.body).toEqual({
      url: "https://bot.example.com/telegram/webhook",
      secret_token: SECRET,
      allowed_updates: ["message", "callback_query", "pre_checkout_query", "my_chat_member"],
      drop_pending_updates: false,
    });
  });

  it("refuses calls without the right secret, and handles a redelivered update once", async () => {
    const { app } = await bot();
    const update = userOf(71, "en").text("/start");
    expect((await app.handleHttp(post(update, null))).status).toBe(401);
    expect((await app.handleHttp(post(update, "webhook-secret-wrong-0000"))).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(greetings()).toHaveLength(0);

    const answers = await Promise.all([app.handleHttp(post(update)), app.handleHttp(post(update))]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await until(() => greetings().length === 1);
    expect((await app.handleHttp(post(update))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(greetings()).toHaveLength(1);
  });

  it("answers before the user's turn is done, and 503 once stopping", async () => {
    server.use(
      http.post(`https://api.telegram.org/bot${TEST_TOKEN}/sendMessage`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        await delay(300);
        calls.push({ method: "sendMessage", body });
        return HttpResponse.json({ ok: true, result: { message_id: 1, date: 0, chat: { id: 72, type: "private" } } });
      }),
    );
    const { app } = await bot();
    const answer = await app.handleHttp(post(userOf(72, "en").text("/start")));
    expect(answer.status).toBe(200);
    // The reply to /start is recorded once Telegram (slow here) has answered it: after the webhook's 200.
    expect(calls.map((call) => call.method)).not.toContain("sendMessage");
    await until(() => calls.some((call) => call.method === "sendMessage" && call.body.chat_id === 72));
    await app.stop();
    expect((await app.handleHttp(post(userOf(72, "en").text("/help")))).status).toBe(503);
  });

  it("records a burst around an update KV cannot store: that one is handled apart, every good one once", async () => {
    const { app } = await bot();
    const good = Array.from({ length: 150 }, (_, i) => userOf(1_000 + i, "en", i % 2 ? "Анна" : "Ann").text("/start"));
    // Forged through the secret, or a real one grown past KV's 64 KiB value limit (Cyrillic and emoji: 2 bytes a unit).
    const huge = { ...userOf(2_001, "en").text("/start"), padding: "Привет 🦊 ".repeat(8_000) };
    const burst = [...good.slice(0, 75), huge, ...good.slice(75)];
    const answers = await Promise.all(burst.map((update) => app.handleHttp(post(update))));
    expect(answers.map((answer) => answer.status)).toEqual(burst.map(() => 200));

    const greeted = (chatId: number) => greetings().filter((call) => call.body.chat_id === chatId).length;
    await until(() => good.every((update) => greeted(update.message?.chat.id ?? 0) === 1), 20_000);
    // The sender of the update KV refused is answered too (before the webhook's 200).
    expect(greeted(2_001)).toBe(1);
    const inbox = await Promise.all(burst.map((update) => app.kv.get<{ done: boolean }>(["inbox", update.update_id])));
    expect(inbox.every((entry) => entry.versionstamp !== null)).toBe(true);
    expect(inbox[75]?.value).toEqual({ done: true });

    // Telegram delivering the whole burst again changes nothing.
    const again = await Promise.all(burst.map((update) => app.handleHttp(post(update))));
    expect(again.map((answer) => answer.status)).toEqual(burst.map(() => 200));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(greetings()).toHaveLength(151);
  });

  it("refuses with 400 an update nested deeper than any Telegram object, and handles its neighbours", async () => {
    const { app } = await bot();
    const sender = userOf(2_002, "en");
    const neighbours = Array.from({ length: 20 }, (_, i) => userOf(3_000 + i, "en").text("/start"));
    // Thousands of levels: neither KV nor a worker thread could serialize it.
    const deep = `${JSON.stringify(sender.text("/start")).slice(0, -1)},"nested":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const answers = await Promise.all([deep, ...neighbours].map((update) => app.handleHttp(post(update))));
    expect(answers.map((answer) => answer.status)).toEqual([400, ...neighbours.map(() => 200)]);
    await until(() => greetings().length === neighbours.length);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(greetings().map((call) => call.body.chat_id)).not.toContain(sender.id);
  });

  it("handles, after a restart, an update answered but not handled before the stop", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const update = userOf(73, "en").text("/start");
    await kv.atomic().set(["inbox", update.update_id], { update, done: false }).commit();
    kv.close();
    const { app } = await bot(kvPath);
    await app.startWebhook();
    await until(() => greetings().some((call) => call.body.chat_id === 73));
    // Marks are written in batches, shortly after.
    await until(async () => (await app.kv.get<{ done: boolean }>(["inbox", update.update_id])).value?.done === true);
  });
});
