/**
 * Deno KV refuses writes in its own words ("Value too large (max 65536
 * bytes)", a RangeError thrown by `set` for a value nested too deep), not in
 * `@deno/kv`'s names: the store and the webhook inbox must still fail only
 * the item at fault. The same checks as tests/store.test.ts and
 * tests/telegram.inbox.test.ts on Node. Run with `npx deno test -A tests/deno/`.
 */
import { Store } from "../../actors/mod.ts";
import { createLogger } from "../../src/log.ts";
import { platform } from "../../src/platform/mod.ts";
import { inboxRecorder, unhandledUpdates } from "../../src/telegram/inbox.ts";

declare const Deno: {
  test(name: string, fn: () => Promise<void>): void;
};

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const silentLog = createLogger({ level: "silent", secrets: [] });

function tooDeep(): unknown[] {
  let deep: unknown[] = [];
  for (let i = 0; i < 20_000; i++) deep = [deep];
  return deep;
}

Deno.test("the store fails only the saves Deno KV refuses, and commits their neighbours", async () => {
  if (platform.name !== "deno") throw new Error(`expected the Deno platform, got ${platform.name}`);
  const kv = await platform.openKv({ kind: "memory" });
  try {
    const store = new Store(kv, { log: silentLog, limits: platform.kvLimits });
    const good = Array.from({ length: 150 }, (_, i) =>
      store.commit({ key: ["user", i], expected: null, value: { name: "Анна 🦊", i } }),
    );
    const refused = [
      store.commit({ key: ["user", 1_000], expected: null, value: { note: "ж".repeat(40_000) } }),
      store.commit({ key: ["user", 1_001], expected: null, value: tooDeep() }),
    ];
    const outcomes = await Promise.all([...good.slice(0, 75), ...refused, ...good.slice(75)]);
    assertEquals(outcomes.filter((outcome) => outcome.ok).length, 150, "saves committed");
    assertEquals(
      outcomes.slice(75, 77).map((outcome) => (outcome.ok ? "ok" : outcome.reason)),
      ["failed", "failed"],
      "refused saves",
    );
    assertEquals((await kv.get(["user", 149])).value, { name: "Анна 🦊", i: 149 }, "a neighbour's state");
  } finally {
    kv.close();
  }
});

Deno.test("the webhook inbox records a burst around updates Deno KV refuses", async () => {
  const kv = await platform.openKv({ kind: "memory" });
  try {
    const recorder = inboxRecorder(kv, platform.kvLimits.maxChecks);
    const good = Array.from({ length: 150 }, (_, i) => ({ update_id: 100 + i, message: { text: "Привет 🦊" } }));
    const burst = [
      ...good.slice(0, 40),
      { update_id: 1, message: { text: "🦊".repeat(20_000) } },
      ...good.slice(40, 90),
      { update_id: 2, message: { nested: tooDeep() } },
      ...good.slice(90),
    ];
    const outcomes = await Promise.all(burst.map((update) => recorder.record(update)));
    assertEquals([outcomes[40], outcomes[91]], ["unstorable", "unstorable"], "refused updates");
    assertEquals(outcomes.filter((outcome) => outcome === "new").length, 150, "recorded updates");
    const recorded = ((await unhandledUpdates(kv)) as { update_id: number }[]).map((update) => update.update_id);
    assertEquals(
      recorded.sort((a, b) => a - b),
      good.map((update) => update.update_id),
      "the inbox",
    );
  } finally {
    kv.close();
  }
});
