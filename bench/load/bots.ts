/**
 * The two bots the load benchmark compares, each as its own process with a
 * webhook on loopback: ours (`src/main.ts`, as operators run it, in webhook
 * mode) and the baseline (`bench/baseline/bot.ts`: grammY, its session
 * middleware on the same Deno KV, the runner's `sequentialize`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_TOKEN } from "../../tests/helpers/app.ts";
import { builtMain } from "../../tests/helpers/process.ts";
import { buildNode } from "../../tools/build-node.ts";

export const WEBHOOK_SECRET = "load-bench-secret";
/** The fake KIE's key (both bots use it). */
export const KIE_API_KEY = "kie-load-key-123";
const root = fileURLToPath(new URL("../..", import.meta.url));

/** A running bot process and where its webhook is. */
export interface BotUnderLoad {
  readonly name: "actors" | "baseline";
  readonly child: ChildProcess;
  readonly port: number;
  readonly webhookPath: string;
  /** Stops the process (SIGTERM) and waits for it. */
  stop(): Promise<number | null>;
}

/** Where the fakes are, and the bot's own folder. */
export interface LoadEnvironment {
  readonly apiRoot: string;
  readonly kieBase: string;
  readonly dir: string;
  readonly shards: number;
  /** Extra arguments to Node (a CPU profile: `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
}

/** Resolves with the first JSON log line of `child` that `match` accepts. */
function waitForLine(child: ChildProcess, match: (line: Record<string, unknown>) => boolean, what: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${what}: no such line in 60 s`)), 60_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          if (match(line)) {
            clearTimeout(timer);
            child.stdout?.off("data", onData);
            // Keep draining stdout so the child never blocks on a full pipe.
            child.stdout?.resume();
            resolve(line);
            return;
          }
        } catch {
          // Not a log line.
        }
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${what}: exited with ${code} before it was ready`)));
  });
}

function handle(name: BotUnderLoad["name"], child: ChildProcess, port: number, webhookPath: string): BotUnderLoad {
  return {
    name,
    child,
    port,
    webhookPath,
    stop() {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Builds both bots as `npm start` builds ours (plain JavaScript, no TypeScript loader in any thread). */
export const buildBots = () => buildNode(["bench/baseline/bot.ts"]);

/** Starts our bot in webhook mode; resolves once it is ready. */
export async function startActorBot(env: LoadEnvironment): Promise<BotUnderLoad> {
  const child = spawn(process.execPath, [...(env.nodeArgs ?? []), builtMain], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      BOT_TOKEN: TEST_TOKEN,
      KIE_API_KEY,
      KIE_API_BASE_URL: env.kieBase,
      KIE_UPLOAD_BASE_URL: env.kieBase,
      TELEGRAM_API_ROOT: env.apiRoot,
      KV_PATH: join(env.dir, "actors.kv"),
      SHARDS: String(env.shards),
      LOG_LEVEL: "info",
      BOT_MODE: "webhook",
      PUBLIC_BASE_URL: "https://bot.example",
      KIE_WEBHOOK_HMAC_KEY: "load-bench-hmac-key-0123456789abcdef",
      WEBHOOK_SECRET,
      PORT: "0",
      // Users get money once, at their first /start, through the real ledger path.
      WELCOME_GIFT_KOPECKS: "100000",
      JOB_POLL_FIRST_SECONDS: "1",
      KIE_CREATES_PER_10S: "1000",
      // The benchmark sends far more than Telegram allows: the limiter would measure itself.
      TELEGRAM_MESSAGES_PER_SECOND: "10000",
      TELEGRAM_CHAT_MESSAGES_PER_SECOND: "10000",
    },
  });
  const serving = waitForLine(child, (line) => line.msg === "serving HTTP", "the actor bot");
  await waitForLine(child, (line) => line.msg === "ready", "the actor bot");
  return handle("actors", child, Number((await serving).port), "/telegram/webhook");
}

/** Starts the baseline bot; resolves once it is ready. */
export async function startBaselineBot(env: LoadEnvironment): Promise<BotUnderLoad> {
  const child = spawn(process.execPath, [...(env.nodeArgs ?? []), join(root, "dist/bench/baseline/bot.js")], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: env.apiRoot,
      KIE_API_BASE_URL: env.kieBase,
      KIE_API_KEY,
      KV_PATH: join(env.dir, "baseline.kv"),
      PORT: "0",
      WEBHOOK_SECRET,
    },
  });
  const ready = await waitForLine(child, (line) => line.msg === "ready", "the baseline bot");
  return handle("baseline", child, Number(ready.port), "/telegram/webhook");
}
