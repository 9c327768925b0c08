import { describe, expect, it } from "vitest";
import { workerIndexFor } from "../actors/mod.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { startRendezvous } from "./helpers/rendezvous.ts";
import { startCounters, tempDir } from "./helpers/runtime.ts";

describe.each(["in-thread", "workers"] as const)("isolation and supervision (%s)", (mode) => {
  const defer = useCleanups();

  async function start(limits = {}) {
    const dir = tempDir();
    defer(() => dir.remove());
    const runtime = await startCounters({ mode, kvPath: `${dir.path}/kv`, limits });
    defer(() => runtime.stop());
    return runtime;
  }

  it("runs messages to different actors concurrently, across shards and within one", async () => {
    const { supervisor } = await start();
    // Two actors on different workers, and two more on the same worker as the first.
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const onZero = ids.filter((id) => workerIndexFor(id, 2) === 0).slice(0, 2);
    const onOne = ids.find((id) => workerIndexFor(id, 2) === 1);
    const group = [...onZero, onOne ?? "missing"];
    expect(group).toHaveLength(3);
    const meeting = await startRendezvous(group.length, 2_000);
    defer(() => meeting.close());
    const replies = await Promise.all(
      group.map((id) => supervisor.ask("counter", id, { type: "slow", url: meeting.url })),
    );
    expect(replies.every((reply) => reply.ok)).toBe(true);
    // All three effects were waiting at the server at the same time.
    expect(meeting.stats()).toEqual({ met: 1, missed: 0 });
  });

  it("restarts a failing actor from KV without touching the others", async () => {
    const { supervisor } = await start();
    await supervisor.ask("counter", "fragile", { type: "inc", op: "1" });
    await supervisor.ask("counter", "steady", { type: "inc", op: "1" });
    const [boom, steady] = await Promise.all([
      supervisor.ask("counter", "fragile", { type: "boom" }),
      supervisor.ask("counter", "steady", { type: "inc", op: "2" }),
    ]);
    expect(boom.ok ? "ok" : boom.error.code).toBe("actor_failed");
    expect(steady).toEqual({ ok: true, value: 2 });
    // The failed actor serves again with its durable state.
    expect(await supervisor.ask("counter", "fragile", { type: "inc", op: "2" })).toEqual({ ok: true, value: 2 });
  });

  it("passivates idle actors and reactivates them with their state", async () => {
    const { supervisor } = await start({ idleMs: 40 });
    await supervisor.ask("counter", "sleepy", { type: "inc", op: "1" });
    await supervisor.ask("counter", "sleepy", { type: "inc", op: "2" });
    await expect
      .poll(
        async () =>
          Object.values(await supervisor.stats())
            .flat()
            .reduce((sum, host) => sum + host.resident, 0),
        {
          timeout: 2_000,
        },
      )
      .toBe(0);
    expect(await supervisor.ask("counter", "sleepy", { type: "get" })).toEqual({
      ok: true,
      value: { count: 2, applied: ["1", "2"] },
    });
  });

  it("answers timeout when the reply misses the deadline", async () => {
    const { supervisor } = await start();
    const meeting = await startRendezvous(2, 500);
    defer(() => meeting.close());
    const reply = await supervisor.ask("counter", "late", { type: "slow", url: meeting.url }, 50);
    expect(reply.ok ? "ok" : reply.error.code).toBe("timeout");
  });
});
