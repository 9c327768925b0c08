/**
 * Two bot processes (as `npm start` runs them) on one KV file, both serving
 * Telegram's webhook for the same users at once, as behind a load balancer:
 * double taps of Generate and one update delivered to both, admin credits
 * alternating between them. No state update is lost, no one is charged
 * twice, no task is created twice and no result is delivered twice.
 */
import { describe, expect, it } from "vitest";
import { platform } from "../src/platform/mod.ts";
import { TEST_TOKEN } from "./helpers/app.ts";
import { startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { startFakeBotApi } from "./helpers/fake-bot-api.ts";
import { startFakeKieServer } from "./helpers/fake-kie-server.ts";
import { orderFor, priceOf, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { type RunningBot, startBotProcess } from "./helpers/process.ts";
import { tempDir } from "./helpers/runtime.ts";

const KIE_KEY = "kie-test-key-123";
const SECRET = "webhook-secret-0123456789";
const ADMIN = 500;
const USERS = [601, 602, 603, 604, 605];
const SEEDED = 50_000;
const MODEL = "qwen/text-to-image";
/** Two credits per user (kopecks), different for each so that a lost or doubled one shows in the sum. */
const creditsOf = (index: number) => [100 * (index + 1), 1_000 * (index + 1)];

describe("two bot processes on one KV file, webhooks for the same users", () => {
  const defer = useCleanups();

  it("apply every credit once, charge each order once, create one task and deliver one result per order", async () => {
    const fake = await startFakeBotApi();
    defer(() => fake.close());
    const kie = await startFakeKieServer({ apiKey: KIE_KEY, generationMs: 500 });
    defer(() => kie.close());
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/bot.kv`;
    const upstream = {
      TELEGRAM_API_ROOT: fake.apiRoot,
      KIE_API_BASE_URL: kie.baseUrl,
      KIE_UPLOAD_BASE_URL: kie.baseUrl,
      FREE_DAILY_LIMIT: "0",
    };

    // Before the processes start: users with money and an order at its confirmation (as after Repeat).
    for (const userId of USERS) await seedUser(kvPath, userId, { wallet: walletWith(SEEDED) });
    const generate = new Map<number, string>();
    const prompt = (userId: number) => `a red fox for user ${userId}`;
    const prep = await startBot(kvPath, [], upstream, "real");
    let price: number;
    try {
      for (const userId of USERS) generate.set(userId, await orderFor(prep, userId, MODEL, { prompt: prompt(userId) }));
      price = await priceOf(prep, MODEL, { prompt: prompt(USERS[0] ?? 0) });
    } finally {
      await prep.app.stop();
    }
    expect(price).toBeGreaterThan(0);
    expect(price).toBeLessThan(SEEDED);
    fake.calls.length = 0;

    const env = {
      ...upstream,
      BOT_TOKEN: TEST_TOKEN,
      KIE_API_KEY: KIE_KEY,
      KV_PATH: kvPath,
      BOT_MODE: "webhook",
      PUBLIC_BASE_URL: "https://bot.example.com",
      KIE_WEBHOOK_HMAC_KEY: "kie-hmac-key-0123",
      WEBHOOK_SECRET: SECRET,
      ADMIN_IDS: String(ADMIN),
      SHARDS: "1",
      // Several instances on one KV: actors check their resident state before each turn.
      KV_SHARED: "true",
      PORT: "0",
      JOB_POLL_FIRST_SECONDS: "0.05",
      TELEGRAM_MESSAGES_PER_SECOND: "10000",
      TELEGRAM_CHAT_MESSAGES_PER_SECOND: "10000",
      LOG_LEVEL: "info",
    };
    const bots: RunningBot[] = [startBotProcess(env, dir.path), startBotProcess(env, dir.path)];
    for (const bot of bots) {
      defer(async () => {
        if (bot.child.exitCode === null && bot.child.signalCode === null) {
          bot.child.kill("SIGKILL");
          await bot.exited;
        }
      });
    }
    const ports = await Promise.all(
      bots.map(async (bot) => Number((await bot.waitFor((line) => line.msg === "serving HTTP", 20_000)).port)),
    );
    await Promise.all(bots.map((bot) => bot.waitFor((line) => line.msg === "ready", 20_000)));
    expect(ports.every((port) => port > 0)).toBe(true);

    const post = async (index: number, update: unknown) => {
      const response = await fetch(`http://127.0.0.1:${ports[index]}/telegram/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
        body: JSON.stringify(update),
      });
      return response.status;
    };

    // All at once, for every user: one press of Generate delivered to both processes (Telegram retrying
    // through the other one) and a double tap, one press to each; from the admin, two credits per user
    // alternating between the processes, the first also redelivered to the other one. Which process gets
    // a user's presses first alternates from user to user: its 200 for the first one (the update is
    // recorded) opens the rest of that user's presses, so that both processes win some orders.
    const admin = userOf(ADMIN, "en");
    let expectedDone = 0;
    const pressIds = new Map<number, string[]>();
    const sending: Promise<number[]>[] = [];
    USERS.forEach((userId, index) => {
      const user = userOf(userId, "en");
      const data = generate.get(userId) ?? "";
      const [both, tap, otherTap] = [user.press(data), user.press(data), user.press(data)];
      pressIds.set(
        userId,
        [both, tap, otherTap].map((press) => String(press.callback_query?.id)),
      );
      const first = index % 2;
      sending.push(
        post(first, both).then((status) =>
          Promise.all([post(1 - first, both), post(first, tap), post(1 - first, otherTap)]).then((rest) => [
            status,
            ...rest,
          ]),
        ),
      );
      creditsOf(index).forEach((kopecks, k) => {
        const credit = admin.text(`/credit ${userId} ${kopecks / 100} two processes ${k}`);
        const to = (index + k) % 2;
        sending.push(Promise.all(k === 0 ? [post(to, credit), post(1 - to, credit)] : [post(to, credit)]));
        expectedDone++;
      });
    });
    const statuses = (await Promise.all(sending)).flat();
    expect(statuses).toEqual(statuses.map(() => 200));

    const sentTo = (method: string, chatId: number) =>
      fake.calls.filter((call) => call.method === method && call.payload.chat_id === chatId);
    const adminDone = () =>
      fake.calls.filter((call) => call.payload.chat_id === ADMIN && String(call.payload.text).startsWith("Done."));
    // Done when every result and every admin answer went out and KV has no open job left (the
    // "delivered" commit follows the send), read through a connection of our own, closed before the stop.
    const watcher = await platform.openKv({ kind: "file", path: kvPath });
    try {
      const openJobs = async () => {
        let open = 0;
        for await (const _ of watcher.list({ prefix: ["open_job"] })) open++;
        return open;
      };
      await until(
        async () =>
          USERS.every((userId) => sentTo("sendPhoto", userId).length > 0) &&
          adminDone().length >= expectedDone &&
          (await openJobs().catch(() => 1)) === 0,
        15_000,
      ).catch(async () => {
        // Where each unfinished order stands: its job in KV and the status reads its KIE task got.
        const stuck: string[] = [];
        for (const userId of USERS) {
          const { jobs } = await userRecords(watcher, userId);
          const task = [...kie.tasks.values()].find(
            (t) => (t.body.input as { prompt?: unknown }).prompt === prompt(userId),
          );
          const job = jobs[0];
          if (job?.state === "delivered") continue;
          stuck.push(
            `user ${userId}: job ${job?.id} ${job?.state} polls=${job?.polls}, KIE task ${task?.taskId} ` +
              `read ${task?.readsAt.length ?? 0} times (done: ${task?.succeededAt !== undefined}), ` +
              `results sent ${sentTo("sendPhoto", userId).length}`,
          );
        }
        const problems = bots.flatMap((bot) => bot.lines.filter((line) => Number(line.level) >= 40));
        throw new Error(
          `not everything was delivered within 15 s: ${stuck.join("; ")}; ` +
            `admin told "Done." ${adminDone().length}/${expectedDone}; ` +
            `warnings and errors: ${JSON.stringify(problems).slice(0, 2_000)}`,
        );
      });
    } finally {
      watcher.close();
    }

    for (const bot of bots) bot.child.kill("SIGTERM");
    expect(await Promise.all(bots.map((bot) => bot.exited))).toEqual([0, 0]);

    // Calls are recorded by the fake as they arrive: after both processes exited, nothing more can come.
    expect(adminDone()).toHaveLength(expectedDone);
    const tasks = [...kie.tasks.values()];
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    try {
      for (const [index, userId] of USERS.entries()) {
        const credited = creditsOf(index).reduce((sum, kopecks) => sum + kopecks, 0);
        const own = tasks.filter((task) => (task.body.input as { prompt?: unknown }).prompt === prompt(userId));
        expect(own, `KIE tasks of user ${userId}`).toHaveLength(1);
        expect(sentTo("sendPhoto", userId), `results sent to user ${userId}`).toHaveLength(1);
        expect(sentTo("sendMediaGroup", userId)).toHaveLength(0);
        expect(String(sentTo("sendPhoto", userId)[0]?.payload.photo)).toContain(own[0]?.taskId);
        // Three different presses, one of them delivered to both processes: each answered exactly once.
        for (const id of pressIds.get(userId) ?? []) {
          const answers = fake.calls.filter(
            (call) => call.method === "answerCallbackQuery" && call.payload.callback_query_id === id,
          );
          expect(answers, `answers to press ${id} of user ${userId}`).toHaveLength(1);
        }

        const records = await userRecords(kv, userId);
        expect(records.state.wallet, `wallet of user ${userId}`).toMatchObject({
          balance: SEEDED + credited - price,
          holds: {},
        });
        expect(records.state.jobs).toEqual({});
        expect(records.open).toHaveLength(0);
        expect(records.jobs).toHaveLength(1);
        expect(records.jobs[0]).toMatchObject({
          state: "delivered",
          outcome: "succeeded",
          taskId: own[0]?.taskId,
          charge: { kind: "money", amount: price },
        });
        expect(records.history).toEqual([
          expect.objectContaining({ seq: 0, state: "succeeded", chargedKopecks: price }),
        ]);
        expect(records.state.historySeq).toBe(1);

        const ledger = records.ledger as unknown as { entry: { type: string }; amount: number }[];
        expect(ledger.map((record) => record.entry.type).sort()).toEqual([
          "adjustment",
          "adjustment",
          "capture",
          "hold",
        ]);
        const adjustments = ledger.filter((record) => record.entry.type === "adjustment");
        expect(adjustments.map((record) => record.amount).sort((a, b) => a - b)).toEqual(creditsOf(index));
        const moved = ledger.reduce(
          (sum, record) =>
            sum +
            (record.entry.type === "adjustment" ? record.amount : record.entry.type === "capture" ? -record.amount : 0),
          0,
        );
        expect(SEEDED + moved).toBe(records.state.wallet.balance);
      }
    } finally {
      kv.close();
    }
  }, 60_000);
});
