/**
 * Two bot instances on one KV file serving webhooks for the same users at
 * once (as behind a load balancer): no state update is lost, nothing is
 * applied twice, even when both receive the same update.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotCall, botApiServer, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const SECRET = "webhook-secret-0123456789";
const ENV = {
  BOT_MODE: "webhook",
  PUBLIC_BASE_URL: "https://bot.example.com",
  KIE_WEBHOOK_HMAC_KEY: "kie-hmac-key-0123",
  WEBHOOK_SECRET: SECRET,
  ADMIN_IDS: "500",
  SHARDS: "1",
};

describe("two instances on one KV", () => {
  const defer = useCleanups();

  it("apply every one of concurrent updates for one user exactly once, wherever they arrive", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const instances = [await startBot(kvPath, calls, ENV, "real"), await startBot(kvPath, calls, ENV, "real")];
    defer(async () => {
      for (const instance of instances) await instance.app.stop();
    });
    const post = (index: number, update: unknown) =>
      instances[index]?.app.handleHttp(
        new Request("https://bot.example.com/telegram/webhook", {
          method: "POST",
          headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
          body: JSON.stringify(update),
        }),
      );
    const admin = userOf(500, "en");
    await post(0, userOf(600, "en").text("/start"));
    // 10 credits: whichever instance wins each one, the admin stays within its flood-control burst
    // (10 messages) on each, so every credit must land.
    const credits = Array.from({ length: 10 }, (_, i) => admin.text(`/credit 600 1 credit number ${i}`));
    // Each credit goes to one instance, alternating, all at once; the first five also reach the other instance.
    const answers = await Promise.all([
      ...credits.map((update, i) => post(i % 2, update)),
      ...credits.slice(0, 5).map((update, i) => post((i + 1) % 2, update)),
    ]);
    expect(answers.map((answer) => answer?.status)).toEqual(Array(15).fill(200));
    const kv = instances[0]?.app.kv;
    if (kv === undefined) throw new Error("no KV");
    await until(async () => (await userRecords(kv, 600)).ledger.length >= 10, 15_000).catch(async () => {
      const told = calls.filter((call) => call.body.chat_id === 500).map((call) => String(call.body.text));
      throw new Error(
        `${(await userRecords(kv, 600)).ledger.length} credits applied; the admin was told: ${told.join(" | ")}`,
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const records = await userRecords(kv, 600);
    expect(records.state.wallet.balance).toBe(10 * 100);
    expect(records.ledger).toHaveLength(10);
    expect(
      calls.filter((call) => call.body.chat_id === 500 && String(call.body.text).startsWith("Done.")),
    ).toHaveLength(10);
  });
});
