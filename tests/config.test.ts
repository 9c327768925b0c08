import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, secretsOf } from "../src/config.ts";
import { builtMain } from "./helpers/process.ts";
import { tempDir } from "./helpers/runtime.ts";

const valid = { BOT_TOKEN: "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", KIE_API_KEY: "kie-key-123456" };

function problemsOf(env: Record<string, string>, dotenv?: string): string[] {
  try {
    parseConfig(env, { dotenv, cpuCount: 4 });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe("configuration", () => {
  it("names a missing BOT_TOKEN and what is expected", () => {
    expect(problemsOf({ KIE_API_KEY: "kie-key-123456" })).toEqual([
      "BOT_TOKEN: required: the bot token from @BotFather, like 123456789:AA...",
    ]);
  });

  it("reads the job settings; a public address needs the webhook HMAC key, which counts as a secret", () => {
    expect(problemsOf({ ...valid, PUBLIC_BASE_URL: "https://bot.example.com" })).toEqual([
      "KIE_WEBHOOK_HMAC_KEY: required when PUBLIC_BASE_URL is set (enable the webhook HMAC key in kie.ai settings)",
    ]);
    expect(
      problemsOf({ ...valid, PUBLIC_BASE_URL: "http://bot.example.com", KIE_WEBHOOK_HMAC_KEY: "k".repeat(16) }),
    ).toEqual(["PUBLIC_BASE_URL: the bot's public https address, e.g. https://bot.example.com"]);
    const config = parseConfig(
      {
        ...valid,
        PUBLIC_BASE_URL: "https://bot.example.com/",
        KIE_WEBHOOK_HMAC_KEY: "hmac-key-123456",
        RESULT_HOSTS: "CDN.example.com, files.example.org",
        JOB_DEADLINE_VIDEO_MIN: "0.5",
      },
      { cpuCount: 1 },
    );
    expect(config.kieCallback).toEqual({ publicBaseUrl: "https://bot.example.com", hmacKey: "hmac-key-123456" });
    expect(config.resultHosts).toEqual(["cdn.example.com", "files.example.org"]);
    expect(config.jobDeadlines).toEqual({ image: 300_000, video: 30_000, audio: 600_000, text: 300_000 });
    expect(config.pollFirstMs).toBe(3_000);
    expect(secretsOf(config)).toContain("hmac-key-123456");
    expect(
      problemsOf({ ...valid, JOB_DEADLINE_IMAGE_MIN: "0", RESULT_HOSTS: "a b" }).map((p) => p.split(":")[0]),
    ).toEqual(["RESULT_HOSTS", "JOB_DEADLINE_IMAGE_MIN"]);
  });

  it("reads YooKassa as a pair, its secret counts as a secret, and checks the sender list", () => {
    expect(problemsOf({ ...valid, YOOKASSA_SHOP_ID: "123456" })).toEqual([
      "YOOKASSA_SECRET_KEY: YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY go together",
    ]);
    const config = parseConfig(
      { ...valid, YOOKASSA_SHOP_ID: "123456", YOOKASSA_SECRET_KEY: "live_secret_1", YOOKASSA_PACKAGES: "150, 700" },
      { cpuCount: 1 },
    );
    expect(config.yookassa).toMatchObject({ shopId: "123456", packages: [15_000, 70_000] });
    expect(config.yookassa?.allowedIps).toContain("2a02:5180::/32");
    expect(secretsOf(config)).toContain("live_secret_1");
    expect(
      problemsOf({ ...valid, YOOKASSA_IPS: "1.2.3.4, nonsense", YOOKASSA_PACKAGES: "10" }).map((p) => p.split(":")[0]),
    ).toEqual(["YOOKASSA_PACKAGES", "YOOKASSA_IPS"]);
  });

  it("re-reads pending card payments every 5 minutes unless told otherwise, between 30 s and an hour", () => {
    const yookassa = { ...valid, YOOKASSA_SHOP_ID: "123456", YOOKASSA_SECRET_KEY: "live_secret_1" };
    expect(parseConfig(yookassa, { cpuCount: 1 }).yookassa?.reconcileMs).toBe(300_000);
    expect(parseConfig({ ...yookassa, YOOKASSA_RECONCILE_SECONDS: "60" }, { cpuCount: 1 }).yookassa?.reconcileMs).toBe(
      60_000,
    );
    for (const wrong of ["29", "3601", "90.5", "often"]) {
      expect(problemsOf({ ...yookassa, YOOKASSA_RECONCILE_SECONDS: wrong })).toEqual([
        "YOOKASSA_RECONCILE_SECONDS: seconds between re-reads of pending card payments, 30 to 3600",
      ]);
    }
  });

  it("webhook mode needs the public address and a secret, which counts as a secret", () => {
    expect(problemsOf({ ...valid, BOT_MODE: "webhook" })).toEqual([
      "PUBLIC_BASE_URL: required when BOT_MODE is webhook",
      "WEBHOOK_SECRET: required when BOT_MODE is webhook",
    ]);
    const config = parseConfig(
      {
        ...valid,
        BOT_MODE: "webhook",
        PUBLIC_BASE_URL: "https://bot.example.com",
        KIE_WEBHOOK_HMAC_KEY: "hmac-key-123456",
        WEBHOOK_SECRET: "a-secret-of-twenty-chars",
      },
      { cpuCount: 1 },
    );
    expect(config.transport).toEqual({
      mode: "webhook",
      url: "https://bot.example.com/telegram/webhook",
      secret: "a-secret-of-twenty-chars",
    });
    expect(secretsOf(config)).toContain("a-secret-of-twenty-chars");
  });

  it("names every invalid variable at once", () => {
    const problems = problemsOf({
      ...valid,
      SHARDS: "zero",
      LOG_LEVEL: "loud",
      ADMIN_IDS: "1,x",
      TIMEZONE: "Mars/Olympus",
    });
    expect(problems.map((problem) => problem.split(":")[0])).toEqual(["ADMIN_IDS", "TIMEZONE", "LOG_LEVEL", "SHARDS"]);
    expect(problemsOf({ ...valid, KV_URL: "https://kv.example" })).toEqual([
      "KV_ACCESS_TOKEN: required when KV_URL is set",
    ]);
  });

  it("applies defaults, reads .env, and lets the environment win", () => {
    const config = parseConfig(
      { ...valid, SHARDS: "3" },
      { dotenv: "SHARDS=7\nADMIN_IDS=5, 6\nLOG_LEVEL=debug\n", cpuCount: 4 },
    );
    expect(config).toMatchObject({
      shards: 3,
      adminIds: [5, 6],
      logLevel: "debug",
      timeZone: "Europe/Moscow",
      telegramApiRoot: "https://api.telegram.org",
      kieApiBaseUrl: "https://api.kie.ai",
      kieUploadBaseUrl: "https://kieai.redpandaai.co",
      kv: { kind: "file", path: "./data/bot.kv" },
    });
    expect(parseConfig(valid, { cpuCount: 4 }).shards).toBe(4);
  });

  it("uses remote KV when KV_URL is set", () => {
    const config = parseConfig(
      { ...valid, KV_URL: "https://kv.example/connect", KV_ACCESS_TOKEN: "tok" },
      { cpuCount: 1 },
    );
    expect(config.kv).toEqual({ kind: "remote", url: "https://kv.example/connect", accessToken: "tok" });
  });

  it("stops `npm start` with a readable message and exit code 1 when BOT_TOKEN is missing", () => {
    const dir = tempDir();
    const result = spawnSync(process.execPath, [builtMain], {
      cwd: dir.path,
      env: { PATH: process.env.PATH, KIE_API_KEY: "kie-key-123456" },
      encoding: "utf8",
      timeout: 20_000,
    });
    dir.remove();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("BOT_TOKEN: required: the bot token from @BotFather");
    expect(result.stdout).toBe("");
  });
});
