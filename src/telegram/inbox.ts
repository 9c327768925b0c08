/**
 * The update inbox in KV: an update is recorded before Telegram is told it
 * arrived (the webhook's 200), marked done once its user's turn is durable,
 * and replayed at start if it never was. Recording twice is refused, so a
 * redelivered update is not handled again.
 */
import { isLockedError, isRefusedWriteError } from "../../actors/store.ts";
import type { KvCommitOutcome, KvStore } from "../platform/types.ts";
import type { Fence } from "./lease.ts";

let inboxCommits = 0;

/** KV commits of the inbox so far in this process (records and handled marks), for metrics. */
export const inboxCommitCount = () => inboxCommits;

/** How long an update's record is kept (Telegram redelivers for a day at most). */
const KEEP_MS = 24 * 3_600_000;

const inboxKey = (updateId: number) => ["inbox", updateId];

/**
 * Commits, waiting out SQLite's "database is locked" (another process on the
 * same KV file is writing), as the store does for actors.
 */
async function commitPatiently(commit: () => Promise<KvCommitOutcome>): Promise<KvCommitOutcome> {
  const deadline = Date.now() + 10_000;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      return await commit();
    } catch (error) {
      if (!isLockedError(error) || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
    }
  }
}

/**
 * Records an update (`done` when it is already handled): "new", "duplicate" when it was recorded before (a
 * redelivery), or "fenced" when `fence` no longer holds (another instance
 * took the polling lease: this one must not process anything).
 */
export async function recordUpdate(
  kv: KvStore,
  update: { readonly update_id: number },
  fence?: Fence,
  done = false,
): Promise<"new" | "duplicate" | "fenced"> {
  inboxCommits++;
  const key = inboxKey(update.update_id);
  const value = done ? { done: true } : { update, done: false };
  const outcome = await commitPatiently(() => {
    const op = kv.atomic().check({ key, versionstamp: null });
    if (fence) op.check({ key: fence.key, versionstamp: fence.versionstamp });
    return op.set(key, value, { expireIn: KEEP_MS }).commit();
  });
  if (outcome.ok) return "new";
  if (fence && (await kv.get(fence.key)).versionstamp !== fence.versionstamp) return "fenced";
  return "duplicate";
}

/** How recording a webhook update ended; "unstorable" when KV refuses the update itself (over 64 KiB, say). */
export type RecordOutcome = "new" | "duplicate" | "unstorable";

/** True once the update is in the inbox, recorded or marked handled. */
export async function isRecorded(kv: KvStore, updateId: number): Promise<boolean> {
  return (await kv.get(inboxKey(updateId))).versionstamp !== null;
}

/**
 * Records webhook updates as `recordUpdate` does, in shared commits: the
 * updates that arrive while a commit is under way go together in the next
 * one (up to `maxChecks`, the KV's limit of checks in one atomic operation),
 * so a busy webhook costs far fewer commits than updates and no update waits
 * for a timer. If any of a batch was recorded before (a redelivery), the
 * batch is recorded one by one to tell which. If KV refuses the batch for
 * what it holds (an update over its value limit, nested too deep, or the
 * batch over the operation's size), each is recorded alone: only an update
 * at fault is "unstorable", and its neighbours are recorded as usual.
 */
export function inboxRecorder(
  kv: KvStore,
  maxChecks: number,
): { record(update: { readonly update_id: number }): Promise<RecordOutcome> } {
  interface Waiting {
    readonly update: { readonly update_id: number };
    resolve(outcome: RecordOutcome): void;
    reject(error: unknown): void;
  }
  const waiting: Waiting[] = [];
  let committing = false;
  /** Records `batch` (distinct updates) in one commit; those recorded before are duplicates, found in one read. */
  const commitBatch = async (batch: Waiting[]): Promise<void> => {
    for (let rest = batch; rest.length > 0; ) {
      inboxCommits++;
      let outcome: KvCommitOutcome;
      try {
        outcome = await commitPatiently(() => {
          const op = kv.atomic();
          for (const { update } of rest) {
            const key = inboxKey(update.update_id);
            op.check({ key, versionstamp: null }).set(key, { update, done: false }, { expireIn: KEEP_MS });
          }
          return op.commit();
        });
      } catch (error) {
        if (!isRefusedWriteError(error)) throw error;
        if (rest.length > 1) {
          await Promise.all(rest.map((item) => commitBatch([item])));
          return;
        }
        rest[0]?.resolve("unstorable");
        return;
      }
      if (outcome.ok) {
        for (const item of rest) item.resolve("new");
        return;
      }
      const stored = await kv.getMany(rest.map((item) => inboxKey(item.update.update_id)));
      const recorded = rest.filter((_, i) => stored[i]?.versionstamp !== null);
      for (const item of recorded) item.resolve("duplicate");
      rest = rest.filter((_, i) => stored[i]?.versionstamp === null);
    }
  };
  const commitAll = async () => {
    committing = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, maxChecks);
      // The same update twice in one batch: the second is a redelivery.
      const ids = new Set<number>();
      const distinct = batch.filter((item) => {
        if (!ids.has(item.update.update_id)) return ids.add(item.update.update_id);
        item.resolve("duplicate");
        return false;
      });
      await commitBatch(distinct).catch((error: unknown) => {
        for (const item of distinct) item.reject(error);
      });
    }
    committing = false;
  };
  return {
    record(update) {
      return new Promise((resolve, reject) => {
        waiting.push({ update, resolve, reject });
        if (!committing) void commitAll();
      });
    },
  };
}

/**
 * Marks updates handled (their users' turns are durable), a batch per short
 * interval in one commit: marking is off the path of any reply, and one
 * commit per update would compete with the users' own commits. An update
 * whose mark was lost in a crash is replayed at start, and its user's actor
 * skips it (it remembers the last update it handled).
 */
export function handledMarker(kv: KvStore, intervalMs = 50): { mark(updateId: number): void; flush(): Promise<void> } {
  const pending: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0) {
      const batch = pending.splice(0, 500);
      inboxCommits++;
      await commitPatiently(() => {
        const op = kv.atomic();
        for (const updateId of batch) op.set(inboxKey(updateId), { done: true }, { expireIn: KEEP_MS });
        return op.commit();
      });
    }
  };
  return {
    mark(updateId) {
      pending.push(updateId);
      timer ??= setTimeout(() => void flush().catch(() => undefined), intervalMs);
    },
    flush,
  };
}

/** Updates recorded but not marked handled (the process stopped in between), oldest first. */
export async function unhandledUpdates(kv: KvStore): Promise<unknown[]> {
  const updates: unknown[] = [];
  for await (const entry of kv.list<{ update?: unknown; done?: boolean }>({ prefix: ["inbox"] })) {
    if (entry.value.done === false && entry.value.update !== undefined) updates.push(entry.value.update);
  }
  return updates;
}
