/**
 * A delivery that reached nothing (Telegram down or flooding, a user who
 * blocked the bot for a while) is tried again later, with the jobs' one
 * backoff, until the user is told or the tries run out; a user gone for
 * good is not tried again. The crash suite found a captured job whose user
 * never saw its result: after a restart, its pointer to the history met a
 * 403 and the job was marked delivered all the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_DELIVERY_ATTEMPTS, receiveJobMessage, type UserContext } from "../src/bot/job-core.ts";
import { initialUserState, type UserState } from "../src/bot/state.ts";
import { historyEntryOf } from "../src/jobs/history.ts";
import type { Job, JobRecord } from "../src/jobs/job.ts";
import { historyKey, jobKey, openJobKey, QueueMessage } from "../src/jobs/keys.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, sharedTelegram, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { type FakeOutcome, type FakeTask, successFor } from "./helpers/fake-kie.ts";
import { FAST_JOBS, jobServer, orderFor, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const BALANCE = 100_000;
const PRICE = 500;
const BLOCKED = { status: 403, description: "Forbidden: bot was blocked by the user" };
const DEACTIVATED = { status: 403, description: "Forbidden: user is deactivated" };
/** Telegram flooded past what the API's own retries wait out (they wait out 5xx themselves, for seconds). */
const FLOODED = { status: 429, description: "Too Many Requests: retry after 40" };

/** What Telegram answers each chat now (undefined: it takes the call). */
const refusals = new Map<number, { status: number; description: string }>();
const calls: BotCall[] = [];
let outcome: (task: FakeTask) => FakeOutcome = (task) => successFor(task);
const { server } = jobServer(calls, {
  outcome: (task) => outcome(task),
  bot: { refuse: (call) => refusals.get(Number(call.body.chat_id)) },
});
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
const defer = useCleanups();

const toChat = (chatId: number) => calls.filter((call) => call.body.chat_id === chatId);
/** Messages in the chat, as Telegram keeps them (only what it took), with a button to history entry `seq`. */
const pointersShown = (chatId: number, seq: number) =>
  sharedTelegram
    .messages(chatId)
    .filter((message) => JSON.stringify(message.markup ?? {}).includes(`"callback_data":"1|r|${seq}"`));

/** A succeeded job whose delivery had started when the process stopped (written as the runtime does). */
function capturedJob(userId: number, now: number): JobRecord {
  return {
    id: `j${userId}`,
    userId,
    chatId: userId,
    lang: "en",
    modelId: "flux/kontext",
    output: "image",
    params: { prompt: "a fox" },
    media: {},
    charge: { kind: "money", amount: PRICE },
    state: "succeeded",
    family: "flux-kontext",
    taskId: `seeded-${userId}`,
    polls: 3,
    createdAt: now - 60_000,
    updatedAt: now - 1_000,
    deadlineAt: now + 240_000,
    deliveringAt: now - 1_000,
    instance: "a-stopped-instance",
    historySeq: 0,
    resultChunks: 0,
  };
}

async function seedCapturedJob(kvPath: string, userId: number): Promise<void> {
  const now = Date.now();
  const job = capturedJob(userId, now);
  const kv = await platform.openKv({ kind: "file", path: kvPath });
  try {
    await kv
      .atomic()
      .set(["user", userId], {
        ...initialUserState("en"),
        starts: 1,
        wallet: walletWith(BALANCE - PRICE),
        jobs: { [job.id]: job },
        historySeq: 1,
      })
      .set(jobKey(userId, job.id), job)
      .set(historyKey(userId, 0), historyEntryOf(job, 0, now - 1_000))
      .set(openJobKey(userId, job.id), true)
      .commit();
  } finally {
    kv.close();
  }
}

async function botOn(kvPath: string) {
  const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
  defer(() => bot.app.stop().then(() => undefined));
  return bot;
}

async function finished(bot: Awaited<ReturnType<typeof startBot>>, userId: number) {
  await until(async () => (await userRecords(bot.app.kv, userId)).open.length === 0, 15_000);
  return userRecords(bot.app.kv, userId);
}

describe("a delivery that reached nothing", () => {
  it("after a restart, while the user has the bot blocked, points to the result once they unblock it", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const USER = 71;
    await seedCapturedJob(kvPath, USER);
    refusals.set(USER, BLOCKED);
    const bot = await botOn(kvPath);

    // The resume's pointer meets the block, and so does the next try; then the user unblocks the bot.
    await until(() => toChat(USER).length >= 2, 10_000);
    refusals.delete(USER);
    await until(() => pointersShown(USER, 0).length > 0, 10_000);
    const records = await finished(bot, USER);

    expect(pointersShown(USER, 0)).toHaveLength(1);
    expect(pointersShown(USER, 0)[0]?.text).toContain("Your generation is ready.");
    // A pointer only: the result may have gone out before the restart.
    expect(toChat(USER).filter((call) => call.method === "sendPhoto")).toHaveLength(0);
    expect(records.jobs[0]).toMatchObject({ state: "delivered", outcome: "succeeded" });
    expect(records.state.jobs).toEqual({});
    // Paid once, not given back: the user got it.
    expect(records.state.wallet).toMatchObject({ balance: BALANCE - PRICE, holds: {} });
  });

  it("of a new result, while Telegram is flooded and then the user blocks the bot, is told once both pass", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const USER = 72;
    await seedUser(kvPath, USER, { wallet: walletWith(BALANCE) });
    const bot = await botOn(kvPath);
    // KIE finishes only once Telegram refuses this chat: the result and its pointer both fail.
    let ready = false;
    outcome = (task) => (ready ? successFor(task) : { state: "pending" });
    const go = await orderFor(bot, USER, "flux/kontext", { prompt: "a fox" });
    await bot.send(userOf(USER, "en").press(go), 2);
    refusals.set(USER, FLOODED);
    ready = true;
    // The photo fails, then the pointer to the history, then the first try again; then the user blocks the bot.
    const sendsAfterPhoto = () => {
      const made = toChat(USER);
      const photo = made.findIndex((call) => call.method === "sendPhoto");
      return photo < 0 ? 0 : made.slice(photo).filter((call) => call.method === "sendMessage").length;
    };
    await until(() => sendsAfterPhoto() >= 2, 10_000);
    refusals.set(USER, BLOCKED);
    const blocked = sendsAfterPhoto();
    await until(() => sendsAfterPhoto() > blocked, 10_000);
    refusals.delete(USER);

    const records = await finished(bot, USER);
    const seq = records.jobs[0]?.historySeq ?? -1;
    expect(pointersShown(USER, seq)).toHaveLength(1);
    expect(records.jobs[0]).toMatchObject({ state: "delivered", outcome: "succeeded" });
    expect(records.history).toHaveLength(1);
    const price = records.jobs[0]?.charge.kind === "money" ? records.jobs[0].charge.amount : 0;
    expect(records.state.wallet).toMatchObject({ balance: BALANCE - price, holds: {} });
    expect(records.ledger.map((record) => record.entry.type).sort()).toEqual(["capture", "hold"]);
  });

  it("is tried a bounded number of times for a user who never unblocks the bot; the result stays in the history", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const USER = 73;
    await seedCapturedJob(kvPath, USER);
    refusals.set(USER, BLOCKED);
    const bot = await botOn(kvPath);

    const records = await finished(bot, USER);
    // Each try is one pointer, every one refused.
    expect(toChat(USER).filter((call) => call.method === "sendMessage")).toHaveLength(MAX_DELIVERY_ATTEMPTS);
    expect(pointersShown(USER, 0)).toHaveLength(0);
    expect(records.jobs[0]).toMatchObject({ state: "delivered", outcome: "succeeded" });
    expect(records.history[0]).toMatchObject({ state: "succeeded" });
    expect(records.state.wallet).toMatchObject({ balance: BALANCE - PRICE, holds: {} });
  });

  it("to a deleted account is not tried again", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const USER = 74;
    await seedCapturedJob(kvPath, USER);
    refusals.set(USER, DEACTIVATED);
    const bot = await botOn(kvPath);

    const records = await finished(bot, USER);
    // Long enough for a second try had one been queued.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(toChat(USER)).toHaveLength(1);
    expect(records.jobs[0]).toMatchObject({ state: "delivered", outcome: "succeeded" });
  });
});

describe("the user actor, after a delivery that reached nothing", () => {
  const USER = 75;
  const now = Date.UTC(2026, 11, 2, 12);
  const ctx: UserContext = { userId: USER, now, rules: testUserRules() };
  const job = capturedJob(USER, now) as Job;
  const state: UserState = { ...initialUserState("en"), jobs: { [job.id]: job }, historySeq: 1 };

  it("keeps the job open and queues the next try, later each time, until the last", () => {
    let current = state;
    const delays: number[] = [];
    for (let attempt = 1; attempt < MAX_DELIVERY_ATTEMPTS; attempt++) {
      const failed = receiveJobMessage(current, { type: "delivered", jobId: job.id, unsent: true }, ctx);
      expect(failed.state.jobs[job.id]).toMatchObject({ state: "succeeded", deliveries: attempt });
      expect(failed.writes?.some((write) => write.op === "delete")).toBe(false);
      const queued = failed.writes?.find((write) => write.op === "enqueue");
      if (queued?.op !== "enqueue") throw new Error("no try queued");
      expect(QueueMessage.parse(queued.value)).toEqual({ t: "delivery", userId: USER, jobId: job.id, attempt });
      delays.push(queued.delay ?? 0);
      // The try that is due tells the user again, by a pointer; a duplicate of an earlier one does nothing.
      const due = receiveJobMessage(failed.state, { type: "deliveryDue", jobId: job.id, attempt }, ctx);
      expect(due.effects).toMatchObject([{ type: "deliver", resumed: true, job: { id: job.id, deliveries: attempt } }]);
      const stale = receiveJobMessage(failed.state, { type: "deliveryDue", jobId: job.id, attempt: attempt - 1 }, ctx);
      expect(stale.effects ?? []).toEqual([]);
      current = failed.state;
    }
    expect(delays[delays.length - 1]).toBeGreaterThan(delays[0] ?? 0);
    const last = receiveJobMessage(current, { type: "delivered", jobId: job.id, unsent: true }, ctx);
    expect(last.state.jobs).toEqual({});
    expect(last.writes).toContainEqual({ op: "delete", key: openJobKey(USER, job.id) });
    expect(last.writes?.some((write) => write.op === "enqueue")).toBe(false);
  });

  it("of a job delivered meanwhile ignores the try", () => {
    const told = receiveJobMessage(state, { type: "delivered", jobId: job.id }, ctx);
    const due = receiveJobMessage(told.state, { type: "deliveryDue", jobId: job.id, attempt: 1 }, ctx);
    expect(due.effects ?? []).toEqual([]);
  });
});
