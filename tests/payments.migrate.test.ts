/**
 * A payment actor state saved by an earlier version, which kept refunds
 * under way inside the state: on the first turn each refund moves into its
 * record and the open index, and the settler finishes it from where it
 * stood (a debit asked for is asked again under the same key; a provider
 * asked is asked how it went), without the admin.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initialUserState } from "../src/bot/state.ts";
import { OPEN_REFUNDS_PREFIX } from "../src/payments/refund-core.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiServer, sharedTelegram, startBot } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const ADMIN = 970;
const texts = (chatId: number) =>
  calls.filter((call) => call.body.chat_id === chatId).map((call) => String(call.body.text ?? ""));

/** A refund as the earlier version kept it in the payment actor's state (and in its record, written beside it). */
const oldRefund = (userId: number, chargeId: string, status: "debiting" | "refunding") => ({
  key: `refund:stars:${chargeId}`,
  provider: "stars",
  paymentId: chargeId,
  userId,
  kopecks: 15_000,
  adminId: ADMIN,
  reason: "asked by the user",
  status,
  at: Date.now() - 120_000,
});

describe("refunds under way in an earlier version's payment actor state", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    sharedTelegram.reset();
  });

  it("are moved into their records and settled: the user is debited once and Telegram refunds once", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    // 971's refund had asked Telegram, which refunded, but the answer was lost with the old version.
    sharedTelegram.recordStarsCharge({ chargeId: "charge-m1", userId: 971, stars: 100 });
    sharedTelegram.answer("refundStarPayment", { user_id: 971, telegram_payment_charge_id: "charge-m1" });
    // 972's refund had asked the user's actor for the debit, which never answered.
    sharedTelegram.recordStarsCharge({ chargeId: "charge-m2", userId: 972, stars: 100 });
    const refunding = oldRefund(971, "charge-m1", "refunding");
    const debiting = oldRefund(972, "charge-m2", "debiting");
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const paidRecord = (userId: number) => ({ provider: "stars", userId, kopecks: 15_000, status: "paid", at: 1 });
    await kv
      .atomic()
      .set(["payment", "main"], {
        v: 1,
        seq: 4,
        outbox: {},
        yoo: {},
        refunds: { [refunding.key]: refunding, [debiting.key]: debiting },
      })
      .set(["refund", refunding.key], { ...refunding, updatedAt: refunding.at })
      .set(["refund", debiting.key], { ...debiting, updatedAt: debiting.at })
      .set(["payment", "stars", "charge-m1"], paidRecord(971))
      .set(["payment", "stars", "charge-m2"], paidRecord(972))
      // 971 was debited before Telegram was asked.
      .set(["user", 971], {
        ...initialUserState("en"),
        starts: 1,
        welcomed: true,
        wallet: { ...walletWith(0), recentKeys: [refunding.key] },
      })
      .set(["user", 972], { ...initialUserState("en"), starts: 1, welcomed: true, wallet: walletWith(15_000) })
      .set(["user", ADMIN], { ...initialUserState("en"), starts: 1, welcomed: true })
      .commit();
    kv.close();

    const started = await startBot(kvPath, calls, { ADMIN_IDS: String(ADMIN) }, "real");
    defer(() => started.app.stop().then(() => undefined));
    const record = async (key: string) => (await started.app.kv.get<Record<string, unknown>>(["refund", key])).value;

    await until(async () => (await record(refunding.key))?.status === "done", 10_000);
    await until(async () => (await record(debiting.key))?.status === "done", 10_000);
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of charge-m1 done: 150 ₽.")));
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of charge-m2 done: 150 ₽.")));
    await until(() => texts(971).some((text) => text.includes("Refund: 150 ₽")));
    await until(() => texts(972).some((text) => text.includes("Refund: 150 ₽")));
    expect(texts(ADMIN).filter((text) => text.includes("not done"))).toEqual([]);

    // Telegram: 971's charge was asked about once (already refunded), 972's refunded once.
    const refundCalls = calls.filter((call) => call.method === "refundStarPayment").map((call) => call.body);
    expect(refundCalls).toHaveLength(2);
    expect(refundCalls).toEqual(
      expect.arrayContaining([
        { user_id: 971, telegram_payment_charge_id: "charge-m1" },
        { user_id: 972, telegram_payment_charge_id: "charge-m2" },
      ]),
    );
    expect([...sharedTelegram.refundedCharges()].sort()).toEqual(["charge-m1", "charge-m2"]);

    // The users' balances: 971 was debited before (not again), 972 once, under the refund's key.
    expect((await userRecords(started.app.kv, 971)).state.wallet.balance).toBe(0);
    const second = await userRecords(started.app.kv, 972);
    expect(second.state.wallet.balance).toBe(0);
    expect(second.ledger.map((entry) => entry.entry.key)).toEqual([debiting.key]);

    // Nothing is left under way, and the actor's one value holds no refunds any more.
    const open = [];
    for await (const entry of started.app.kv.list({ prefix: [...OPEN_REFUNDS_PREFIX] })) open.push(entry.key);
    expect(open).toEqual([]);
    expect((await started.app.kv.get(["payment", "main"])).value).not.toHaveProperty("refunds");
  });
});
