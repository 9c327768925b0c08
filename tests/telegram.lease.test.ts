/**
 * The polling lease: one holder at a time, takeover after expiry, and a
 * fence that stops a stale holder from recording (and so processing)
 * anything. Then two bot instances on one KV file: exactly one polls, and
 * the standby takes over when the holder stops.
 */
import { describe, expect, it } from "vitest";
import { startApp } from "../src/app.ts";
import { platform } from "../src/platform/mod.ts";
import { recordUpdate } from "../src/telegram/inbox.ts";
import { PollingLease } from "../src/telegram/lease.ts";
import { testConfig, textUpdate } from "./helpers/app.ts";
import { startFakeBotApi } from "./helpers/fake-bot-api.ts";
import { silentLog, tempDir } from "./helpers/runtime.ts";

describe("polling lease", () => {
  it("has one holder, is taken over after expiry, and fences the stale holder", async () => {
    const kv = await platform.openKv({ kind: "memory" });
    let now = 1_000;
    const lease = (instanceId: string) => new PollingLease(kv, { instanceId, ttlMs: 10_000, now: () => now });
    const a = lease("a");
    const b = lease("b");
    try {
      expect(await a.tryHold()).toBe(true);
      expect(await b.tryHold()).toBe(false);
      now += 5_000;
      expect(await a.tryHold()).toBe(true); // renewed
      const fenceOfA = a.fence;
      expect(await recordUpdate(kv, { update_id: 1 }, fenceOfA)).toBe("new");
      expect(await recordUpdate(kv, { update_id: 1 }, fenceOfA)).toBe("duplicate");

      // A stalls past its expiry; B takes over.
      now += 11_000;
      expect(a.holds(now)).toBe(false);
      expect(await b.tryHold()).toBe(true);
      expect(await recordUpdate(kv, { update_id: 2 }, fenceOfA)).toBe("fenced");
      expect(await recordUpdate(kv, { update_id: 2 }, b.fence)).toBe("new");
      expect(await a.tryHold()).toBe(false);

      // B stops and gives the lease up: A takes it at once.
      await b.release();
      expect(await a.tryHold()).toBe(true);
    } finally {
      kv.close();
    }
  });

  it("two instances on one KV file: exactly one polls; when it stops, the other takes over", async () => {
    const dir = tempDir();
    const kvPath = `${dir.path}/kv`;
    const fakes = [await startFakeBotApi(), await startFakeBotApi()];
    const apps = [];
    for (const fake of fakes) {
      apps.push(
        await startApp({
          config: testConfig(kvPath, { TELEGRAM_API_ROOT: fake.apiRoot, POLL_LEASE_SECONDS: "0.6", SHARDS: "1" }),
          platform,
          log: silentLog,
          mode: "in-thread",
        }),
      );
    }
    const [first, second] = apps;
    const polls = (index: number) => fakes[index]?.calls.filter((call) => call.method === "getUpdates").length ?? 0;
    try {
      await first?.startPolling();
      await second?.startPolling();
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(polls(0)).toBeGreaterThan(0);
      expect(polls(1)).toBe(0);

      await first?.stop();
      await expect.poll(() => polls(1), { timeout: 5_000 }).toBeGreaterThan(0);
      fakes[1]?.push(textUpdate(91, "/start", { first_name: "Standby" }));
      const sent = () => fakes[1]?.calls.filter((call) => call.method === "sendMessage") ?? [];
      await expect.poll(() => sent().length, { timeout: 5_000 }).toBe(1);
      expect(String(sent()[0]?.payload.text)).toContain("Standby");
    } finally {
      for (const app of apps) await app.stop();
      for (const fake of fakes) await fake.close();
      dir.remove();
    }
  });
});
