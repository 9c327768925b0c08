import { describe, expect, it } from "vitest";
import { platform } from "../src/platform/mod.ts";
import { inboxCommitCount, inboxRecorder, recordUpdate, unhandledUpdates } from "../src/telegram/inbox.ts";
import { useCleanups } from "./helpers/cleanups.ts";

describe("the webhook's inbox recorder", () => {
  const defer = useCleanups();

  it("records concurrent updates in shared commits, each once: redeliveries, in a batch or before it, are duplicates", async () => {
    const kv = await platform.openKv({ kind: "memory" });
    defer(() => kv.close());
    await recordUpdate(kv, { update_id: 7 });
    const recorder = inboxRecorder(kv, platform.kvLimits.maxChecks);
    const ids = [...Array.from({ length: 30 }, (_, i) => i + 1), 12, 7, 30];
    const commitsBefore = inboxCommitCount();
    const outcomes = await Promise.all(ids.map((update_id) => recorder.record({ update_id })));
    const commits = inboxCommitCount() - commitsBefore;

    const counted = (id: number) => ids.flatMap((candidate, i) => (candidate === id ? [outcomes[i]] : []));
    // 12 and 30 were sent twice at once; 7 was recorded before: each of them is new at most once.
    expect(counted(12).sort()).toEqual(["duplicate", "new"]);
    expect(counted(30).sort()).toEqual(["duplicate", "new"]);
    expect(counted(7)).toEqual(["duplicate", "duplicate"]);
    expect(outcomes.filter((outcome) => outcome === "new")).toHaveLength(29);
    expect(
      ((await unhandledUpdates(kv)) as { update_id: number }[]).map((u) => u.update_id).sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Far fewer commits than updates (the batch holding 7 is recorded again one by one).
    expect(commits).toBeLessThan(ids.length / 2);
  });

  it("refuses only the updates KV cannot store, recording their neighbours in the same burst", async () => {
    const kv = await platform.openKv({ kind: "memory" });
    defer(() => kv.close());
    const recorder = inboxRecorder(kv, platform.kvLimits.maxChecks);
    let deep: unknown[] = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const good = Array.from({ length: 150 }, (_, i) => ({ update_id: 100 + i, message: { text: "Привет 🦊 שלום é" } }));
    const oversized = { update_id: 1, message: { text: "🦊".repeat(20_000) } };
    const tooDeep = { update_id: 2, message: { nested: deep } };
    const burst = [...good.slice(0, 40), oversized, ...good.slice(40, 90), tooDeep, ...good.slice(90)];
    const outcomes = await Promise.all(burst.map((update) => recorder.record(update)));

    expect(outcomes[40]).toBe("unstorable");
    expect(outcomes[91]).toBe("unstorable");
    expect(outcomes.filter((outcome) => outcome === "new")).toHaveLength(150);
    const recorded = (await unhandledUpdates(kv)) as { update_id: number }[];
    expect(recorded.map((update) => update.update_id).sort((a, b) => a - b)).toEqual(good.map((u) => u.update_id));
    // A redelivery of a good one is still a duplicate.
    expect(await recorder.record(good[0] as { update_id: number })).toBe("duplicate");
  });

  it("fails a whole batch on a KV failure that is not about one update (Telegram will deliver it again)", async () => {
    const kv = await platform.openKv({ kind: "memory" });
    defer(() => kv.close());
    const failing = {
      ...kv,
      atomic() {
        const op = kv.atomic();
        op.commit = () => Promise.reject(new Error("disk I/O error"));
        return op;
      },
    };
    const recorder = inboxRecorder(failing, platform.kvLimits.maxChecks);
    const outcomes = await Promise.allSettled([1, 2, 3].map((update_id) => recorder.record({ update_id })));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected"]);
  });
});
