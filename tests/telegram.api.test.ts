/** The Bot API client: a 429 is retried after its `retry_after`, a 5xx a few times, and a 400 is not retried. */
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTelegramApi } from "../src/telegram/api.ts";
import { rateLimiter } from "../src/telegram/rate-limit.ts";
import { TEST_TOKEN } from "./helpers/app.ts";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const api = () =>
  createTelegramApi(
    { botToken: TEST_TOKEN, apiRoot: "https://api.telegram.org", messagesPerSecond: 30, retries: 2 },
    fetch,
  );
const ok = (id: number) => ({ ok: true, result: { message_id: id, date: 0, chat: { id: 1, type: "private" } } });

describe("Bot API client", () => {
  it("retries a 429 after retry_after and then succeeds", async () => {
    let calls = 0;
    server.use(
      http.post(`https://api.telegram.org/bot${TEST_TOKEN}/sendMessage`, () => {
        calls++;
        return calls === 1
          ? HttpResponse.json(
              {
                ok: false,
                error_code: 429,
                description: "Too Many Requests: retry after 1",
                parameters: { retry_after: 1 },
              },
              { status: 429 },
            )
          : HttpResponse.json(ok(7));
      }),
    );
    const sent = await api().sendMessage(1, "hi");
    expect(sent.message_id).toBe(7);
    expect(calls).toBe(2);
  });

  it("retries a call whose connection dropped, a few times, then gives up", async () => {
    let calls = 0;
    server.use(
      http.post(`https://api.telegram.org/bot${TEST_TOKEN}/answerPreCheckoutQuery`, () => {
        calls++;
        return calls === 1 ? HttpResponse.error() : HttpResponse.json({ ok: true, result: true });
      }),
    );
    expect(await api().answerPreCheckoutQuery("pcq-1", true)).toBe(true);
    expect(calls).toBe(2);

    // Down for good: the first try and two retries (`retries: 2`), then the error.
    let tries = 0;
    server.use(
      http.post(`https://api.telegram.org/bot${TEST_TOKEN}/sendMessage`, () => {
        tries++;
        return HttpResponse.error();
      }),
    );
    await expect(api().sendMessage(1, "hi")).rejects.toMatchObject({ name: "HttpError" });
    expect(tries).toBe(3);
  });

  it("does not retry a 400", async () => {
    let calls = 0;
    server.use(
      http.post(`https://api.telegram.org/bot${TEST_TOKEN}/sendMessage`, () => {
        calls++;
        return HttpResponse.json(
          { ok: false, error_code: 400, description: "Bad Request: chat not found" },
          { status: 400 },
        );
      }),
    );
    await expect(api().sendMessage(1, "hi")).rejects.toMatchObject({ error_code: 400 });
    expect(calls).toBe(1);
  });
});

describe("rate limiter", () => {
  const call = (limiter: ReturnType<typeof rateLimiter>, chatId: number | undefined) =>
    limiter(
      async () => ({ ok: true, result: true }) as never,
      "sendMessage",
      (chatId === undefined ? {} : { chat_id: chatId, text: "x" }) as never,
    );

  it("lets a burst through, then spaces calls at the overall rate; calls without a chat pass", async () => {
    const waits: number[] = [];
    const limiter = rateLimiter({ perSecond: 2, now: () => 0, sleep: async (ms) => void waits.push(ms) });
    for (let i = 0; i < 5; i++) await call(limiter, 100 + i);
    await call(limiter, undefined);
    expect(waits).toEqual([500, 1000, 1500]);
  });

  it("lets a burst of 5 into one chat, then one message a second; other chats and chat actions are not held", async () => {
    const waits: number[] = [];
    const limiter = rateLimiter({ perSecond: 1000, now: () => 0, sleep: async (ms) => void waits.push(ms) });
    for (let i = 0; i < 7; i++) await call(limiter, 42);
    await call(limiter, 43);
    await limiter(async () => ({ ok: true, result: true }) as never, "sendChatAction", {
      chat_id: 42,
      action: "typing",
    } as never);
    expect(waits).toEqual([1000, 2000]);
  });

  it("holds a group to 20 messages a minute", async () => {
    const waits: number[] = [];
    const limiter = rateLimiter({ perSecond: 1000, now: () => 0, sleep: async (ms) => void waits.push(ms) });
    for (let i = 0; i < 21; i++) await call(limiter, -1001);
    expect(waits).toEqual([3000]);
  });
});
