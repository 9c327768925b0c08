/**
 * Where the time goes: V8 CPU profiles (`node --cpu-prof`, one file per
 * thread) summed up per thread, by kind of work, for the results file of a
 * benchmark whose targets were missed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CpuProfile {
  readonly nodes: readonly { id: number; callFrame: { functionName: string; url: string } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const START = "module loading (start)";

/** Kinds of work, by the function's name and file; the first that matches wins. */
const KINDS: readonly [string, (name: string, url: string) => boolean][] = [
  ["idle", (name) => name === "(idle)"],
  ["garbage collection", (name) => name === "(garbage collector)"],
  ["KV (@deno/kv: encoding, SQLite)", (_, url) => url.includes("@deno/kv")],
  [
    "messages between threads (structured clone, comlink)",
    (name, url) =>
      /postMessage|serialize|deserialize|makeTransferable|receiveMessageOnPort/.test(name) ||
      url.includes("worker/") ||
      url.includes("messageport") ||
      url.includes("comlink"),
  ],
  [
    "HTTP (Node's server and client, web Request/Response)",
    (name, url) =>
      /^node:(_http|http|net|stream|internal\/(streams|http|deps\/undici|url|abort_controller|per_context\/domexception))/.test(
        url,
      ) || /^(writev|writeLatin1String|writeUtf8String|shutdown|close)$/.test(name),
  ],
  ["validation (zod)", (name, url) => name.includes("_zod") || url.includes("zod")],
  [START, (name) => /compile|wrapSafe|parseCJS|makeSyncRequest|waitForWorker/.test(name)],
  ["bot and runtime code (src/, actors/, catalog/)", (_, url) => url.includes("/dist/") || url.includes("/work/")],
];

/** A thread's name, from the program module its samples ran. */
function threadOf(profile: CpuProfile): string {
  const urls = new Set(profile.nodes.map((node) => node.callFrame.url));
  const has = (suffix: string) => [...urls].some((url) => url.endsWith(suffix));
  if (has("src/main.js")) return "main";
  if (has("shard-app.js")) return "user shard";
  if (has("catalog/app.js")) return "catalog";
  if (has("payments/app.js")) return "payment";
  return "other";
}

/**
 * One thread's CPU per update handled while it was profiled, in total and
 * by kind of work (module loading at start left out), and its busiest
 * functions.
 */
export interface ThreadProfile {
  readonly thread: string;
  readonly cpuMsPerUpdate: number;
  readonly cpuMsPerUpdateByKind: Record<string, number>;
  readonly topFunctions: readonly string[];
}

/** Sums up every `.cpuprofile` in `dir`, over the `updates` the bot handled meanwhile. */
export function summarizeProfiles(dir: string, updates: number): ThreadProfile[] {
  const threads: ThreadProfile[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    const byKind: Record<string, number> = {};
    const byFunction = new Map<string, number>();
    profile.samples.forEach((id, i) => {
      const frame = nodes.get(id);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      if (frame === undefined) return;
      const name = frame.functionName || "(anonymous)";
      const kind = KINDS.find(([, matches]) => matches(name, frame.url))?.[0] ?? "other (Node internals, native)";
      byKind[kind] = (byKind[kind] ?? 0) + ms;
      if (kind !== "idle" && kind !== START) {
        const where = `${name} ${frame.url.replace(/^.*node_modules\//, "").replace(/^.*\/dist\//, "")}`;
        byFunction.set(where, (byFunction.get(where) ?? 0) + ms);
      }
    });
    delete byKind.idle;
    delete byKind[START];
    const perUpdate = (ms: number) => Math.round((ms / Math.max(1, updates)) * 1000) / 1000;
    const kinds = Object.entries(byKind).sort((a, b) => b[1] - a[1]);
    const cpuMsPerUpdateByKind = Object.fromEntries(kinds.map(([kind, ms]) => [kind, perUpdate(ms)]));
    const cpuMsPerUpdate = perUpdate(kinds.reduce((sum, [, ms]) => sum + ms, 0));
    const topFunctions = [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([where, ms]) => `${Math.round(ms)} ms ${where}`);
    threads.push({ thread: threadOf(profile), cpuMsPerUpdate, cpuMsPerUpdateByKind, topFunctions });
  }
  return threads.sort((a, b) => a.thread.localeCompare(b.thread));
}
