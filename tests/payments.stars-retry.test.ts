/**
 * A Stars payment the payment actor cannot record at once (its reads fail,
 * so every report of it is answered with a failure) is reported again by
 * the user's actor on a timer, with a growing wait and without holding up
 * the user's other turns, and is credited once the payment actor can
 * record it, without a restart.
 */
import type { Update } from "grammy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type App, startApp } from "../src/app.ts";
import { platform } from "../src/platform/mod.ts";
import type { KvKey, KvStore } from "../src/platform/types.ts";
import { testConfig } from "./helpers/app.ts";
import { type BotCall, botApiServer, sharedTelegram, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { silentLog, tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const USER = 961;
const CHARGE = "charge-retry-1";
/** Failed reports before the payment actor can read again: as many as the old code tried before giving up. */
const FAILURES = 6;

/** The KV with reads of this charge's payment record failing while `failing()` says so (each failure's time kept). */
function failingReadsOf(kv: KvStore, failing: () => boolean, failedAt: number[]): KvStore {
  const names = (keys: readonly KvKey[]) => keys.some((key) => key[0] === "payment" && key[2] === CHARGE);
  return {
    get: (key) => kv.get(key),
    getMany: async (keys) => {
      if (names(keys) && failing()) {
        failedAt.push(Date.now());
        throw new Error("KV unavailable (test)");
      }
      return await kv.getMany(keys);
    },
    list: (selector, options) => kv.list(selector, options),
    atomic: () => kv.atomic(),
    listenQueue: (handler) => kv.listenQueue(handler),
    close: () => kv.close(),
  };
}

function paid(invoiceId: string): Update {
  const from = { id: USER, is_bot: false, first_name: "Payer", language_code: "en" };
  return {
    update_id: 96_001,
    message: {
      message_id: 96_001,
      date: 1_790_000_000,
      chat: { id: USER, type: "private", first_name: "Payer" },
      from,
      successful_payment: {
        currency: "XTR",
        total_amount: 100,
        invoice_payload: invoiceId,
        telegram_payment_charge_id: CHARGE,
        provider_payment_charge_id: `p-${CHARGE}`,
      },
    },
  } as Update;
}

const texts = () => calls.filter((call) => call.body.chat_id === USER).map((call) => String(call.body.text ?? ""));

describe("a Stars payment the payment actor could not record at once", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    sharedTelegram.reset();
  });

  async function botWithFailingReads(failing: (failedAt: readonly number[]) => boolean) {
    const dir = tempDir();
    defer(() => dir.remove());
    const failedAt: number[] = [];
    const app: App = await startApp({
      config: testConfig(`${dir.path}/kv`, { STARS_PACKAGES: "100:15000" }),
      platform: {
        ...platform,
        openKv: async (location) => failingReadsOf(await platform.openKv(location), () => failing(failedAt), failedAt),
      },
      log: silentLog,
      mode: "in-thread",
    });
    defer(() => app.stop().then(() => undefined));
    const invoice = await app.supervisor.ask<{ invoiceId: string }>("payment", "main", {
      type: "createStarsInvoice",
      userId: USER,
      stars: 100,
      kopecks: 15_000,
    });
    if (!invoice.ok) throw new Error("no invoice");
    return { app, failedAt, invoiceId: invoice.value.invoiceId };
  }

  /** The user was credited once, told once, and nothing of the payment is left pending. */
  async function creditedOnce(app: App) {
    const records = await userRecords(app.kv, USER);
    expect(records.state.wallet.balance).toBe(15_000);
    expect(records.ledger.map((record) => record.entry.key)).toEqual([`stars:${CHARGE}`]);
    await until(async () => Object.keys((await userRecords(app.kv, USER)).state.pendingStars).length === 0);
    await until(async () => (await app.kv.get(["open_payment", USER, CHARGE])).versionstamp === null);
    expect((await app.kv.get(["payment", "stars", CHARGE])).value).toMatchObject({ status: "paid", kopecks: 15_000 });
    expect(texts().filter((text) => text.includes("topped up"))).toHaveLength(1);
  }

  it("is reported again after six failed reports, each wait longer than the one before, and credited without a restart", async () => {
    const { app, failedAt, invoiceId } = await botWithFailingReads((failed) => failed.length < FAILURES);
    await app.dispatch(paid(invoiceId));
    // The waits add up to 10.5 s (500 ms, then 500 ms more each time).
    await until(() => texts().some((text) => text.includes("topped up by 150 ₽")), 20_000);
    expect(failedAt).toHaveLength(FAILURES);
    const waits = failedAt.slice(1).map((at, i) => at - (failedAt[i] ?? at));
    expect(waits[0]).toBeGreaterThanOrEqual(450);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1] ?? 0);
    await creditedOnce(app);
  });

  it("waits for its next report apart from the user's turns: the user is answered meanwhile", async () => {
    let down = true;
    const { app, failedAt, invoiceId } = await botWithFailingReads(() => down);
    await app.dispatch(paid(invoiceId));
    await until(() => failedAt.length >= 3);
    // Not awaited: an actor held up by the report would answer only once it gave up.
    void app.dispatch(userOf(USER, "en").text("/balance"));
    await until(() => texts().length > 0, 2_000);
    expect(texts()[0]).toContain("0 ₽");
    down = false;
    await until(() => texts().some((text) => text.includes("topped up by 150 ₽")), 10_000);
    await creditedOnce(app);
  });
});
