import { describe, expect, it } from "vitest";
import type { Supervisor } from "../actors/mod.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { startCounters, tempDir } from "./helpers/runtime.ts";

/** Sends an increment until it is applied; `conflict` and `store_failed` mean "not applied". */
async function incrementUntilApplied(supervisor: Supervisor, op: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const reply = await supervisor.ask("counter", "shared", { type: "inc", op });
    if (reply.ok) return attempt;
    expect(["conflict", "store_failed"]).toContain(reply.error.code);
  }
}

describe("fencing between two runtimes on one KV file", () => {
  const defer = useCleanups();

  it.each([
    ["in-thread", "in-thread"],
    ["in-thread", "workers"],
  ] as const)("never loses an update (%s + %s)", async (modeA, modeB) => {
    const dir = tempDir();
    defer(() => dir.remove());
    const path = `${dir.path}/kv`;
    const a = await startCounters({ mode: modeA, kvPath: path, workers: 1, limits: { mailboxBound: 1_000 } });
    defer(() => a.stop());
    const b = await startCounters({ mode: modeB, kvPath: path, workers: 1, limits: { mailboxBound: 1_000 } });
    defer(() => b.stop());

    const perRuntime = 150;
    const retries = await Promise.all([
      ...Array.from({ length: perRuntime }, (_, i) => incrementUntilApplied(a.supervisor, `a${i}`)),
      ...Array.from({ length: perRuntime }, (_, i) => incrementUntilApplied(b.supervisor, `b${i}`)),
    ]);

    const stored = (await a.kv.get<{ count: number; applied: string[] }>(["counter", "shared"])).value;
    expect(stored?.count).toBe(2 * perRuntime);
    expect(new Set(stored?.applied).size).toBe(2 * perRuntime);
    // The two runtimes really did race: some saves lost their versionstamp check and were re-run.
    const conflicts = a.supervisor.store.stats.conflicts + b.supervisor.store.stats.conflicts;
    expect(conflicts + retries.reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
  });
});

describe("resident state with two runtimes on one KV file", () => {
  const defer = useCleanups();

  it("is checked against KV before each turn when revalidating, so a read sees the other runtime's write", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const path = `${dir.path}/kv`;
    const a = await startCounters({ mode: "in-thread", kvPath: path, workers: 1 });
    defer(() => a.stop());
    const b = await startCounters({ mode: "in-thread", kvPath: path, workers: 1 });
    defer(() => b.stop());
    const countIn = async (supervisor: Supervisor) =>
      ((await supervisor.ask("counter", "shared", { type: "get" })) as { value: { count: number } }).value.count;

    await a.supervisor.ask("counter", "shared", { type: "inc", op: "a1" });
    expect(await countIn(a.supervisor)).toBe(1);
    await b.supervisor.ask("counter", "shared", { type: "inc", op: "b1" });
    // A's resident copy is stale, and a read-only turn does not find out by itself.
    expect(await countIn(a.supervisor)).toBe(1);
    await a.supervisor.setRevalidate(true);
    expect(await countIn(a.supervisor)).toBe(2);
    await b.supervisor.ask("counter", "shared", { type: "inc", op: "b2" });
    expect(await countIn(a.supervisor)).toBe(3);
  });
});
