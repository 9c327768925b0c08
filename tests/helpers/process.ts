/** Running the bot as operators do (`npm start`, `deno task start`), for process-level tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** What `npm start` runs after its build (`npm run build`; the tests' global setup builds it once). */
export const builtMain = fileURLToPath(new URL("../../dist/src/main.js", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));
/** The Deno binary of the `deno` npm package (its wrapper script does not pass signals on). */
const denoBinary = join(dirname(createRequire(import.meta.url).resolve("deno/package.json")), "deno");

export interface RunningBot {
  readonly child: ChildProcess;
  /** Log lines (parsed JSON) seen so far on standard output. */
  readonly lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first log line matching `predicate`. */
  waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/**
 * Starts the bot as a child process with exactly `env` (plus PATH): `npm
 * start`'s command on Node (the build it made), or `deno task start` (run from the project,
 * where `deno.json` is) on Deno.
 */
export function startBotProcess(
  env: Record<string, string>,
  cwd: string,
  runtime: "node" | "deno" = "node",
): RunningBot {
  const fullEnv = { PATH: process.env.PATH ?? "", ...env };
  const child =
    runtime === "node"
      ? spawn(process.execPath, [builtMain], { cwd, env: fullEnv })
      : spawn(denoBinary, ["task", "start"], { cwd: root, env: { ...fullEnv, HOME: process.env.HOME ?? cwd } });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  let buffer = "";
  const waiters: {
    predicate: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      } catch {
        // Not a log line.
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitFor(predicate, timeoutMs = 15_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such log line in ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}
