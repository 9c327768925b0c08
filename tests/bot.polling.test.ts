import { describe, expect, it } from "vitest";
import { startApp } from "../src/app.ts";
import { platform } from "../src/platform/mod.ts";
import { testConfig, textUpdate } from "./helpers/app.ts";
import { startFakeBotApi } from "./helpers/fake-bot-api.ts";
import { silentLog, tempDir } from "./helpers/runtime.ts";

describe("/start over long polling (workers, local fake Bot API)", () => {
  it("polls, routes the update to the user's shard, and the shard replies", async () => {
    const fake = await startFakeBotApi();
    const dir = tempDir();
    const app = await startApp({
      config: testConfig(`${dir.path}/kv`, { TELEGRAM_API_ROOT: fake.apiRoot }),
      platform,
      log: silentLog,
      mode: "workers",
    });
    try {
      const me = await app.startPolling();
      expect(me.username).toBe("test_bot");
      fake.push(
        textUpdate(101, "/start", { first_name: "Ivan" }),
        textUpdate(202, "/start", { first_name: "Mary", language_code: "en" }),
      );
      const sent = () => fake.calls.filter((call) => call.method === "sendMessage");
      await expect.poll(() => sent().length, { timeout: 10_000 }).toBe(2);
      const byChat = Object.fromEntries(sent().map((call) => [call.payload.chat_id, call]));
      expect(byChat[101]?.method).toBe("sendMessage");
      expect(String(byChat[101]?.payload.text)).toMatch(/^Привет, Ivan!/);
      expect(String(byChat[202]?.payload.text)).toMatch(/^Hi, Mary!/);
    } finally {
      expect(await app.stop()).toBe(true);
      await fake.close();
      dir.remove();
    }
  });
});
