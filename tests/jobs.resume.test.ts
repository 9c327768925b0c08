/**
 * Resuming open jobs with several instances on one KV: a job another live
 * instance is submitting or delivering is left to it and looked at again
 * later; once that instance is gone, the job is taken over. Heartbeats say
 * which instances are alive.
 */
import { describe, expect, it } from "vitest";
import { receiveJobMessage, type UserRules } from "../src/bot/job-core.ts";
import { initialUserState, type UserState } from "../src/bot/state.ts";
import { DEFAULT_DEADLINES } from "../src/jobs/job.ts";
import { HEARTBEAT_TTL_MS, liveInstances, startHeartbeat } from "../src/jobs/liveness.ts";
import { emptyWallet } from "../src/ledger/wallet.ts";
import { platform } from "../src/platform/mod.ts";

const NOW = Date.UTC(2026, 10, 25, 12);
const rules = (instanceId: string): UserRules => ({
  free: { dailyLimit: 0, timeZone: "Europe/Moscow" },
  deadlines: DEFAULT_DEADLINES,
  pollFirstMs: 3_000,
  maxOpenJobs: 3,
  referralBonus: 0,
  welcomeGiftKopecks: 0,
  adminIds: [],
  instanceId,
});
const on = (instanceId: string, now = NOW) => ({ userId: 1, now, rules: rules(instanceId) });

/** A user whose order instance A confirmed: the job holds 900 kopecks and is being submitted by A. */
function createdByA(): UserState {
  const wizard = {
    id: "job-1",
    modelId: "z-image",
    page: 0,
    steps: [],
    optional: [],
    step: 0,
    values: {},
    media: {},
    inParams: false,
  };
  const state: UserState = {
    ...initialUserState("en"),
    wallet: { ...emptyWallet(), balance: 10_000 },
    wizard,
    ordering: "job-1",
  };
  const quote = { ok: true as const, kopecks: 900, free: false, output: "image" as const };
  return receiveJobMessage(state, { type: "quoted", wizardId: "job-1", target: { chatId: 1 }, quote }, on("a")).state;
}

describe("resume with several instances", () => {
  it("leaves a job being submitted by a live instance to it, and takes it over once that instance is gone", () => {
    const state = createdByA();
    expect(state.jobs["job-1"]).toMatchObject({ state: "created", instance: "a" });

    const whileAlive = receiveJobMessage(state, { type: "resume", live: ["a", "b"] }, on("b"));
    expect(whileAlive.state.jobs["job-1"]?.state).toBe("created");
    expect(whileAlive.state.wallet.holds).toEqual(state.wallet.holds);
    expect(whileAlive.effects ?? []).toEqual([]);
    // A second look is queued.
    expect(whileAlive.writes).toEqual([
      expect.objectContaining({ op: "enqueue", value: { t: "resume", userId: 1 }, delay: 30_000 }),
    ]);

    const afterA = receiveJobMessage(state, { type: "resume", live: ["b"] }, on("b", NOW + 40_000));
    expect(afterA.state.jobs["job-1"]).toMatchObject({ state: "failed", instance: "b" });
    expect(afterA.state.wallet).toMatchObject({ balance: 10_000, holds: {} });
  });

  it("leaves this instance's own job under way alone when a later look comes for another instance's jobs", () => {
    const state = createdByA();
    const later = receiveJobMessage(state, { type: "resume", live: ["a"] }, on("a", NOW + 40_000));
    expect(later.state.jobs["job-1"]).toMatchObject({ state: "created", instance: "a" });
    expect(later.state.wallet.holds).toEqual(state.wallet.holds);
    expect(later.effects ?? []).toEqual([]);
    expect(later.writes ?? []).toEqual([]);
  });

  it("reads a submitted job's status at once wherever it runs, and leaves a delivery under way to its instance", () => {
    const submitted = receiveJobMessage(
      createdByA(),
      { type: "submitted", jobId: "job-1", taskId: "task-1", family: "market" },
      on("a"),
    ).state;
    const resumed = receiveJobMessage(submitted, { type: "resume", live: ["a", "b"] }, on("b"));
    expect(resumed.effects).toEqual([expect.objectContaining({ type: "checkStatus", via: "resume" })]);

    const delivering = receiveJobMessage(
      submitted,
      {
        type: "status",
        jobId: "job-1",
        via: "poll",
        seq: 0,
        status: { state: "failed", failCode: "x", failMessage: "no" },
      },
      on("a"),
    ).state;
    expect(delivering.jobs["job-1"]).toMatchObject({ state: "failed", instance: "a" });
    const left = receiveJobMessage(delivering, { type: "resume", live: ["a"] }, on("b"));
    expect(left.effects ?? []).toEqual([]);
    const taken = receiveJobMessage(delivering, { type: "resume", live: [] }, on("b"));
    expect(taken.effects).toEqual([expect.objectContaining({ type: "deliver", resumed: true })]);
  });

  it("knows an instance as alive while its heartbeat lasts, and not after it stops or expires", async () => {
    const kv = await platform.openKv({ kind: "memory" });
    let now = NOW;
    try {
      const a = await startHeartbeat(kv, "a", () => now);
      const b = await startHeartbeat(kv, "b", () => now);
      expect((await liveInstances(kv, now)).sort()).toEqual(["a", "b"]);
      await b.stop();
      expect(await liveInstances(kv, now)).toEqual(["a"]);
      now += HEARTBEAT_TTL_MS + 1;
      expect(await liveInstances(kv, now)).toEqual([]);
      await a.stop();
    } finally {
      kv.close();
    }
  });
});
