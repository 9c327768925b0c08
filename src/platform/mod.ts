/**
 * The platform of the running process, chosen once at load time.
 *
 * This folder is the only place that touches `Deno.*` or `node:*`; every other
 * module receives what it needs from here as a parameter.
 *
 * @example
 * ```ts
 * import { platform } from "./platform/mod.ts";
 * const kv = await platform.openKv({ kind: "file", path: "./data/bot.kv" });
 * ```
 */
import type { Platform } from "./types.ts";

export type * from "./types.ts";

/** The current runtime's platform. */
export const platform: Platform =
  "Deno" in globalThis ? (await import("./platform.deno.ts")).platform : (await import("./platform.node.ts")).platform;
