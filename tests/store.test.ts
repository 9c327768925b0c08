import { describe, expect, it } from "vitest";
import { Store } from "../actors/mod.ts";
import { platform } from "../src/platform/mod.ts";
import type { KvKey, KvStore } from "../src/platform/types.ts";
import { silentLog } from "./helpers/runtime.ts";

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
