/**
 * Several instances on one KV: a job another instance was submitting when it
 * stopped (or crashed) is taken over as soon as its heartbeat is gone, not
 * at the next start of some instance. The crash suite found a job left
 * "created" for good after a second process was stopped mid-submission.
 */

import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiveJobMessage } from "../src/bot/job-core.ts";
import { initialUserState, type UserState } from "../src/bot/state.ts";
import { HEARTBEAT_TTL_MS } from "../src/jobs/liveness.ts";
import { emptyWallet } from "../src/ledger/wallet.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiHandlers, startBot } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const USER = 4_060_001;
const calls: BotCall[] = [];
const server = setupServer(...botApiHandlers(calls));
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

/** A user whose order the instance "other" confirmed: 900 kopecks held, its task being created there. */
function createdElsewhere(now: number) {
  const wizard = {
    id: "jg1",
    modelId: "qwen/text-to-image",
    page: 0,
    steps: [],
    optional: [],
    step: 0,
    values: { prompt: "a lighthouse at dusk" },
    media: {},
    inParams: false,
  };
  const state: UserState = {
    ...initialUserState("en"),
    starts: 1,
    wallet: { ...emptyWallet(), balance: 10_000 },
    wizard,
    ordering: "jg1",
  };
  const quote = { ok: true as const, kopecks: 900, free: false, output: "image" as const };
  const ctx = { userId: USER, now, rules: testUserRules({ instanceId: "other" }) };
  return receiveJobMessage(state, { type: "quoted", wizardId: "jg1", target: { chatId: USER }, quote }, ctx);
}

describe("an instance that leaves", () => {
  const defer = useCleanups();

  it("has its job under way taken over within a heartbeat: the hold is released and the user told", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const now = Date.now();
    const turn = createdElsewhere(now);
    expect(turn.state.jobs.jg1).toMatchObject({ state: "created", instance: "other" });
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    let seed = kv
      .atomic()
      .set(["user", USER], turn.state)
      .set(["instance", "other"], { expiresAt: now + HEARTBEAT_TTL_MS }, { expireIn: HEARTBEAT_TTL_MS });
    for (const write of turn.writes ?? []) if (write.op === "set") seed = seed.set(write.key, write.value);
    await seed.commit();
    kv.close();

    const started = await startBot(kvPath, calls, { KV_SHARED: "true" }, "real");
    defer(() => started.app.stop().then(() => undefined));
    // At the start "other" is alive: its job is left to it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await userRecords(started.app.kv, USER)).state.jobs.jg1?.state).toBe("created");

    // "other" stops: its heartbeat goes.
    await started.app.kv.atomic().delete(["instance", "other"]).commit();
    await until(async () => (await userRecords(started.app.kv, USER)).state.jobs.jg1 === undefined, 15_000);
    const records = await userRecords(started.app.kv, USER);
    expect(records.state.wallet).toMatchObject({ balance: 10_000, holds: {} });
    expect(records.ledger.map((record) => record.entry.key).sort()).toEqual(["hold:jg1", "release:jg1"]);
    await until(() =>
      calls.some((call) => call.body.chat_id === USER && String(call.body.text).includes("Nothing was charged")),
    );
  }, 30_000);
});
