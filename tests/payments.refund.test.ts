/**
 * Refunds by an admin, in-thread with msw for the Bot API and YooKassa: the
 * user's ledger is debited once, then the provider refunds; a provider that
 * refuses gets the debit given back; a payment is refunded at most once.
 */
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initialUserState } from "../src/bot/state.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiHandlers, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const API = "https://api.yookassa.ru/v3";
const calls: BotCall[] = [];
const refunds: { key: string | null; body: unknown }[] = [];
let starsRefundFails = false;
const server = setupServer(
  ...botApiHandlers(calls, {
    refuse: (call) => (starsRefundFails && call.method === "refundStarPayment" ? "CHARGE_ALREADY_REFUNDED" : undefined),
  }),
  http.post(`${API}/refunds`, async ({ request }) => {
    const body = (await request.json()) as { payment_id: string };
    refunds.push({ key: request.headers.get("idempotence-key"), body });
    return HttpResponse.json({ id: `r-${body.payment_id}`, status: "succeeded", payment_id: body.payment_id });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const ADMIN = 900;
const texts = (chatId: number) =>
  calls.filter((call) => call.body.chat_id === chatId).map((call) => String(call.body.text ?? ""));

describe("refunds by an admin", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    refunds.length = 0;
    starsRefundFails = false;
  });

  /** A bot where `userId` paid `kopecks` through `provider` (payment `paymentId`) and still has it. */
  async function paidBot(userId: number, provider: "stars" | "yookassa", paymentId: string, balance = 15_000) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    await kv
      .atomic()
      .set(["payment", provider, paymentId], { provider, userId, kopecks: 15_000, status: "paid", at: Date.now() })
      .set(["user", userId], { ...initialUserState("en"), starts: 1, welcomed: true, wallet: walletWith(balance) })
      .commit();
    kv.close();
    const env = {
      ADMIN_IDS: String(ADMIN),
      YOOKASSA_SHOP_ID: "123456",
      YOOKASSA_SECRET_KEY: "test_secret_key",
      PORT: "0",
    };
    const started = await startBot(kvPath, calls, env, "real");
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  it("refunds a Stars payment once: the ledger is debited, Telegram refunds, both sides are told", async () => {
    const started = await paidBot(801, "stars", "charge-r1");
    const admin = userOf(ADMIN, "en");
    await started.send(admin.text("/refund stars charge-r1 asked by the user"), 1);
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of charge-r1 done: 150 ₽.")));
    expect(calls.find((call) => call.method === "refundStarPayment")?.body).toEqual({
      user_id: 801,
      telegram_payment_charge_id: "charge-r1",
    });
    await until(() => texts(801).some((text) => text.includes("Refund: 150 ₽")));
    const records = await userRecords(started.app.kv, 801);
    expect(records.state.wallet.balance).toBe(0);
    expect(records.ledger.map((record) => record.entry.key)).toEqual(["refund:stars:charge-r1"]);
    // A finished refund is kept in its own record only: the payment actor's one value does not grow with refunds.
    await until(async () => {
      const stored = await started.app.kv.get<{ refunds: object }>(["payment", "main"]);
      return JSON.stringify(stored.value?.refunds) === "{}";
    });
    expect((await started.app.kv.get(["refund", "refund:stars:charge-r1"])).value).toMatchObject({ status: "done" });

    calls.length = 0;
    await started.send(admin.text("/refund stars charge-r1 again"), 1);
    await until(() => texts(ADMIN).some((text) => text.includes("not done: already_refunded")));
    expect(calls.filter((call) => call.method === "refundStarPayment")).toHaveLength(0);
  });

  it("gives the debit back when the provider refuses, and refuses a refund the balance no longer covers", async () => {
    starsRefundFails = true;
    const started = await paidBot(802, "stars", "charge-r2");
    await started.send(userOf(ADMIN, "en").text("/refund stars charge-r2"), 1);
    await until(() => texts(ADMIN).some((text) => text.includes("not done: provider_failed")));
    await until(async () => (await userRecords(started.app.kv, 802)).state.wallet.balance === 15_000);
    const keys = (await userRecords(started.app.kv, 802)).ledger.map((record) => record.entry.key).sort();
    expect(keys).toEqual(["refund:stars:charge-r2", "revert:refund:stars:charge-r2"]);

    const spent = await paidBot(803, "stars", "charge-r3", 1_000);
    await spent.send(userOf(ADMIN, "en").text("/refund stars charge-r3"), 1);
    await until(() => texts(ADMIN).some((text) => text.includes("charge-r3 not done: insufficient_funds")));
    expect((await userRecords(spent.app.kv, 803)).state.wallet.balance).toBe(1_000);
  });

  it("refunds a YooKassa payment through its API with the refund's Idempotence-Key", async () => {
    const started = await paidBot(804, "yookassa", "pay-77");
    await started.send(userOf(ADMIN, "en").text("/refund yookassa pay-77 duplicate payment"), 1);
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of pay-77 done")));
    expect(refunds).toEqual([
      { key: "refund:yookassa:pay-77", body: { payment_id: "pay-77", amount: { value: "150.00", currency: "RUB" } } },
    ]);
    expect((await userRecords(started.app.kv, 804)).state.wallet.balance).toBe(0);
  });

  it("is refused to anyone but an admin", async () => {
    const started = await paidBot(805, "stars", "charge-r5");
    const made = await started.send(userOf(805, "en").text("/refund stars charge-r5"));
    expect(String(made[0]?.body.text)).toContain("I understand commands and buttons");
    expect((await userRecords(started.app.kv, 805)).state.wallet.balance).toBe(15_000);
  });
});
