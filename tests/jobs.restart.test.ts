/**
 * A restart with a job in every non-final state: a job whose task was
 * being created, a submitted job, and final jobs whose delivery was under
 * way. Each completes or fails correctly, nothing is delivered twice and
 * every ledger adds up.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { initialUserState } from "../src/bot/state.ts";
import { historyEntryOf } from "../src/jobs/history.ts";
import type { JobRecord } from "../src/jobs/job.ts";
import { historyKey, openJobKey } from "../src/jobs/keys.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { type FakeOutcome, type FakeTask, successFor } from "./helpers/fake-kie.ts";
import { FAST_JOBS, jobServer, orderFor, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
let outcome: (task: FakeTask) => FakeOutcome = () => ({ state: "pending" });
const { server, kie } = jobServer(calls, { outcome: (task) => outcome(task) });
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
const defer = useCleanups();

const BALANCE = 100_000;
const to = (chatId: number, method: string) =>
  calls.filter((call) => call.method === method && call.body.chat_id === chatId);

function finishedJob(id: string, userId: number, state: "succeeded" | "failed", now: number): JobRecord {
  return {
    id,
    userId,
    chatId: userId,
    lang: "en",
    modelId: "flux/kontext",
    output: "image",
    params: { prompt: "a fox" },
    media: {},
    charge: { kind: "money", amount: 500 },
    state,
    family: "flux-kontext",
    taskId: `seeded-${id}`,
    polls: 3,
    createdAt: now - 60_000,
    updatedAt: now - 1_000,
    deadlineAt: now + 240_000,
    deliveringAt: now - 1_000,
    historySeq: 0,
    ...(state === "succeeded" ? { resultChunks: 0 } : { failure: { code: "generation_failed", message: "boom" } }),
  };
}

it("resumes every open job after a restart: none lost, none delivered twice, ledgers consistent", async () => {
  const dir = tempDir();
  defer(() => dir.remove());
  const kvPath = `${dir.path}/kv`;
  for (const userId of [11, 12]) await seedUser(kvPath, userId, { wallet: walletWith(BALANCE) });

  // First run: user 11's task is running at KIE; user 12's is still being created when the process stops.
  const first = await startBot(kvPath, calls, FAST_JOBS, "real");
  const submitted = await orderFor(first, 11, "flux/kontext", { prompt: "a fox" });
  await first.send(userOf(11, "en").press(submitted), 2);
  await until(() => [...kie.tasks.values()].some((task) => task.reads > 0));
  kie.state.createDelayMs = 30_000;
  const creating = await orderFor(first, 12, "flux/kontext", { prompt: "a fox" });
  await first.send(userOf(12, "en").press(creating), 2);
  await until(async () => (await userRecords(first.app.kv, 12)).jobs.some((job) => job.state === "created"));
  await first.app.stop(200);

  // While it is down: users 13 and 14 have final jobs whose delivery had started (written as the runtime does).
  const now = Date.now();
  const kv = await platform.openKv({ kind: "file", path: kvPath });
  for (const [userId, state] of [
    [13, "succeeded"],
    [14, "failed"],
  ] as const) {
    const job = finishedJob(`j${userId}`, userId, state, now);
    const captured = state === "succeeded" ? 500 : 0;
    await kv
      .atomic()
      .set(["user", userId], {
        ...initialUserState("en"),
        starts: 1,
        wallet: walletWith(BALANCE - captured),
        jobs: { [job.id]: job },
        historySeq: 1,
      })
      .set(historyKey(userId, 0), historyEntryOf(job, 0, now - 1_000))
      .set(openJobKey(userId, job.id), true)
      .commit();
  }
  kv.close();

  // Second run: KIE has finished user 11's task.
  calls.length = 0;
  kie.state.createDelayMs = undefined;
  outcome = (task) => successFor(task);
  const second = await startBot(kvPath, calls, FAST_JOBS, "real");
  defer(() => second.app.stop().then(() => undefined));
  await until(async () => {
    for (const userId of [11, 12, 13, 14]) {
      if ((await userRecords(second.app.kv, userId)).open.length > 0) return false;
    }
    return true;
  });

  // 11: its task is read again and the result delivered once, and paid for.
  expect(to(11, "sendPhoto")).toHaveLength(1);
  const eleven = await userRecords(second.app.kv, 11);
  const price = eleven.jobs[0]?.charge.kind === "money" ? eleven.jobs[0].charge.amount : 0;
  expect(eleven.state.wallet).toMatchObject({ balance: BALANCE - price, holds: {} });
  expect(eleven.ledger.map((record) => record.entry.type).sort()).toEqual(["capture", "hold"]);

  // 12: whether KIE got the create request is unknown, so the job fails and nothing is charged.
  const twelve = await userRecords(second.app.kv, 12);
  expect(twelve.jobs[0]).toMatchObject({ state: "delivered", outcome: "failed", failure: { code: "interrupted" } });
  expect(twelve.state.wallet).toMatchObject({ balance: BALANCE, holds: {} });
  expect(twelve.ledger.map((record) => record.entry.type).sort()).toEqual(["hold", "release"]);
  expect(
    calls.some((call) => call.body.chat_id === 12 && String(call.body.text).includes("Nothing was charged.")),
  ).toBe(true);

  // 13: its result may already have gone out: no second photo, a pointer to the history instead.
  expect(to(13, "sendPhoto")).toHaveLength(0);
  expect(to(13, "sendMessage").some((call) => String(call.body.text).includes("The bot restarted."))).toBe(true);
  expect((await userRecords(second.app.kv, 13)).state.wallet.balance).toBe(BALANCE - 500);

  // 14: the failure is told (again, at most), nothing charged.
  expect(to(14, "sendMessage").some((call) => String(call.body.text).includes("Nothing was charged."))).toBe(true);
  for (const userId of [13, 14]) {
    const records = await userRecords(second.app.kv, userId);
    expect(records.state.jobs).toEqual({});
    expect(records.jobs[0]?.state ?? "delivered").toBe("delivered");
  }
});
