/**
 * Jobs end whatever their result or their peers do, end to end (in-thread
 * bot, msw for the Bot API and KIE, a real KV file): a result of 2,000 URLs
 * is kept in result records and the job ends with its money captured, and
 * a job whose status read never comes back ends at its deadline with its
 * hold released.
 */
import { delay, http } from "msw";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HistoryEntry } from "../src/jobs/history.ts";
import { historyKey, resultKey } from "../src/jobs/keys.ts";
import { platform } from "../src/platform/mod.ts";
import type { BotCall } from "./helpers/bot-harness.ts";
import { screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { type FakeOutcome, type FakeTask, RESULT_HOST } from "./helpers/fake-kie.ts";
import { FAST_JOBS, jobServer, orderFor, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
let outcome: (task: FakeTask) => FakeOutcome = () => ({ state: "pending" });
const { server, kie } = jobServer(calls, { outcome: (task) => outcome(task) });
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("jobs that always end", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
    kie.tasks.clear();
    outcome = () => ({ state: "pending" });
  });

  async function bot(userId: number, env: Record<string, string> = {}) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, userId, { wallet: walletWith(1_000_000) });
    const started = await startBot(kvPath, calls, { ...FAST_JOBS, ...env }, "real");
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  it("a result of 2,000 URLs is kept in result records; the job ends and its price is captured", async () => {
    const urls = Array.from({ length: 2_000 }, (_, i) => `${RESULT_HOST}/i/large-${i}-${"ab12".repeat(12)}.png`);
    outcome = () => ({ state: "success", urls });
    const userId = 761;
    const { app, send } = await bot(userId);
    const generate = await orderFor({ app, send }, userId, "qwen/text-to-image", { prompt: "тысяча лис 🦊" });
    await send(userOf(userId, "en").press(generate), 2);
    // The success is durable: its history entry and result records, with the price captured.
    await until(async () => (await userRecords(app.kv, userId)).history.length === 1, 15_000);
    const records = await userRecords(app.kv, userId);
    expect(records.history[0]).toMatchObject({ state: "succeeded", params: { prompt: "тысяча лис 🦊" } });
    expect(records.results.length).toBe(records.history[0]?.resultChunks);
    expect(records.results.length).toBeGreaterThan(1);
    expect(records.results.flatMap((chunk) => chunk.urls)).toEqual(urls);
    expect(records.ledger.map((record) => record.entry.type).sort()).toEqual(["capture", "hold"]);
    expect(records.state.wallet.holds).toEqual({});
    // The user actor's own value holds no result.
    const state = await app.kv.get(["user", userId]);
    expect(JSON.stringify(state.value)).not.toContain("large-0-");
    // And the job ends: delivered, nothing left open.
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0, 60_000);
    expect((await userRecords(app.kv, userId)).jobs[0]).toMatchObject({ state: "delivered", outcome: "succeeded" });
    // The user sees one album of the first ten and every link in one file with the buttons, not 200 albums.
    const albums = calls.filter((call) => call.method === "sendMediaGroup");
    expect(albums).toHaveLength(1);
    expect(((albums[0]?.body.media ?? []) as { media: string }[]).map((item) => item.media)).toEqual(urls.slice(0, 10));
    const documents = calls.filter((call) => call.method === "sendDocument");
    expect(documents).toHaveLength(1);
    expect(documents[0]?.body.reply_markup).toBeDefined();
  }, 90_000);

  it("a job whose status read never comes back ends at its deadline and releases its hold", async () => {
    // KIE takes the task, then never answers a status read (the client gives up only after 20 s).
    server.use(
      http.get(/\/api\/v1\/jobs\/recordInfo/, async () => {
        await delay("infinite");
        return new Response(null);
      }),
    );
    const userId = 762;
    const { app, send } = await bot(userId, { JOB_DEADLINE_IMAGE_MIN: "0.01" });
    const generate = await orderFor({ app, send }, userId, "qwen/text-to-image", { prompt: "лиса" });
    await send(userOf(userId, "en").press(generate), 2);
    await until(async () => (await userRecords(app.kv, userId)).history.length === 1, 8_000);
    const records = await userRecords(app.kv, userId);
    expect(records.history[0]).toMatchObject({ state: "timed_out", chargedKopecks: 0 });
    expect(records.state.wallet).toMatchObject({ balance: 1_000_000, holds: {} });
    expect(records.ledger.map((record) => record.entry.type).sort()).toEqual(["hold", "release"]);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
  }, 30_000);

  it("a history entry of a model KIE dropped still shows, and its result comes back from its result records", async () => {
    const userId = 763;
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, userId, { wallet: walletWith(10_000), historySeq: 1 });
    const urls = [`${RESULT_HOST}/v/sora-fox-1.mp4`, `${RESULT_HOST}/v/sora-fox-2.mp4`];
    const entry = HistoryEntry.parse({
      seq: 0,
      jobId: "job-sora-2",
      modelId: "sora-2-text-to-video",
      output: "video",
      params: { prompt: "Лиса в снегу 🦊" },
      media: {},
      state: "succeeded",
      chargedKopecks: 1_964,
      free: false,
      createdAt: Date.now() - 600_000,
      finishedAt: Date.now() - 500_000,
      resultChunks: 2,
    });
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    await kv
      .atomic()
      .set(historyKey(userId, 0), entry)
      .set(resultKey(userId, 0, 0), { jobId: "job-sora-2", urls: [urls[0]] })
      .set(resultKey(userId, 0, 1), { jobId: "job-sora-2", urls: [urls[1]] })
      .commit();
    kv.close();
    const { app, send } = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => app.stop().then(() => undefined));
    const user = userOf(userId, "en");
    const list = screenOf(await send(user.text("/history")));
    const button = list.buttons.find((candidate) => candidate.text.startsWith("✅"));
    expect(button?.text).toContain("Sora 2 · text → video");
    const opened = screenOf(await send(user.press(button?.callback_data ?? ""), 1));
    const show = opened.buttons.find((candidate) => candidate.text === "👁 Show result");
    await send(user.press(show?.callback_data ?? ""), 1);
    await until(() => calls.some((call) => call.method === "sendMediaGroup" || call.method === "sendVideo"));
    const sent = JSON.stringify(
      calls.filter((call) => call.method === "sendMediaGroup" || call.method === "sendVideo"),
    );
    for (const url of urls) expect(sent).toContain(url);
  });
});
