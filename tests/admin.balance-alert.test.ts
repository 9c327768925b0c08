/**
 * The KIE balance alert: when KIE's balance falls below KIE_BALANCE_ALERT_DAYS
 * days of recent spend, every admin is told once, in their language; not
 * again at the next checks, after a restart or by a second instance on the
 * same KV; and again only after the balance recovered and fell once more.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { costDayOf, type JobCost } from "../src/jobs/cost.ts";
import { jobCostKey } from "../src/jobs/keys.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, startBot } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { jobServer, seedUser, until } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const { server, kie } = jobServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const ALERT = { en: "KIE balance is low", ru: "На балансе KIE мало кредитов" } as const;
/** Alerts each admin got so far. */
const alertsTo = (chatId: number) =>
  calls.filter(
    (call) =>
      call.method === "sendMessage" &&
      call.body.chat_id === chatId &&
      (String(call.body.text).includes(ALERT.en) || String(call.body.text).includes(ALERT.ru)),
  );

/** Waits until KIE's balance has been read `n` more times (each check reads it once). */
async function checks(n: number): Promise<void> {
  const target = kie.state.creditReads + n;
  await until(() => kie.state.creditReads >= target);
}

describe("KIE balance alert", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
  });

  /** A KV where the last 7 days' jobs took 700 credits (100 a day: 3 days is 300) and two admins, en and ru. */
  async function kvWithSpend(): Promise<string> {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, 500, { lang: "en" });
    await seedUser(kvPath, 501, { lang: "ru" });
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const now = Date.now();
    const cost = (createdAt: number, credits: number, extra: Partial<JobCost> = {}): JobCost => ({
      modelId: "google/veo-3.1",
      createdAt,
      outcome: "succeeded",
      free: false,
      charged: 50_000,
      refunded: 0,
      credits,
      kie: "billed",
      ...extra,
    });
    const op = kv.atomic();
    for (const [i, [at, credits, extra]] of (
      [
        [now - 6 * 86_400_000, 300, {}],
        [now - 2 * 86_400_000, 250, {}],
        [now - 3_600_000, 150, {}],
        // Failed at KIE (not charged) and older than 7 days: not spend.
        [now - 3_600_000, 5_000, { outcome: "failed", kie: "none", charged: 0 }],
        [now - 9 * 86_400_000, 5_000, {}],
      ] as const
    ).entries()) {
      op.set(jobCostKey(costDayOf(at), 700 + i, `job-${i}`), cost(at, credits, extra));
    }
    await op.commit();
    kv.close();
    return kvPath;
  }

  const ENV = { ADMIN_IDS: "500,501", KIE_BALANCE_ALERT_DAYS: "3", KIE_BALANCE_CHECK_SECONDS: "0.05" };

  it("tells each admin once per fall below the threshold, not at the next checks nor after a restart", async () => {
    const kvPath = await kvWithSpend();
    kie.state.credits = 1_000;
    const first = await startBot(kvPath, calls, ENV);
    defer(() => first.app.stop().then(() => undefined));
    await checks(4);
    expect(alertsTo(500)).toHaveLength(0);

    // 299 credits: less than 3 days of 100 a day.
    kie.state.credits = 299;
    await until(() => alertsTo(500).length === 1 && alertsTo(501).length === 1);
    expect(String(alertsTo(500)[0]?.body.text)).toBe(
      "⚠️ KIE balance is low: 299 credits left, less than 3 days of recent spend (100 credits a day over the last 7 days; alert below 300). Top up the KIE account at kie.ai, or generations will start failing.",
    );
    expect(String(alertsTo(501)[0]?.body.text)).toContain(
      "⚠️ На балансе KIE мало кредитов: осталось 299, меньше чем на 3 дн. при нынешнем расходе (100 кр. в день",
    );
    await checks(5);
    kie.state.credits = 120;
    await checks(5);
    expect(alertsTo(500)).toHaveLength(1);
    expect(alertsTo(501)).toHaveLength(1);
    await first.app.stop();

    // A restart, still low: nothing again.
    const second = await startBot(kvPath, calls, ENV);
    defer(() => second.app.stop().then(() => undefined));
    await checks(5);
    expect(alertsTo(500)).toHaveLength(1);
    expect(alertsTo(501)).toHaveLength(1);

    // Topped up (above the threshold with room), then spent down again: a new alert.
    kie.state.credits = 5_000;
    await checks(4);
    expect(alertsTo(500)).toHaveLength(1);
    kie.state.credits = 200;
    await until(() => alertsTo(500).length === 2 && alertsTo(501).length === 2);
    expect(String(alertsTo(500)[1]?.body.text)).toContain("200 credits left");
    await checks(5);
    expect(alertsTo(500)).toHaveLength(2);
    expect(alertsTo(501)).toHaveLength(2);
  });

  it("two instances on one KV tell each admin once between them", async () => {
    const kvPath = await kvWithSpend();
    kie.state.credits = 100;
    const [one, two] = await Promise.all([startBot(kvPath, calls, ENV), startBot(kvPath, calls, ENV)]);
    defer(() => one.app.stop().then(() => undefined));
    defer(() => two.app.stop().then(() => undefined));
    await until(() => alertsTo(500).length >= 1 && alertsTo(501).length >= 1);
    await checks(10);
    expect(alertsTo(500)).toHaveLength(1);
    expect(alertsTo(501)).toHaveLength(1);
  });

  it("is off with KIE_BALANCE_ALERT_DAYS=0: KIE's balance is not even read", async () => {
    const kvPath = await kvWithSpend();
    kie.state.credits = 0;
    const reads = kie.state.creditReads;
    const started = await startBot(kvPath, calls, { ...ENV, KIE_BALANCE_ALERT_DAYS: "0" });
    defer(() => started.app.stop().then(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(kie.state.creditReads).toBe(reads);
    expect(alertsTo(500)).toHaveLength(0);
  });
});
