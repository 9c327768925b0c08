import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEST_TOKEN, textUpdate } from "./helpers/app.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { startFakeBotApi } from "./helpers/fake-bot-api.ts";
import { type RunningBot, startBotProcess } from "./helpers/process.ts";
import { tempDir } from "./helpers/runtime.ts";

const shipped = fileURLToPath(new URL("../catalog/data/", import.meta.url));

/** What the bot process needs to run against a local Bot API, with its KV in `dir`. */
const processEnv = (apiRoot: string, dir: string) => ({
  BOT_TOKEN: TEST_TOKEN,
  KIE_API_KEY: "kie-test-key-123",
  TELEGRAM_API_ROOT: apiRoot,
  KV_PATH: `${dir}/bot.kv`,
  SHARDS: "1",
  PORT: "0",
});

describe("the bot process (as `npm start` runs it)", () => {
  const defer = useCleanups();

  async function start(catalogDir: string): Promise<RunningBot> {
    const fake = await startFakeBotApi();
    defer(() => fake.close());
    const dir = tempDir();
    defer(() => dir.remove());
    const bot = startBotProcess({ ...processEnv(fake.apiRoot, dir.path), CATALOG_DIR: catalogDir }, dir.path);
    defer(() => {
      if (bot.child.exitCode === null) bot.child.kill("SIGKILL");
    });
    return bot;
  }

  it("reloads the catalog on SIGHUP, rejects a broken one, and drains on SIGTERM with exit code 0", async () => {
    const data = tempDir();
    defer(() => data.remove());
    cpSync(shipped, data.path, { recursive: true });
    const bot = await start(data.path);
    const loaded = await bot.waitFor((line) => line.msg === "catalog loaded");
    await bot.waitFor((line) => line.msg === "ready");

    const images = JSON.parse(readFileSync(`${data.path}/images.json`, "utf8")) as { models: unknown[] };
    images.models.pop();
    writeFileSync(`${data.path}/images.json`, JSON.stringify(images));
    bot.child.kill("SIGHUP");
    const reloaded = await bot.waitFor((line) => line.msg === "catalog reloaded");
    expect(reloaded.models).toBe((loaded.models as number) - 1);

    writeFileSync(`${data.path}/video.json`, "{ not json");
    bot.child.kill("SIGHUP");
    const rejected = await bot.waitFor((line) => String(line.msg).startsWith("catalog reload rejected"));
    expect(JSON.stringify(rejected.problems)).toContain("video.json");

    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    expect(bot.lines.some((line) => line.msg === "stopped" && line.drained === true)).toBe(true);
  });

  it("refuses to start with a broken catalog, naming the model and the field", async () => {
    const data = tempDir();
    defer(() => data.remove());
    cpSync(shipped, data.path, { recursive: true });
    const file = `${data.path}/images.json`;
    writeFileSync(file, readFileSync(file, "utf8").replace(/"maxLength": \d+/, '"maxLength": "long"'));
    const bot = await start(data.path);
    expect(await bot.exited).toBe(1);
    expect(bot.stderr()).toMatch(/images\.json model "[^"]+" at fields\[\d+\]\.maxLength/);
  });

  it.each(["node", "deno"] as const)(
    "`%s` boots against a local Bot API, answers /start over long polling, and stops with exit code 0",
    async (runtime) => {
      const fake = await startFakeBotApi();
      defer(() => fake.close());
      const dir = tempDir();
      defer(() => dir.remove());
      const bot = startBotProcess(processEnv(fake.apiRoot, dir.path), dir.path, runtime);
      defer(() => {
        if (bot.child.exitCode === null) bot.child.kill("SIGKILL");
      });
      await bot.waitFor((line) => line.msg === "ready", 30_000);
      fake.push(textUpdate(81, "/start", { first_name: "Ops" }));
      const sent = () => fake.calls.filter((call) => call.method === "sendMessage");
      for (let i = 0; i < 200 && sent().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(String(sent()[0]?.payload.text)).toContain("Привет, Ops!");
      bot.child.kill("SIGTERM");
      expect(await bot.exited).toBe(0);
    },
    60_000,
  );
});
