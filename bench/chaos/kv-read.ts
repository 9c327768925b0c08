/**
 * Reading the bot's KV file from this process (SQLite lets a second process
 * read while the bot writes): whole snapshots to prove a bad input changed
 * nothing, and the count of work still open while the bot drains.
 */
import { OWED_PREFIX } from "../../src/payments/payment-core.ts";
import { OPEN_REFUNDS_PREFIX } from "../../src/payments/refund-core.ts";
import { platform } from "../../src/platform/mod.ts";
import type { KvKey, KvStore } from "../../src/platform/types.ts";

/** Every entry of the KV, by its key as JSON. */
export type KvSnapshot = ReadonlyMap<string, string>;

/**
 * Keys that change on their own while the bot runs, whatever it is sent:
 * the update inbox (every update is recorded, bad ones too) and the
 * instance heartbeats.
 */
const MOVING_PREFIXES: readonly string[] = ["inbox", "instance"];

/** Runs `read` on the KV file, opened for this read only. */
export async function withKv<T>(kvPath: string, read: (kv: KvStore) => Promise<T>): Promise<T> {
  const kv = await platform.openKv({ kind: "file", path: kvPath });
  try {
    return await read(kv);
  } finally {
    kv.close();
  }
}

/** Every entry under `prefix`. */
export async function listAll<T = unknown>(
  kv: KvStore,
  prefix: KvKey,
): Promise<{ key: readonly unknown[]; value: T }[]> {
  const out: { key: readonly unknown[]; value: T }[] = [];
  for await (const entry of kv.list<T>({ prefix })) out.push({ key: entry.key, value: entry.value });
  return out;
}

/** The whole KV but the keys that move on their own. */
export async function snapshot(kvPath: string): Promise<KvSnapshot> {
  return await withKv(kvPath, async (kv) => {
    const entries = new Map<string, string>();
    for (const { key, value } of await listAll(kv, [])) {
      if (MOVING_PREFIXES.includes(String(key[0]))) continue;
      entries.set(JSON.stringify(key), JSON.stringify(value));
    }
    return entries;
  });
}

/** Keys added, removed or changed between two snapshots. */
export function differences(before: KvSnapshot, after: KvSnapshot): string[] {
  const changed: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined) changed.push(`added ${key}`);
    else if (old !== value) changed.push(`changed ${key}`);
  }
  for (const key of before.keys()) if (!after.has(key)) changed.push(`removed ${key}`);
  return changed;
}

/**
 * Work the bot still owes: open jobs, Stars payments not yet recorded,
 * credits not yet acknowledged (owed records, and any left in the payment
 * actor's value by an earlier version), Generate presses not yet priced,
 * and refunds not finished (the ["refund-open"] index).
 */
export async function openWork(kvPath: string): Promise<{
  openJobs: number;
  openPayments: number;
  outbox: number;
  pendingOrders: number;
  openRefunds: number;
}> {
  return await withKv(kvPath, async (kv) => {
    const openJobs = (await listAll(kv, ["open_job"])).length;
    const openPayments = (await listAll(kv, ["open_payment"])).length;
    const payment = await kv.get<{ outbox?: Record<string, unknown> }>(["payment", "main"]);
    const owed = (await listAll(kv, OWED_PREFIX)).length;
    // Generate presses whose price has not come back yet (their queued look is still to come).
    const pendingOrders = (await listAll<{ ordering?: string }>(kv, ["user"])).filter(
      (entry) => entry.value.ordering !== undefined,
    ).length;
    const openRefunds = (await listAll(kv, [...OPEN_REFUNDS_PREFIX])).length;
    return {
      openJobs,
      openPayments,
      outbox: owed + Object.keys(payment.value?.outbox ?? {}).length,
      pendingOrders,
      openRefunds,
    };
  });
}
