import { describe, expect, it } from "vitest";
import { type Result, Supervisor, workerIndexFor } from "../actors/mod.ts";
import { platform } from "../src/platform/mod.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { counterModule, silentLog, startCounters, tempDir } from "./helpers/runtime.ts";

interface Stored {
  count: number;
  applied: string[];
}

describe("worker supervision and durability (workers)", () => {
  const defer = useCleanups();

  async function start(limits = {}) {
    const dir = tempDir();
    defer(() => dir.remove());
    const runtime = await startCounters({ mode: "workers", kvPath: `${dir.path}/kv`, limits });
    defer(() => runtime.stop());
    return runtime;
  }

  it("keeps exactly the acknowledged messages when a worker is killed mid-load", async () => {
    const { supervisor, kv } = await start({ mailboxBound: 1_000 });
    const actors = Array.from({ length: 20 }, (_, i) => `user${i}`);
    const sent: { actor: string; op: string; reply: Promise<Result<unknown>> }[] = [];
    for (let round = 0; round < 40; round++) {
      for (const actor of actors) {
        const op = `${actor}-${round}`;
        sent.push({ actor, op, reply: supervisor.ask("counter", actor, { type: "inc", op }) });
      }
      if (round === 10) await supervisor.killWorker("counters", 0);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const settled = await Promise.all(sent.map(async (entry) => ({ ...entry, result: await entry.reply })));
    const crashed = settled.filter(({ result }) => !result.ok);
    expect(crashed.length).toBeGreaterThan(0);
    expect(crashed.every(({ result }) => !result.ok && result.error.code === "worker_crashed")).toBe(true);
    // Only actors of the killed worker lost messages.
    expect(crashed.every(({ actor }) => workerIndexFor(actor, 2) === 0)).toBe(true);

    for (const actor of actors) {
      const stored = (await kv.get<Stored>(["counter", actor])).value ?? { count: 0, applied: [] };
      const acknowledged = settled.filter((entry) => entry.actor === actor && entry.result.ok).map((entry) => entry.op);
      // Every acknowledged message is durable, and nothing unacknowledged is visible.
      expect(new Set(stored.applied)).toEqual(new Set(acknowledged));
      expect(stored.count).toBe(stored.applied.length);
    }
    // The actors of the restarted worker serve again.
    const again = await supervisor.ask("counter", crashed[0]?.actor ?? "", { type: "inc", op: "after" });
    expect(again.ok).toBe(true);
  });

  it("restarts a worker that crashes, failing its in-flight messages fast", async () => {
    const { supervisor } = await start();
    const victim = ["a", "b", "c", "d"].find((id) => workerIndexFor(id, 2) === 0) ?? "a";
    await supervisor.ask("counter", victim, { type: "inc", op: "1", track: true });
    const crash = await supervisor.ask("counter", victim, { type: "crash" });
    expect(crash.ok ? crash.value : crash.error.code).toMatch(/crashing|worker_crashed/);
    // A fresh worker has counted no turns yet: the crashed one was replaced.
    await expect
      .poll(
        async () => {
          const reply = await supervisor.ask<{ turns: number }>("counter", victim, { type: "probe" }, 500);
          return reply.ok ? reply.value.turns : reply.error.code;
        },
        { timeout: 5_000 },
      )
      .toBe(0);
    expect(await supervisor.ask("counter", victim, { type: "get" })).toEqual({
      ok: true,
      value: { count: 1, applied: ["1"] },
    });
  });

  it("restarts a hung worker; the message in flight fails instead of hanging", async () => {
    const { supervisor } = await start({ heartbeatMs: 50, hangMs: 300 });
    const victim = ["a", "b", "c", "d"].find((id) => workerIndexFor(id, 2) === 1) ?? "b";
    const other = ["a", "b", "c", "d"].find((id) => workerIndexFor(id, 2) === 0) ?? "a";
    const started = performance.now();
    const hung = await supervisor.ask("counter", victim, { type: "hang", ms: 20_000 });
    expect(hung.ok ? "ok" : hung.error.code).toBe("worker_crashed");
    // Failed well before the hang would have ended (or the ask's 30 s deadline).
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await supervisor.ask("counter", other, { type: "inc", op: "x" })).toEqual({ ok: true, value: 1 });
    await expect
      .poll(async () => (await supervisor.ask("counter", victim, { type: "inc", op: "y" }, 1_000)).ok, {
        timeout: 5_000,
      })
      .toBe(true);
  });

  it("re-wires direct routes when the worker they lead to restarts", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kv = await platform.openKv({ kind: "file", path: `${dir.path}/kv` });
    const supervisor = new Supervisor({
      mode: "workers",
      platform,
      kv,
      groups: [
        { name: "shards", kinds: ["relay"], size: 2, module: counterModule },
        { name: "service", kinds: ["tally"], size: 1, module: counterModule, direct: true },
      ],
      log: silentLog,
      logging: { level: "silent", secrets: [] },
      limits: { restartMinMs: 20 },
    });
    await supervisor.start();
    defer(async () => {
      await supervisor.stop(5_000);
      kv.close();
    });
    const relay = async () => {
      await supervisor.ask("relay", "r", { type: "relay", kind: "tally", message: "add" });
      return (await supervisor.ask("relay", "r", { type: "last" })) as Result<Result<number>>;
    };
    expect(await relay()).toEqual({ ok: true, value: { ok: true, value: 1 } });
    expect(await relay()).toEqual({ ok: true, value: { ok: true, value: 2 } });
    await supervisor.killWorker("service", 0);
    // The tally lives in memory: a fresh worker counts from 1 again, reached over a new route.
    await expect
      .poll(
        async () => {
          const reply = await relay();
          return reply.ok ? reply.value : reply.error;
        },
        { timeout: 5_000 },
      )
      .toEqual({ ok: true, value: 1 });
  });
});
