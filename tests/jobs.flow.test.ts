/**
 * Generations end to end, in-thread, with msw for the Bot API and KIE: a
 * press of Generate, the hold, the task, polls, delivery, history and the
 * ledger, for every endpoint family in the catalog, and every way a job
 * can end without a result.
 */
import { http, passthrough } from "msw";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signCallback } from "../src/kie/callback-signature.ts";
import type { BotCall } from "./helpers/bot-harness.ts";
import { sharedTelegram, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { type FakeOutcome, type FakeTask, RESULT_HOST, successFor } from "./helpers/fake-kie.ts";
import { FAST_JOBS, jobServer, orderFor, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
let outcome: (task: FakeTask) => FakeOutcome = (task) => (task.reads < 2 ? { state: "pending" } : successFor(task));
let telegramDown = false;
/** Chats whose user blocked the bot: every call to them is answered 403. */
const blockedChats = new Set<number>();
const { server, kie } = jobServer(calls, {
  outcome: (task) => outcome(task),
  bot: {
    refuse: (call) =>
      blockedChats.has(Number(call.body.chat_id))
        ? { status: 403, description: "Forbidden: bot was blocked by the user" }
        : telegramDown && call.method === "sendPhoto"
          ? { status: 500, description: "Internal Server Error" }
          : undefined,
  },
});
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const BUTTONS_AFTER_RESULT = ["🔁 Repeat", "⚙️ Change parameters", "✨ New generation", "🏠 Main menu"];
const sent = (method: string) => calls.filter((call) => call.method === method);
const texts = () =>
  calls
    .filter((call) => call.method === "sendMessage" || call.method === "editMessageText")
    .map((call) => String(call.body.text));
const buttonsOf = (call: BotCall | undefined) =>
  (
    (call?.body.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] })?.inline_keyboard ??
    []
  )
    .flat()
    .map((button) => button.text);

const HMAC = "test-webhook-hmac-key";
const CALLBACKS = {
  PUBLIC_BASE_URL: "https://bot.example.com",
  KIE_WEBHOOK_HMAC_KEY: HMAC,
  PORT: "0",
  // Polls wait a minute: only the callback can finish the job within the test.
  JOB_POLL_FIRST_SECONDS: "60",
};
const callback = async (
  app: { handleHttp(request: Request): Promise<Response> },
  taskId: string,
  options: { key?: string; ageSeconds?: number } = {},
) => {
  const timestamp = String(Math.floor(Date.now() / 1000) - (options.ageSeconds ?? 0));
  const signature = await signCallback(options.key ?? HMAC, taskId, timestamp);
  return app.handleHttp(
    new Request("https://bot.example.com/kie/callback", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-webhook-timestamp": timestamp,
        "x-webhook-signature": signature,
      },
      body: JSON.stringify({
        code: 200,
        msg: "success",
        data: { task_id: taskId, callbackType: "task_completed" },
      }),
    }),
  );
};

describe("generation end to end", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    telegramDown = false;
    blockedChats.clear();
    calls.length = 0;
    kie.tasks.clear();
    kie.uploads.length = 0;
    outcome = (task) => (task.reads < 2 ? { state: "pending" } : successFor(task));
  });

  async function bot(env: Record<string, string> = {}, seed?: { userId: number; balance: number }) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    if (seed) await seedUser(kvPath, seed.userId, { wallet: walletWith(seed.balance) });
    const started = await startBot(kvPath, calls, { ...FAST_JOBS, ...env }, "real");
    defer(() => started.app.stop().then(() => undefined));
    return { ...started, kvPath };
  }

  const audio = [{ fileId: "voice-1", fileUniqueId: "uv1", kind: "audio" as const, seconds: 12, bytes: 30_000 }];
  const families = [
    { family: "market", modelId: "qwen/text-to-image", values: { prompt: "a red fox" }, method: "sendPhoto" },
    { family: "flux-kontext", modelId: "flux/kontext", values: { prompt: "a red fox" }, method: "sendPhoto" },
    { family: "veo", modelId: "google/veo-3.1", values: { prompt: "a red fox runs" }, method: "sendVideo" },
    {
      family: "runway",
      modelId: "runway/gen-4",
      values: { prompt: "a red fox runs", duration: 5, quality: "720p" },
      method: "sendVideo",
    },
    {
      family: "suno",
      modelId: "suno/v5",
      values: { prompt: "a song about foxes", instrumental: false },
      method: "sendAudio",
    },
    {
      family: "market",
      modelId: "elevenlabs/audio-isolation",
      values: {},
      media: { audio_url: audio },
      method: "sendAudio",
    },
  ] as const;

  const cases = families.flatMap((row) => (["polling", "callback"] as const).map((via) => ({ ...row, via })));
  it.each(cases)("$family: $modelId is held, created, delivered by $via and captured", async (row) => {
    const userId = 700;
    const { app, send } = await bot(row.via === "callback" ? CALLBACKS : {}, { userId, balance: 1_000_000 });
    const user = userOf(userId, "en");
    const generate = await orderFor({ app, send }, userId, row.modelId, row.values, "media" in row ? row.media : {});
    const made = await send(user.press(generate), 2);
    expect(made.map((call) => call.method)).toContain("answerCallbackQuery");
    if (row.via === "callback") {
      // KIE has finished by the time it calls back: no poll is due for a minute.
      outcome = (task) => successFor(task);
      await until(async () => (await userRecords(app.kv, userId)).jobs[0]?.state === "submitted");
      const [created] = [...kie.tasks.values()];
      expect((await callback(app, created?.taskId ?? "")).status).toBe(200);
    }

    await until(async () => (await userRecords(app.kv, userId)).open.length === 0 && sent(row.method).length > 0);
    const [task] = [...kie.tasks.values()];
    expect(task?.family).toBe(row.family);
    const result = sent(row.method)[0];
    expect(sent(row.method)).toHaveLength(row.family === "suno" ? 2 : 1);
    const expected = successFor(task as FakeTask);
    const urls = expected.state === "success" ? (expected.urls ?? []) : [];
    const url = urls[0];
    expect(Object.values(result?.body ?? {})).toContain(url);
    expect(String(result?.body.caption)).toContain("<b>");
    expect(buttonsOf(sent(row.method).at(-1))).toEqual(BUTTONS_AFTER_RESULT);
    // Progress was shown in the order's message, with a chat action while generating.
    expect(texts().some((text) => text.includes("Generating…"))).toBe(true);
    expect(sent("sendChatAction").length).toBeGreaterThan(0);

    const records = await userRecords(app.kv, userId);
    const job = records.jobs[0];
    expect(job).toMatchObject({ state: "delivered", outcome: "succeeded", taskId: task?.taskId });
    const charged = job?.charge.kind === "money" ? job.charge.amount : 0;
    expect(charged).toBeGreaterThan(0);
    expect(records.state.wallet).toMatchObject({ balance: 1_000_000 - charged, holds: {} });
    expect(records.ledger.map((record) => record.entry.type).sort()).toEqual(["capture", "hold"]);
    expect(records.history).toEqual([
      expect.objectContaining({ seq: 0, state: "succeeded", chargedKopecks: charged, resultChunks: 1 }),
    ]);
    // The result lives in a record of its own, written with the success.
    expect(records.results).toEqual([{ seq: 0, chunk: 0, jobId: job?.id, urls }]);
    if ("media" in row) {
      // The user's file went from Telegram to KIE's upload API, and its URL into the field the catalog names.
      expect(sent("getFile")[0]?.body.file_id).toBe("voice-1");
      expect(kie.uploads).toHaveLength(1);
      const input = (task?.body.input ?? {}) as Record<string, unknown>;
      expect(String(input.audio_url)).toMatch(/^https:\/\/tempfile\.redpandaai\.co\/kieai\/uploads\//);
    }
  });

  it("twenty concurrent presses of one Generate button make one job, one hold and one task", async () => {
    const userId = 702;
    const { app, send } = await bot({}, { userId, balance: 1_000_000 });
    const user = userOf(userId, "en");
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await Promise.all(Array.from({ length: 20 }, () => app.dispatch(user.press(generate))));
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0 && sent("sendPhoto").length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(kie.tasks.size).toBe(1);
    expect(sent("sendPhoto")).toHaveLength(1);
    expect(sent("answerCallbackQuery")).toHaveLength(20);
    // The presses after the first only answer: none edits the job's status message to what it shows.
    expect(sharedTelegram.refusals.filter((refusal) => refusal.chatId === userId)).toEqual([]);
    const records = await userRecords(app.kv, userId);
    expect(records.ledger.filter((record) => record.entry.type === "hold")).toHaveLength(1);
    expect(records.jobs).toHaveLength(1);
    // The shard's counters reach the main thread's /metrics.
    const metrics = await (await app.handleHttp(new Request("http://bot.local/metrics"))).text();
    expect(metrics).toContain('jobs_total{state="created"} 1');
    expect(metrics).toContain('jobs_total{state="succeeded"} 1');
    expect(metrics).toContain('kie_calls_total{endpoint="/api/v1/flux/kontext/generate",outcome="ok"} 1');
    expect(metrics).toMatch(/kie_calls_total\{endpoint="\/api\/v1\/flux\/kontext\/record-info",outcome="ok"\} [1-9]/);
  });

  it("a result Telegram cannot take right now is not sent twice: the user is pointed to the history", async () => {
    telegramDown = true;
    const userId = 710;
    const { app, send } = await bot({}, { userId, balance: 50_000 });
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    expect(sent("sendPhoto")).toHaveLength(1);
    expect(texts().some((text) => text.includes("The result could not be sent in full."))).toBe(true);
    const records = await userRecords(app.kv, userId);
    expect(records.history[0]).toMatchObject({ state: "succeeded" });
    expect(records.jobs[0]?.state).toBe("delivered");
  });

  it("a job of a user who blocked the bot meanwhile still ends: released, in the history, no job left open", async () => {
    const userId = 711;
    outcome = () => {
      // The user blocks the bot while the model works; the task then fails.
      blockedChats.add(userId);
      return { state: "fail", code: "501", message: "content policy" };
    };
    const { app, send } = await bot({}, { userId, balance: 50_000 });
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    const records = await userRecords(app.kv, userId);
    expect(records.jobs[0]).toMatchObject({ state: "delivered", outcome: "failed" });
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    expect(records.history[0]).toMatchObject({ state: "failed", chargedKopecks: 0 });
  });

  it("a blocked user's Generate is refused before anything is held or created", async () => {
    const userId = 709;
    const dir = tempDir();
    defer(() => dir.remove());
    await seedUser(`${dir.path}/kv`, userId, { wallet: walletWith(50_000), blocked: true });
    const started = await startBot(`${dir.path}/kv`, calls, FAST_JOBS, "real");
    defer(() => started.app.stop().then(() => undefined));
    const generate = await orderFor(started, userId, "flux/kontext", { prompt: "a fox" });
    const made = await started.send(userOf(userId, "en").press(generate), 2);
    expect(made.find((call) => call.method === "answerCallbackQuery")?.body.text).toContain("Generations are disabled");
    expect(kie.tasks.size).toBe(0);
    const records = await userRecords(started.app.kv, userId);
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    expect(records.ledger).toEqual([]);
  });

  it("a failed task releases the hold, says nothing was charged and offers Retry", async () => {
    outcome = () => ({ state: "fail", code: "501", message: "content policy" });
    const userId = 703;
    const { app, send } = await bot({}, { userId, balance: 50_000 });
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    const last = calls.filter((call) => call.method === "editMessageText").at(-1);
    expect(String(last?.body.text)).toContain("The model could not produce a result.");
    expect(String(last?.body.text)).toContain("Nothing was charged.");
    expect(buttonsOf(last)).toContain("🔁 Try again");
    const records = await userRecords(app.kv, userId);
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    expect(records.ledger.map((record) => record.entry.type).sort()).toEqual(["hold", "release"]);
    expect(records.history[0]).toMatchObject({ state: "failed", chargedKopecks: 0 });
    expect(sent("sendPhoto")).toHaveLength(0);
  });

  it("a success that carries only a text for an image model fails as empty: released, nothing charged", async () => {
    outcome = () => ({ state: "success", urls: [], text: "Вот ваша картинка 🦊 (но без картинки)" });
    const userId = 708;
    const { app, send } = await bot({}, { userId, balance: 50_000 });
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "лиса" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    const last = calls.filter((call) => call.method === "editMessageText").at(-1);
    expect(String(last?.body.text)).toContain("Nothing was charged.");
    const records = await userRecords(app.kv, userId);
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    expect(records.ledger.map((record) => record.entry.type).sort()).toEqual(["hold", "release"]);
    expect(records.history[0]).toMatchObject({ state: "failed", chargedKopecks: 0 });
  });

  it("a job past its deadline times out and releases the hold", async () => {
    outcome = () => ({ state: "pending" });
    const userId = 704;
    const { app, send } = await bot({ JOB_DEADLINE_IMAGE_MIN: "0.005" }, { userId, balance: 50_000 });
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    expect(texts().at(-1)).toContain("The model did not finish in time.");
    const records = await userRecords(app.kv, userId);
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    expect(records.history[0]?.state).toBe("timed_out");
  });

  it("Cancel releases the hold, and a late success is not delivered", async () => {
    outcome = () => ({ state: "pending" });
    const userId = 705;
    const { app, send } = await bot({}, { userId, balance: 50_000 });
    const user = userOf(userId, "en");
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(user.press(generate), 2);
    await until(() => texts().some((text) => text.includes("Generating…")));
    const made = await send(user.press(generate.replace("|y|", "|k|")), 2);
    expect(made.find((call) => call.method === "answerCallbackQuery")?.body.text).toBe("Generation canceled.");
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    outcome = (task) => successFor(task);
    const reads = [...kie.tasks.values()][0]?.reads ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...kie.tasks.values()][0]?.reads).toBe(reads);
    expect(sent("sendPhoto")).toHaveLength(0);
    const records = await userRecords(app.kv, userId);
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    expect(records.history[0]?.state).toBe("canceled");
  });

  it("free generations: used on success, refused with the renewal time beyond the quota, never charged", async () => {
    const userId = 706;
    const { app, send } = await bot({ FREE_DAILY_LIMIT: "1" }, { userId, balance: 0 });
    const user = userOf(userId, "en");
    const first = await orderFor({ app, send }, userId, "z-image", { prompt: "a fox", aspect_ratio: "1:1" });
    await send(user.press(first), 2);
    await until(() => sent("sendPhoto").length === 1);
    const second = await orderFor({ app, send }, userId, "z-image", { prompt: "a fox", aspect_ratio: "1:1" });
    await send(user.press(second), 2);
    await until(() =>
      texts().some((text) => text.includes("Today's free generations are used up. New ones arrive in")),
    );
    expect(kie.tasks.size).toBe(1);
    const records = await userRecords(app.kv, userId);
    expect(records.state.wallet.balance).toBe(0);
    expect(records.state.wallet.free.used).toBe(1);
    expect(records.history[0]).toMatchObject({ free: true, chargedKopecks: 0 });
  });

  it("Telegram refusing a result URL from a host off the allowlist gets a link; the host is never fetched", async () => {
    outcome = () => ({ state: "success", urls: ["https://evil.example.net/x.png"] });
    const userId = 707;
    const { app, send } = await bot({}, { userId, balance: 50_000 });
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    // msw errors on any unhandled request, so reaching here means evil.example.net was not fetched.
    expect(texts().some((text) => text.includes('href="https://evil.example.net/x.png"'))).toBe(true);
    expect(RESULT_HOST).not.toContain("evil");
  });

  it("/history pages through finished jobs; an entry shows its result again and repeats the order", async () => {
    const userId = 708;
    const { app, send } = await bot({}, { userId, balance: 1_000_000 });
    const user = userOf(userId, "en");
    const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
    await send(user.press(generate), 2);
    await until(() => sent("sendPhoto").length === 1);
    const list = await send(user.text("/history"));
    const entryButton = buttonsOf(list[0]).find((text) => text.startsWith("✅"));
    expect(entryButton).toBeDefined();
    let made = await send(user.press("1|e|0"), 2);
    expect(buttonsOf(made.at(-1))).toEqual(
      expect.arrayContaining(["👁 Show result", "🔁 Repeat", "⚙️ Change parameters"]),
    );
    made = await send(user.press("1|r|0"), 2);
    expect(made.some((call) => call.method === "sendPhoto")).toBe(true);
    made = await send(user.press("1|a|0"), 2);
    const confirm = made.find((call) => String(call.body.text).includes("Check your order"));
    expect(String(confirm?.body.text)).toContain("Description: a fox");
  });

  describe("KIE callbacks", () => {
    it("forged, stale and unknown callbacks change nothing; valid duplicates deliver once", async () => {
      outcome = (task) => successFor(task);
      const userId = 720;
      const { app, send } = await bot(CALLBACKS, { userId, balance: 50_000 });
      expect(app.http?.port).toBeGreaterThan(0);
      const generate = await orderFor({ app, send }, userId, "flux/kontext", { prompt: "a fox" });
      await send(userOf(userId, "en").press(generate), 2);
      await until(() => kie.tasks.size === 1);
      const task = [...kie.tasks.values()][0] as FakeTask;
      expect(task.body.callBackUrl).toBe("https://bot.example.com/kie/callback");
      await until(async () => (await userRecords(app.kv, userId)).jobs[0]?.state === "submitted");

      expect((await callback(app, task.taskId, { key: "not-the-key-at-all" })).status).toBe(401);
      expect((await callback(app, task.taskId, { ageSeconds: 600 })).status).toBe(401);
      expect((await callback(app, "task_unknown_1")).status).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(task.reads).toBe(0);
      expect((await userRecords(app.kv, userId)).jobs[0]?.state).toBe("submitted");

      const answers = await Promise.all([callback(app, task.taskId), callback(app, task.taskId)]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
      expect((await callback(app, task.taskId)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sent("sendPhoto")).toHaveLength(1);
      const records = await userRecords(app.kv, userId);
      expect(records.ledger.filter((record) => record.entry.type === "capture")).toHaveLength(1);
    });

    it("the callback route is served over HTTP on the configured port", async () => {
      const { app } = await bot(CALLBACKS);
      server.use(http.post(`http://127.0.0.1:${app.http?.port}/kie/callback`, () => passthrough()));
      const response = await fetch(`http://127.0.0.1:${app.http?.port}/kie/callback`, {
        method: "POST",
        body: "{}",
      });
      expect(response.status).toBe(400);
    });
  });
});
