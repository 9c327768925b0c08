/**
 * The update inbox in KV: an update is recorded before Telegram is told it
 * arrived (the webhook's 200), marked done once its user's turn is durable,
 * and replayed at start if it never was. Recording twice is refused, so a
 * redelivered update is not handled again.
 */
import type { KvStore } from "../platform/types.ts";

/** How long an update's record is kept (Telegram redelivers for a day at most). */
const KEEP_MS = 24 * 3_600_000;

const inboxKey = (updateId: number) => ["inbox", updateId];

/** Records an update; false when it was recorded before (a redelivery). */
export async function recordUpdate(kv: KvStore, update: { readonly update_id: number }): Promise<boolean> {
  const key = inboxKey(update.update_id);
  const outcome = await kv
    .atomic()
    .check({ key, versionstamp: null })
    .set(key, { update, done: false }, { expireIn: KEEP_MS })
    .commit();
  return outcome.ok;
}

/** Marks an update handled (its user's turn is durable). */
export async function markHandled(kv: KvStore, updateId: number): Promise<void> {
  await kv.atomic().set(inboxKey(updateId), { done: true }, { expireIn: KEEP_MS }).commit();
}

/** Updates recorded but not marked handled (the process stopped in between), oldest first. */
export async function unhandledUpdates(kv: KvStore): Promise<unknown[]> {
  const updates: unknown[] = [];
  for await (const entry of kv.list<{ update?: unknown; done?: boolean }>({ prefix: ["inbox"] })) {
    if (entry.value.done === false && entry.value.update !== undefined) updates.push(entry.value.update);
  }
  return updates;
}
