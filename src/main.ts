/**
 * Entry point: `deno task start` or `npm start`. Reads the configuration,
 * starts the actor runtime on workers and long-polls Telegram until SIGINT
 * or SIGTERM, then drains and exits 0.
 */
import { startApp } from "./app.ts";
import { ConfigError, parseConfig, secretsOf } from "./config.ts";
import { createLogger } from "./log.ts";
import { platform } from "./platform/mod.ts";

async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(platform.env(), {
      dotenv: await platform.readTextFile(".env"),
      cpuCount: platform.cpuCount(),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    platform.writeStderr(`${error.message}\nSee .env.example and the README's configuration table.`);
    return platform.exit(1);
  }
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) }, { worker: "main" });
  const started = platform.clock.monotonic();
  const app = await startApp({ config, platform, log, mode: "workers" });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const drained = await app.stop();
    log.info({ drained }, "stopped");
    platform.exit(0);
  };
  platform.onSignal("SIGINT", () => void stop("SIGINT"));
  platform.onSignal("SIGTERM", () => void stop("SIGTERM"));

  try {
    await app.startPolling();
  } catch (error) {
    log.error({ err: error }, "could not reach Telegram with this token");
    await app.stop();
    return platform.exit(1);
  }
  log.info({ readyInMs: Math.round(platform.clock.monotonic() - started), runtime: platform.name }, "ready");
}

await main();
