/** Starting runtimes over temporary KV files for tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RuntimeLimits, Supervisor } from "../../actors/mod.ts";
import { createLogger } from "../../src/log.ts";
import { platform } from "../../src/platform/mod.ts";
import type { KvStore } from "../../src/platform/types.ts";

export const silentLog = createLogger({ level: "silent", secrets: [] });

/** A fresh directory removed by the returned cleanup. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "kie-bot-test-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const counterModule = new URL("../fixtures/counter-app.ts", import.meta.url);

/** A supervisor hosting the counter fixture. */
export async function startCounters(options: {
  mode: "workers" | "in-thread";
  kvPath: string;
  workers?: number;
  limits?: Partial<RuntimeLimits>;
}): Promise<{ supervisor: Supervisor; kv: KvStore; stop(): Promise<void> }> {
  const kv = await platform.openKv({ kind: "file", path: options.kvPath });
  const supervisor = new Supervisor({
    mode: options.mode,
    platform,
    kv,
    groups: [{ name: "counters", kinds: ["counter", "tally"], size: options.workers ?? 2, module: counterModule }],
    log: silentLog,
    logging: { level: "silent", secrets: [] },
    limits: { restartMinMs: 20, ...options.limits },
  });
  await supervisor.start();
  return {
    supervisor,
    kv,
    async stop() {
      await supervisor.stop(5_000);
      kv.close();
    },
  };
}
