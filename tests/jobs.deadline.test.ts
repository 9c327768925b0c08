/**
 * A job's deadline reaches its user's actor from the KV queue, and is not
 * lost when the turn it starts fails: the queue gets it back and delivers
 * it again, so the job still ends and its hold is released.
 */
import { describe, expect, it } from "vitest";
import type { Result } from "../actors/mod.ts";
import { listenForPolls, type TellUser } from "../src/jobs/driver.ts";
import type { KvStore } from "../src/platform/types.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** A KV whose queue hands `messages` to the listener one by one and records what the handler did. */
function queueOf(messages: readonly unknown[]) {
  const outcomes: ("done" | "thrown back")[] = [];
  const kv = {
    async listenQueue(handler: (value: unknown) => Promise<void> | void) {
      for (const message of messages) {
        try {
          await handler(message);
          outcomes.push("done");
        } catch {
          outcomes.push("thrown back");
        }
      }
    },
  } as unknown as KvStore;
  return { kv, outcomes };
}

describe("deadlines from the KV queue", () => {
  it("asks the user's actor, and throws a deadline back to the queue when its turn failed", async () => {
    const deadline = { t: "deadline", userId: 7, jobId: "t1" };
    const { kv, outcomes } = queueOf([deadline, deadline, { t: "poll", userId: 7, jobId: "t1", seq: 0 }]);
    const asked: unknown[] = [];
    const told: unknown[] = [];
    const turns: Result<void>[] = [
      { ok: false, error: { code: "store_failed", message: "KV refused the commit" } },
      { ok: true, value: undefined },
    ];
    const ask: TellUser = async (userId, message) => {
      asked.push({ userId, message });
      return turns.shift() ?? { ok: true, value: undefined };
    };
    const tell: TellUser = async (userId, message) => {
      told.push({ userId, message });
      return { ok: true, value: undefined };
    };
    await listenForPolls(kv, tell, silent, () => 0, ask);
    expect(asked).toEqual([
      { userId: 7, message: { type: "deadline", jobId: "t1" } },
      { userId: 7, message: { type: "deadline", jobId: "t1" } },
    ]);
    expect(told).toEqual([{ userId: 7, message: { type: "poll", jobId: "t1", seq: 0 } }]);
    expect(outcomes).toEqual(["thrown back", "done", "done"]);
  });
});
