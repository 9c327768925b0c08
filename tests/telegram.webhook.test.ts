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
const post = (update: unknown, secret: string | null = SECRET) =>
  new Request("https://bot.example.com/telegram/webhook", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === null ? {} : { "x-telegram-bot-api-secret-token": secret }),
    },
    body: JSON.stringify(update),
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
