import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { Store } from "../actors/mod.ts";
import { platform } from "../src/platform/mod.ts";
import type { KvKey, KvStore } from "../src/platform/types.ts";
import { silentLog, startCounters, tempDir } from "./helpers/runtime.ts";

const memoryKv = () => platform.openKv({ kind: "memory" });

describe("store (group commit over one KV connection)", () => {
  it("groups saves posted together into one atomic commit", async () => {
    const kv = await memoryKv();
    const store = new Store(kv, { log: silentLog, limits: platform.kvLimits });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.commit({ key: ["user", i], expected: null, value: { i } })),
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    // As few atomic commits as the KV client's check limit allows.
    expect(store.stats).toMatchObject({ commits: 50, batches: Math.ceil(50 / platform.kvLimits.maxChecks) });
    expect((await kv.get(["user", 49])).value).toEqual({ i: 49 });
    kv.close();
  });

  it("fails only the stale save of a batch and acknowledges only durable ones", async () => {
    const kv = await memoryKv();
    const acked: string[] = [];
    const store = new Store(kv, {
      log: silentLog,
      limits: platform.kvLimits,
      onCommitted: (acks) => acked.push(...acks.map((ack) => ack.askId)),
    });
    const first = await store.commit({ key: ["user", 1], expected: null, value: 1 });
    if (!first.ok) throw new Error("setup failed");
    const [stale, fresh, next] = await Promise.all([
      store.commit({ key: ["user", 1], expected: null, value: 2, ack: { askId: "stale", reply: 0 } }),
      store.commit({ key: ["user", 2], expected: null, value: 2, ack: { askId: "fresh", reply: 0 } }),
      store.commit({ key: ["user", 1], expected: first.versionstamp, value: 3, ack: { askId: "next", reply: 0 } }),
    ]);
    expect(stale).toEqual({ ok: false, reason: "conflict" });
    expect(fresh.ok && next.ok).toBe(true);
    expect(acked.sort()).toEqual(["fresh", "next"]);
    expect((await kv.get(["user", 1])).value).toBe(3);
    kv.close();
  });

  it("commits extra writes atomically with the state", async () => {
    const kv = await memoryKv();
    const store = new Store(kv, { log: silentLog, limits: platform.kvLimits });
    await store.commit({
      key: ["user", 7],
      expected: null,
      value: { balance: 100 },
      writes: [{ op: "set", key: ["ledger", 7, 1], value: { amount: 100 } }],
    });
    expect((await kv.get(["ledger", 7, 1])).value).toEqual({ amount: 100 });
    kv.close();
  });

  it("retries `database is locked` instead of failing", async () => {
    const kv = await memoryKv();
    let lockedLeft = 3;
    const flaky: KvStore = {
      ...kv,
      get: (key) => kv.get(key),
      getMany: (keys) => kv.getMany(keys),
      list: (selector, options) => kv.list(selector, options),
      close: () => kv.close(),
      atomic() {
        const op = kv.atomic();
        const commit = op.commit.bind(op);
        op.commit = () => (lockedLeft-- > 0 ? Promise.reject(new Error("database is locked")) : commit());
        return op;
      },
    };
    const store = new Store(flaky, { log: silentLog, limits: platform.kvLimits });
    expect((await store.commit({ key: ["user", 1], expected: null, value: 1 })).ok).toBe(true);
    expect(store.stats.lockedRetries).toBe(3);
    kv.close();
  });

  it("reports a failed commit as store failure, not a crash", async () => {
    const kv = await memoryKv();
    const store = new Store(kv, { log: silentLog, limits: platform.kvLimits });
    const outcome = await store.commit({ key: ["user", 1], expected: null, value: () => "not cloneable" });
    expect(outcome.ok ? "ok" : outcome.reason).toBe("failed");
    kv.close();
  });
});

describe("a save KV refuses, in a group commit", () => {
  let deep: unknown[] = [];
  for (let i = 0; i < 20_000; i++) deep = [deep];

  it("fails that save alone: its neighbours in the batch are committed", async () => {
    const kv = await memoryKv();
    try {
      const store = new Store(kv, { log: silentLog, limits: platform.kvLimits });
      const good = Array.from({ length: 150 }, (_, i) =>
        store.commit({
          key: ["user", i],
          expected: null,
          value: { name: "Анна 🦊 שלום", i },
          writes: [{ op: "set", key: ["ledger", i, 1], value: { amount: 100 } }],
        }),
      );
      const refused = [
        store.commit({ key: ["user", 1_000], expected: null, value: { note: "ж".repeat(40_000) } }), // over 64 KiB
        store.commit({ key: ["user", 1_001], expected: null, value: deep }), // too deep to serialize
        store.commit({
          key: ["user", 1_002],
          expected: null,
          value: 1,
          writes: [{ op: "set", key: ["k", "x".repeat(3_000)], value: 1 }],
        }),
      ];
      const outcomes = await Promise.all([...good.slice(0, 75), ...refused, ...good.slice(75)]);
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(150);
      expect(outcomes.slice(75, 78).map((outcome) => (outcome.ok ? "ok" : outcome.reason))).toEqual([
        "failed",
        "failed",
        "failed",
      ]);
      const stored = await Promise.all(Array.from({ length: 150 }, (_, i) => kv.get(["ledger", i, 1])));
      expect(stored.every((entry) => entry.versionstamp !== null)).toBe(true);
      expect((await kv.get(["user", 1_000])).versionstamp).toBeNull();
      expect(store.stats.commits).toBe(150);
    } finally {
      kv.close();
    }
  });

  for (const mode of ["in-thread", "workers"] as const) {
    it(`fails only that actor's turn and still answers its sender, its neighbours' turns commit (${mode})`, async () => {
      const dir = tempDir();
      const notified: string[] = [];
      const server = createServer((req, res) => {
        notified.push(req.url ?? "");
        res.end("ok");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const notify = (id: number) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/sorry/${id}`;
      const runtime = await startCounters({ mode, kvPath: `${dir.path}/kv` });
      try {
        const asks = Array.from({ length: 150 }, (_, i) =>
          runtime.supervisor.ask("counter", i, { type: "inc", op: `op-${i}`, notify: notify(i) }),
        );
        const oversized = runtime.supervisor.ask("counter", 900, {
          type: "inc",
          op: "ж".repeat(40_000),
          notify: notify(900),
        });
        const tooDeep = runtime.supervisor.ask("counter", 901, { type: "nest", depth: 20_000, notify: notify(901) });
        const results = await Promise.all([...asks, oversized, tooDeep]);
        expect(results.slice(0, 150).every((result) => result.ok && result.value === 1)).toBe(true);
        expect(results.slice(150).map((result) => (result.ok ? "ok" : result.error.code))).toEqual([
          "store_failed",
          "store_failed",
        ]);
        // The senders of the refused turns were answered (the counters' recovery), nobody else.
        expect(notified.sort()).toEqual(["/sorry/900", "/sorry/901"]);
        const counts = await Promise.all(
          Array.from({ length: 150 }, (_, i) => runtime.kv.get<{ count: number }>(["counter", i])),
        );
        expect(counts.every((entry) => entry.value?.count === 1)).toBe(true);
        expect((await runtime.kv.get(["counter", 900])).versionstamp).toBeNull();
        // The refused actors restarted from KV and take further messages.
        expect(await runtime.supervisor.ask("counter", 900, { type: "inc", op: "small" })).toEqual({
          ok: true,
          value: 1,
        });
      } finally {
        await runtime.stop();
        server.close();
        dir.remove();
      }
    });
  }
});

describe("store scans", () => {
  it("pages through a prefix in key order, after a given key", async () => {
    const kv = await memoryKv();
    try {
      const store = new Store(kv, { log: silentLog, limits: platform.kvLimits });
      const op = kv.atomic();
      for (let id = 1; id <= 7; id++) op.set(["user", id], { id });
      await op.set(["other", 1], {}).commit();
      const seen: unknown[] = [];
      let after: KvKey | undefined;
      for (;;) {
        const page = await store.scan(["user"], { limit: 3, ...(after ? { after } : {}) });
        seen.push(...page.entries.map((entry) => entry.key[1]));
        if (page.next === undefined) break;
        after = page.next;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      kv.close();
    }
  });
});
