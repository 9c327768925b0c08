/**
 * Which instances are alive: each one keeps a heartbeat record in KV while
 * it runs and removes it when it stops. A start-up resume leaves the jobs
 * of live instances to them (several instances on one KV); the record of an
 * instance that crashed counts as alive until it expires.
 */
import { z } from "zod";
import type { KvKey, KvStore } from "../platform/types.ts";

const INSTANCES: KvKey = ["instance"];
/** How long a heartbeat counts without renewal. */
export const HEARTBEAT_TTL_MS = 30_000;

const Heartbeat = z.object({ expiresAt: z.number() });

/**
 * Writes this instance's heartbeat now and every third of its lifetime,
 * until `stop`; after each beat, `onOthers` hears of the other live
 * instances (none, once the last other one is gone).
 */
export async function startHeartbeat(
  kv: KvStore,
  instanceId: string,
  now: () => number,
  onOthers: (others: readonly string[]) => void = () => {},
): Promise<{ stop(): Promise<void> }> {
  const key = [...INSTANCES, instanceId];
  const beat = async () => {
    await kv
      .atomic()
      .set(key, { expiresAt: now() + HEARTBEAT_TTL_MS }, { expireIn: HEARTBEAT_TTL_MS })
      .commit();
    const others = (await liveInstances(kv, now())).filter((id) => id !== instanceId);
    onOthers(others);
  };
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), HEARTBEAT_TTL_MS / 3);
  (timer as { unref?: () => void }).unref?.();
  return {
    async stop() {
      clearInterval(timer);
      await kv.atomic().delete(key).commit();
    },
  };
}

/** The instances whose heartbeat has not expired. */
export async function liveInstances(kv: KvStore, now: number): Promise<string[]> {
  const live: string[] = [];
  for await (const entry of kv.list({ prefix: INSTANCES })) {
    const heartbeat = Heartbeat.safeParse(entry.value);
    if (heartbeat.success && heartbeat.data.expiresAt > now && typeof entry.key[1] === "string")
      live.push(entry.key[1]);
  }
  return live;
}
