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
});
