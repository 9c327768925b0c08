/**
 * Every create request carries a `callBackUrl` (KIE requires one on Suno
 * and Runway): the bot's own route with a public address, and without one
 * an address that reaches nobody, never a host a third party could own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UNREACHABLE_KIE_CALLBACK_URL } from "../src/config.ts";
import { testConfig } from "./helpers/app.ts";
import type { BotCall } from "./helpers/bot-harness.ts";
import { startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { FAST_JOBS, jobServer, orderFor, seedUser, until, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const { server, kie } = jobServer(calls, { outcome: () => ({ state: "pending" }) });
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

/** Top-level domains that no one can register and that never resolve (RFC 2606, RFC 6761). */
const RESERVED_UNRESOLVABLE = [".invalid", ".test", ".example", ".localhost"];

describe("callBackUrl", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    kie.tasks.clear();
    kie.refused.length = 0;
  });

  it("a polling deployment's callback address is an https URL under the reserved .invalid domain", () => {
    const config = testConfig("/tmp/unused.kv");
    expect(config.kieCallback).toBeUndefined();
    expect(config.kieCallBackUrl).toBe(UNREACHABLE_KIE_CALLBACK_URL);
    const url = new URL(config.kieCallBackUrl);
    expect(url.protocol).toBe("https:");
    expect(url.hostname.endsWith(".invalid")).toBe(true);
  });

  it("with a public address the callback goes to the bot's own route", () => {
    const config = testConfig("/tmp/unused.kv", {
      PUBLIC_BASE_URL: "https://бот.example.com",
      KIE_WEBHOOK_HMAC_KEY: "hmac-key-123456",
    });
    expect(config.kieCallBackUrl).toBe("https://бот.example.com/kie/callback");
  });

  const orders = [
    { modelId: "suno/v5", values: { prompt: "песня о лисах 🦊", instrumental: false } },
    { modelId: "qwen/text-to-image", values: { prompt: "рыжая лиса 🦊 в снегу" } },
  ] as const;
  it.each(orders)("a polling deployment sends $modelId with a callBackUrl that reaches nobody", async (order) => {
    const dir = tempDir();
    defer(() => dir.remove());
    const userId = 730;
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, userId, { wallet: walletWith(1_000_000) });
    const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => bot.app.stop().then(() => undefined));
    const generate = await orderFor(bot, userId, order.modelId, order.values);
    await bot.send(userOf(userId, "ru").press(generate), 2);
    await until(() => kie.tasks.size === 1);
    const [task] = [...kie.tasks.values()];
    const sent = task?.body.callBackUrl;
    expect(typeof sent).toBe("string");
    const host = new URL(String(sent)).hostname;
    expect(RESERVED_UNRESOLVABLE.some((tld) => host.endsWith(tld))).toBe(true);
    // KIE's documented schema takes it (Suno requires a callBackUrl).
    expect(kie.refused).toEqual([]);
  });
});
