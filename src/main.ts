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
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp({ config, platform, log, mode: "workers" });
  } catch (error) {
    // A broken catalog file (naming model and field) or an unreachable KV stops the start.
    platform.writeStderr(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
    return platform.exit(1);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const drained = await app.stop(config.shutdownTimeoutMs);
    log.info({ drained }, "stopped");
    platform.exit(0);
  };
  platform.onSignal("SIGINT", () => void stop("SIGINT"));
  platform.onSignal("SIGTERM", () => void stop("SIGTERM"));
  platform.onSignal("SIGHUP", () => {
    app.reloadCatalog().then((result) => {
      if (result.ok) log.info({ models: result.models, skus: result.skus }, "catalog reloaded");
      else log.error({ problems: result.problems }, "catalog reload rejected; the old catalog keeps serving");
    });
  });

  try {
    if (config.transport.mode === "webhook") await app.startWebhook();
    else await app.startPolling();
  } catch (error) {
    log.error({ err: error }, "could not reach Telegram with this token");
    await app.stop();
    return platform.exit(1);
  }
  log.info({ readyInMs: Math.round(platform.clock.monotonic() - started), runtime: platform.name }, "ready");
}

await main();
