/**
 * A Stars payment Telegram reports again after its invoice is past its day
 * (a repeat of an old `successful_payment`): the payment record stays
 * `paid` (records never move backwards), the user hears nothing new and
 * keeps one credit, and an admin can still refund it.
 */
import type { Update } from "grammy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { INVOICE_TTL_MS } from "../src/payments/payment-core.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiServer, sharedTelegram, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const ADMIN = 950;
const USER = 951;
const CHARGE = "charge-late-1";

let nextUpdate = 95_000;
const from = { id: USER, is_bot: false, first_name: "Payer", language_code: "en" };

function preCheckout(payload: string): Update {
  return {
    update_id: nextUpdate++,
    pre_checkout_query: {
      id: `pcq-late-${nextUpdate}`,
      from,
      currency: "XTR",
      total_amount: 100,
      invoice_payload: payload,
    },
  } as Update;
}

function paid(payload: string): Update {
  return {
    update_id: nextUpdate++,
    message: {
      message_id: nextUpdate,
      date: 1_790_000_000,
      chat: { id: USER, type: "private", first_name: "Payer" },
      from,
      successful_payment: {
        currency: "XTR",
        total_amount: 100,
        invoice_payload: payload,
        telegram_payment_charge_id: CHARGE,
        provider_payment_charge_id: `p-${CHARGE}`,
      },
    },
  } as Update;
}

const texts = (chatId: number) =>
  calls.filter((call) => call.body.chat_id === chatId).map((call) => String(call.body.text ?? ""));

/** The bot's clock: the real one, moved on by the test (the repeat comes a day later). */
let shift = 0;
const clock = { now: () => Date.now() + shift, monotonic: () => platform.clock.monotonic() };

describe("a Stars payment reported again after its invoice's day", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    shift = 0;
    sharedTelegram.reset();
  });

  it("keeps the paid record, tells the user nothing new, and can still be refunded", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const env = { STARS_PACKAGES: "100:15000", ADMIN_IDS: String(ADMIN) };
    const started = await startBot(`${dir.path}/kv`, calls, env, clock);
    defer(() => started.app.stop().then(() => undefined));
    const user = userOf(USER, "en");
    const kv = started.app.kv;

    await started.send(user.text("/topup"));
    const made = await started.send(user.press("1|t|0"), 2);
    const payload = String(made.find((call) => call.method === "sendInvoice")?.body.payload);
    await started.send(preCheckout(payload));
    expect(calls.filter((call) => call.method === "answerPreCheckoutQuery").map((call) => call.body.ok)).toEqual([
      true,
    ]);
    await started.send(paid(payload));
    await until(() => texts(USER).some((text) => text.includes("topped up by 150 ₽")));
    await until(async () => (await kv.get(["payment", "owed", `stars:${CHARGE}`])).versionstamp === null);
    expect((await kv.get(["payment", "stars", CHARGE])).value).toMatchObject({ status: "paid", kopecks: 15_000 });

    // A day and an hour later Telegram delivers the same payment again: the invoice is past its day.
    shift = INVOICE_TTL_MS + 3_600_000;
    calls.length = 0;
    await started.send(paid(payload), 0);
    await until(async () => Object.keys((await userRecords(kv, USER)).state.pendingStars).length === 0);
    await until(async () => (await kv.get(["open_payment", USER, CHARGE])).versionstamp === null);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(texts(USER).filter((text) => text.includes("does not match an invoice"))).toEqual([]);
    expect((await kv.get(["payment", "stars", CHARGE])).value).toMatchObject({
      status: "paid",
      userId: USER,
      kopecks: 15_000,
      invoiceId: payload,
    });
    const records = await userRecords(kv, USER);
    expect(records.state.wallet.balance).toBe(15_000);
    expect(records.ledger.map((record) => record.entry.key)).toEqual([`stars:${CHARGE}`]);

    // The admin refunds it: Telegram gives the Stars back and the ledger is debited once.
    await started.send(userOf(ADMIN, "en").text(`/refund stars ${CHARGE}`), 1);
    await until(() => texts(ADMIN).some((text) => text.includes(`Refund of ${CHARGE} done: 150 ₽.`)));
    expect(texts(ADMIN).filter((text) => text.includes("not done"))).toEqual([]);
    expect(calls.filter((call) => call.method === "refundStarPayment").map((call) => call.body)).toEqual([
      { user_id: USER, telegram_payment_charge_id: CHARGE },
    ]);
    expect([...sharedTelegram.refundedCharges()]).toEqual([CHARGE]);
    await until(() => texts(USER).some((text) => text.includes("Refund: 150 ₽")));
    const after = await userRecords(kv, USER);
    expect(after.state.wallet.balance).toBe(0);
    expect(after.ledger.map((record) => record.entry.key).sort()).toEqual([
      `refund:stars:${CHARGE}`,
      `stars:${CHARGE}`,
    ]);
    expect((await kv.get(["refund", `refund:stars:${CHARGE}`])).value).toMatchObject({ status: "done" });
  });
});
