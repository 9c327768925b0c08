import { afterEach, describe, expect, it } from "vitest";
import { startCounters, tempDir } from "./helpers/runtime.ts";

const modes = ["in-thread", "workers"] as const;

describe.each(modes)("actor runtime (%s)", (mode) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function start(limits = {}) {
    const dir = tempDir();
    const runtime = await startCounters({ mode, kvPath: `${dir.path}/kv`, limits });
    cleanup = async () => {
      await runtime.stop();
      dir.remove();
    };
    return runtime;
  }

  it("runs 1,000 concurrent read-modify-writes to one actor one at a time, in order", async () => {
    const { supervisor, kv } = await start({ mailboxBound: 2_000 });
    const replies = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        supervisor.ask("counter", "one", { type: "inc", op: `op${i}`, track: true }),
      ),
    );
    expect(replies.every((reply) => reply.ok)).toBe(true);
    // Each reply is the counter after its own increment: a permutation of 1..1000.
    const values = replies.map((reply) => (reply.ok ? reply.value : 0)).sort((a, b) => Number(a) - Number(b));
    expect(values).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    const stored = await kv.get<{ count: number; applied: string[] }>(["counter", "one"]);
    expect(stored.value?.count).toBe(1_000);
    // Arrival order is kept: op0 was applied first, op999 last.
    expect(stored.value?.applied).toEqual(Array.from({ length: 1_000 }, (_, i) => `op${i}`));
    const probe = await supervisor.ask<{ max: number; turns: number }>("counter", "one", { type: "probe" });
    expect(probe.ok && probe.value.max).toBe(1);
    expect(probe.ok && probe.value.turns).toBe(1_000);
  });

  it("answers overloaded past the mailbox bound and applies every accepted message", async () => {
    const { supervisor, kv } = await start({ mailboxBound: 10 });
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => supervisor.ask("counter", "busy", { type: "inc", op: `op${i}` })),
    );
    const accepted = replies.filter((reply) => reply.ok).length;
    const refused = replies.filter((reply) => !reply.ok && reply.error.code === "overloaded").length;
    expect(refused).toBeGreaterThan(0);
    expect(accepted + refused).toBe(100);
    const stored = await kv.get<{ count: number }>(["counter", "busy"]);
    expect(stored.value?.count).toBe(accepted);
  });

  it("keeps in-memory actors out of KV", async () => {
    const { supervisor, kv } = await start();
    await supervisor.ask("tally", "t", "add");
    const reply = await supervisor.ask("tally", "t", "add");
    expect(reply).toEqual({ ok: true, value: 2 });
    expect((await kv.get(["tally", "t"])).versionstamp).toBeNull();
  });

  it("answers unknown_kind for an actor kind no group hosts", async () => {
    const { supervisor } = await start();
    const reply = await supervisor.ask("nobody", 1, {});
    expect(reply.ok ? "ok" : reply.error.code).toBe("unknown_kind");
  });
});
