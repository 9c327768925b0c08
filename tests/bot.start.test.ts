import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type App, startApp } from "../src/app.ts";
import { platform } from "../src/platform/mod.ts";
import { TEST_TOKEN, testConfig, textUpdate } from "./helpers/app.ts";
import { silentLog, tempDir } from "./helpers/runtime.ts";

const sent: { method: string; body: Record<string, unknown> }[] = [];
const server = setupServer(
  http.post(`https://api.telegram.org/bot${TEST_TOKEN}/:method`, async ({ request, params }) => {
    const body = (await request.json()) as Record<string, unknown>;
    sent.push({ method: String(params.method), body });
    return HttpResponse.json({
      ok: true,
      result: { message_id: sent.length, date: 0, chat: { id: body.chat_id, type: "private" } },
    });
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("/start through the actor (in-thread, msw Bot API)", () => {
  let app: App | undefined;
  const dir = tempDir();
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    sent.length = 0;
  });
  afterAll(() => dir.remove());

  it("greets the user by name in their language with one sendMessage", async () => {
    app = await startApp({ config: testConfig(`${dir.path}/a.kv`), platform, log: silentLog, mode: "in-thread" });
    const result = await app.dispatch(textUpdate(42, "/start", { first_name: "Анна <b>", language_code: "ru" }));
    expect(result).toEqual({ ok: true, value: undefined });
    await expect.poll(() => sent.length).toBe(1);
    expect(sent[0]?.method).toBe("sendMessage");
    expect(sent[0]?.body).toEqual({
      chat_id: 42,
      text: "Привет, Анна <b>! Я делаю картинки, видео, музыку и озвучку с помощью лучших AI-моделей.\n\nОткройте меню командой /menu.",
    });
  });

  it("keeps the user's state in KV across a restart", async () => {
    const config = testConfig(`${dir.path}/b.kv`);
    app = await startApp({ config, platform, log: silentLog, mode: "in-thread" });
    await app.dispatch(textUpdate(7, "/start", { first_name: "Bob", language_code: "en" }));
    await app.stop();
    app = await startApp({ config, platform, log: silentLog, mode: "in-thread" });
    await app.dispatch(textUpdate(7, "/start"));
    await expect.poll(() => sent.length).toBe(2);
    // The language chosen on the first /start is kept (the second update says "ru").
    expect(String(sent[1]?.body.text)).toMatch(/^Hi, Anna!/);
    const kv = await platform.openKv(config.kv);
    expect((await kv.get(["user", 7])).value).toMatchObject({ starts: 2, lang: "en" });
    kv.close();
  });

  it("answers text it does not understand instead of staying silent", async () => {
    app = await startApp({ config: testConfig(`${dir.path}/c.kv`), platform, log: silentLog, mode: "in-thread" });
    await app.dispatch(textUpdate(5, "hello?", { language_code: "en" }));
    await expect.poll(() => sent.length).toBe(1);
    expect(sent[0]?.body).toEqual({ chat_id: 5, text: "I understand commands and buttons. Press /start to begin." });
  });

  it("skips a malformed update without touching any actor", async () => {
    app = await startApp({ config: testConfig(`${dir.path}/d.kv`), platform, log: silentLog, mode: "in-thread" });
    expect(await app.dispatch({ update_id: "nope" })).toBe("skipped");
    expect(await app.dispatch({ update_id: 1, message: { chat: {} } })).toBe("skipped");
    expect(sent).toHaveLength(0);
  });
});
