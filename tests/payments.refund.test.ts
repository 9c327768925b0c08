/**
 * Refunds by an admin, in-thread with msw for the Bot API (the strict fake
 * Telegram, which knows its Stars charges) and YooKassa: the user's ledger
 * is debited once per attempt, then the provider refunds; a provider that
 * refuses gets the debit given back and the admin may try again; an
 * ambiguous answer is checked with the provider, never reverted blindly;
 * a slow provider holds up nobody's payment.
 */
import type { Update } from "grammy/types";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initialUserState } from "../src/bot/state.ts";
import { initialPaymentState } from "../src/payments/payment-core.ts";
import {
  checkDelay,
  openRefundKey,
  Refund,
  receiveRefund,
  refundRecordKey,
  refundWrites,
} from "../src/payments/refund-core.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiHandlers, sharedTelegram, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const API = "https://api.yookassa.ru/v3";
const calls: BotCall[] = [];

/** How Telegram answers `refundStarPayment`: as the fake rules say, down (500), or refunding but losing the answer. */
let starsMode: "normal" | "down" | "refund-then-down" = "normal";

/** How YooKassa answers `POST /refunds`. */
let yooMode: "normal" | "down" | "refused" | "slow" = "normal";
const yooPosts: { key: string | null; body: unknown }[] = [];
/** Refunds YooKassa made, by Idempotence-Key (a repeat with the same key answers the same refund). */
const yooMade = new Map<string, { id: string; status: string; payment_id: string }>();
const yooLists: string[] = [];
/** Whether a pre-checkout answer had gone out when the slow YooKassa refund answered. */
let answeredBeforeSlowRefund: boolean | undefined;

const preCheckoutAnswers = () => calls.filter((call) => call.method === "answerPreCheckoutQuery");

const server = setupServer(
  ...botApiHandlers(calls, {
    refuse: (call) => {
      if (call.method !== "refundStarPayment" || starsMode === "normal") return undefined;
      // The refund reached Telegram, but its answer is lost on the way back.
      if (starsMode === "refund-then-down") sharedTelegram.answer(call.method, call.body);
      return { status: 502, description: "Bad Gateway" };
    },
  }),
  http.post(`${API}/refunds`, async ({ request }) => {
    const body = (await request.json()) as { payment_id: string };
    const key = request.headers.get("idempotence-key");
    yooPosts.push({ key, body });
    if (yooMode === "down") return HttpResponse.json({ type: "error", code: "internal_server_error" }, { status: 500 });
    if (yooMode === "refused")
      return HttpResponse.json(
        { type: "error", code: "invalid_request", description: "Payment is not refundable" },
        { status: 400 },
      );
    if (yooMode === "slow") {
      await until(() => preCheckoutAnswers().length > 0, 3_000).catch(() => undefined);
      answeredBeforeSlowRefund = preCheckoutAnswers().length > 0;
    }
    const made = yooMade.get(String(key)) ?? {
      id: `r-${yooMade.size + 1}`,
      status: "succeeded",
      payment_id: body.payment_id,
    };
    yooMade.set(String(key), made);
    return HttpResponse.json(made);
  }),
  http.get(`${API}/refunds`, ({ request }) => {
    const paymentId = new URL(request.url).searchParams.get("payment_id") ?? "";
    yooLists.push(paymentId);
    const items = [...yooMade.values()].filter((refund) => refund.payment_id === paymentId);
    return HttpResponse.json({ type: "list", items });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const ADMIN = 900;
const texts = (chatId: number) =>
  calls.filter((call) => call.body.chat_id === chatId).map((call) => String(call.body.text ?? ""));
const starsRefunds = () => calls.filter((call) => call.method === "refundStarPayment");

/** The bot's clock: the real one, moved on by the test (checks are due minutes later). */
let shift = 0;
const clock = { now: () => Date.now() + shift, monotonic: () => platform.clock.monotonic() };

describe("refunds by an admin", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    yooPosts.length = 0;
    yooLists.length = 0;
    yooMade.clear();
    starsMode = "normal";
    yooMode = "normal";
    answeredBeforeSlowRefund = undefined;
    shift = 0;
    sharedTelegram.reset();
  });

  /** A bot where `userId` paid 150 ₽ through `provider` (payment `paymentId`) and has `balance`. */
  async function paidBot(
    userId: number,
    provider: "stars" | "yookassa",
    paymentId: string,
    balance = 15_000,
    seed: Record<string, unknown>[] = [],
  ) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    let batch = kv
      .atomic()
      .set(["payment", provider, paymentId], { provider, userId, kopecks: 15_000, status: "paid", at: Date.now() })
      .set(["user", userId], { ...initialUserState("en"), starts: 1, welcomed: true, wallet: walletWith(balance) });
    for (const { key, value } of seed as { key: string[]; value: unknown }[]) batch = batch.set(key, value);
    await batch.commit();
    kv.close();
    const env = {
      ADMIN_IDS: String(ADMIN),
      YOOKASSA_SHOP_ID: "123456",
      YOOKASSA_SECRET_KEY: "test_secret_key",
      PORT: "0",
    };
    const started = await startBot(kvPath, calls, env, clock);
    defer(() => started.app.stop().then(() => undefined));
    const admin = userOf(ADMIN, "en");
    return {
      ...started,
      refund: (args: string) => started.send(admin.text(`/refund ${args}`), 1),
      /** Moves the bot's clock past the next check and lets the settler look at open refunds. */
      settleLater: async (ms = 10 * 60_000) => {
        shift += ms;
        await started.app.supervisor.tell("payment", "main", { type: "settleRefunds" });
      },
      balance: async () => (await userRecords(started.app.kv, userId)).state.wallet.balance,
      ledgerKeys: async () =>
        (await userRecords(started.app.kv, userId)).ledger.map((record) => record.entry.key).sort(),
      record: async (key: string) => (await started.app.kv.get<Record<string, unknown>>(refundRecordKey(key))).value,
    };
  }

  it("refunds a Stars payment once: the ledger is debited, Telegram refunds, both sides are told", async () => {
    sharedTelegram.recordStarsCharge({ chargeId: "charge-r1", userId: 801, stars: 100 });
    const started = await paidBot(801, "stars", "charge-r1");
    await started.refund("stars charge-r1 asked by the user");
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of charge-r1 done: 150 ₽.")));
    expect(starsRefunds().map((call) => call.body)).toEqual([
      { user_id: 801, telegram_payment_charge_id: "charge-r1" },
    ]);
    expect([...sharedTelegram.refundedCharges()]).toEqual(["charge-r1"]);
    await until(() => texts(801).some((text) => text.includes("Refund: 150 ₽")));
    expect(await started.balance()).toBe(0);
    expect(await started.ledgerKeys()).toEqual(["refund:stars:charge-r1"]);
    expect(await started.record("refund:stars:charge-r1")).toMatchObject({ status: "done", attempt: 1 });
    // Refunds live in their records only: the payment actor's one value holds none, and no index entry is left.
    const stored = await started.app.kv.get<Record<string, unknown>>(["payment", "main"]);
    expect(stored.value).not.toHaveProperty("refunds");
    expect((await started.app.kv.get(openRefundKey("refund:stars:charge-r1"))).value).toBeNull();

    calls.length = 0;
    await started.refund("stars charge-r1 again");
    await until(() => texts(ADMIN).some((text) => text.includes("not done: already_refunded")));
    expect(starsRefunds()).toHaveLength(0);
  });

  it("gives the debit back when Telegram refuses, and refuses a refund the balance no longer covers", async () => {
    // The fake Telegram never took this charge: it answers CHARGE_NOT_FOUND, a definite refusal.
    const started = await paidBot(802, "stars", "charge-r2");
    await started.refund("stars charge-r2");
    await until(() => texts(ADMIN).some((text) => text.includes("not done: provider_failed")));
    await until(async () => (await started.balance()) === 15_000);
    expect(await started.ledgerKeys()).toEqual(["refund:stars:charge-r2", "revert:refund:stars:charge-r2"]);
    expect(await started.record("refund:stars:charge-r2")).toMatchObject({ status: "failed" });

    const spent = await paidBot(803, "stars", "charge-r3", 1_000);
    await spent.refund("stars charge-r3");
    await until(() => texts(ADMIN).some((text) => text.includes("charge-r3 not done: insufficient_funds")));
    expect(await spent.balance()).toBe(1_000);
  });

  it("debits again when the admin retries a refused refund: the user pays for the refund exactly once", async () => {
    const started = await paidBot(806, "stars", "charge-r6");
    for (const round of [1, 2]) {
      await started.refund("stars charge-r6");
      await until(() => texts(ADMIN).filter((text) => text.includes("not done: provider_failed")).length === round);
      await until(async () => (await started.ledgerKeys()).length === 2 * round);
      await until(async () => (await started.balance()) === 15_000);
    }
    // Telegram now knows the charge: the third attempt refunds.
    sharedTelegram.recordStarsCharge({ chargeId: "charge-r6", userId: 806, stars: 100 });
    await started.refund("stars charge-r6");
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of charge-r6 done")));
    expect(await started.balance()).toBe(0);
    expect(await started.ledgerKeys()).toEqual([
      "refund:stars:charge-r6",
      "refund:stars:charge-r6#2",
      "refund:stars:charge-r6#3",
      "revert:refund:stars:charge-r6",
      "revert:refund:stars:charge-r6#2",
    ]);
    expect(await started.record("refund:stars:charge-r6")).toMatchObject({
      status: "done",
      attempt: 3,
      debitKey: "refund:stars:charge-r6#3",
    });
  });

  it("checks an ambiguous Stars answer with Telegram instead of giving the money back", async () => {
    sharedTelegram.recordStarsCharge({ chargeId: "charge-r7", userId: 807, stars: 100 });
    const started = await paidBot(807, "stars", "charge-r7");
    starsMode = "refund-then-down";
    await started.refund("stars charge-r7");
    await until(() => texts(ADMIN).some((text) => text.includes("It is being checked with the provider")));
    expect(await started.record("refund:stars:charge-r7")).toMatchObject({ status: "unknown" });
    expect(await started.balance()).toBe(0);

    // Asked again while it is being checked: nothing new starts.
    await started.refund("stars charge-r7");
    await until(() => texts(ADMIN).some((text) => text.includes("already under way or being checked")));
    expect(starsRefunds()).toHaveLength(1);

    // Still down at the first check: still unknown, asked again later.
    starsMode = "down";
    await started.settleLater();
    await until(() => starsRefunds().length === 2);
    starsMode = "normal";
    await started.settleLater(60 * 60_000);
    // Telegram says the charge was refunded already (by the first call): done, and the debit stands.
    await until(() => texts(ADMIN).some((text) => text.includes("checked with the provider: done, 150 ₽")));
    await until(() => texts(807).some((text) => text.includes("Refund: 150 ₽")));
    expect(starsRefunds()).toHaveLength(3);
    expect(await started.ledgerKeys()).toEqual(["refund:stars:charge-r7"]);
    expect(await started.balance()).toBe(0);
    expect((await started.app.kv.get(openRefundKey("refund:stars:charge-r7"))).value).toBeNull();
  });

  it("gives the debit back when the check of an ambiguous answer finds a definite refusal", async () => {
    // A charge Telegram does not know: once it answers, it refuses.
    const started = await paidBot(808, "stars", "charge-r8");
    starsMode = "down";
    await started.refund("stars charge-r8");
    await until(() => texts(ADMIN).some((text) => text.includes("It is being checked with the provider")));
    starsMode = "normal";
    await started.settleLater();
    await until(() => texts(ADMIN).some((text) => text.includes("checked with the provider: not done")));
    await until(async () => (await started.balance()) === 15_000);
    expect(await started.ledgerKeys()).toEqual(["refund:stars:charge-r8", "revert:refund:stars:charge-r8"]);
    expect(await started.record("refund:stars:charge-r8")).toMatchObject({ status: "failed" });
  });

  it("checks an ambiguous YooKassa answer by repeating the refund with its Idempotence-Key, then by listing", async () => {
    const started = await paidBot(809, "yookassa", "pay-79");
    yooMode = "down";
    await started.refund("yookassa pay-79");
    await until(() => texts(ADMIN).some((text) => text.includes("It is being checked with the provider")));
    expect(await started.balance()).toBe(0);
    yooMode = "normal";
    await started.settleLater();
    await until(() => texts(ADMIN).some((text) => text.includes("checked with the provider: done")));
    expect(new Set(yooPosts.map((post) => post.key))).toEqual(new Set(["refund:yookassa:pay-79"]));
    expect(yooMade.size).toBe(1);
    expect(await started.ledgerKeys()).toEqual(["refund:yookassa:pay-79"]);

    // A day later YooKassa has forgotten the key: the payment's refunds are listed instead.
    const late = await paidBot(810, "yookassa", "pay-80");
    yooMode = "down";
    await late.refund("yookassa pay-80");
    await until(() => texts(ADMIN).filter((text) => text.includes("It is being checked")).length === 2);
    const posts = yooPosts.length;
    await late.settleLater(25 * 3_600_000);
    await until(() => texts(ADMIN).some((text) => text.includes("pay-80 checked with the provider: not done")));
    expect(yooLists).toEqual(["pay-80"]);
    expect(yooPosts).toHaveLength(posts);
    await until(async () => (await late.balance()) === 15_000);
  });

  it("gives the debit back when YooKassa refuses the refund with a 4xx", async () => {
    const started = await paidBot(811, "yookassa", "pay-81");
    yooMode = "refused";
    await started.refund("yookassa pay-81");
    await until(() => texts(ADMIN).some((text) => text.includes("pay-81 not done: provider_failed")));
    await until(async () => (await started.balance()) === 15_000);
    expect(yooPosts).toHaveLength(1);
  });

  it("answers a Stars pre-checkout while a YooKassa refund waits for its slow answer", async () => {
    const started = await paidBot(812, "yookassa", "pay-82");
    const invoice = await started.app.supervisor.ask<{ invoiceId: string }>("payment", "main", {
      type: "createStarsInvoice",
      userId: 813,
      stars: 100,
      kopecks: 15_000,
    });
    const invoiceId = invoice.ok ? invoice.value.invoiceId : "";
    yooMode = "slow";
    // Not waiting for the admin's answer: it comes only once YooKassa answers.
    await started.app.dispatch(userOf(ADMIN, "en").text("/refund yookassa pay-82"));
    await until(() => yooPosts.length === 1);
    const from = { id: 813, is_bot: false, first_name: "Payer", language_code: "en" };
    const query = {
      update_id: 77_001,
      pre_checkout_query: { id: "pcq-r1", from, currency: "XTR", total_amount: 100, invoice_payload: invoiceId },
    } as Update;
    await started.send(query);
    await until(() => texts(ADMIN).some((text) => text.includes("Refund of pay-82 done")));
    expect(answeredBeforeSlowRefund).toBe(true);
    expect(preCheckoutAnswers().map((call) => call.body)).toEqual([
      expect.objectContaining({ pre_checkout_query_id: "pcq-r1", ok: true }),
    ]);
    expect(sharedTelegram.refusals.filter((refusal) => refusal.method === "answerPreCheckoutQuery")).toEqual([]);
  });

  it("settles a refund left unknown by an earlier run soon after the start, without the admin", async () => {
    sharedTelegram.recordStarsCharge({ chargeId: "charge-r14", userId: 814, stars: 100 });
    const key = "refund:stars:charge-r14";
    const refund = Refund.parse({
      key,
      provider: "stars",
      paymentId: "charge-r14",
      userId: 814,
      kopecks: 15_000,
      adminId: ADMIN,
      reason: "refund",
      status: "unknown",
      at: Date.now() - 600_000,
      nextCheckAt: Date.now() - 1,
      checked: true,
    });
    const seed = refundWrites(refund, Date.now()).flatMap((write) =>
      write.op === "set" ? [{ key: write.key, value: write.value }] : [],
    );
    const started = await paidBot(814, "stars", "charge-r14", 0, seed);
    await until(async () => (await started.record(key))?.status === "done");
    expect([...sharedTelegram.refundedCharges()]).toEqual(["charge-r14"]);
    // The admin never wrote to this bot: told in the default language.
    await until(() => texts(ADMIN).some((text) => text.includes("Возврат charge-r14 проверен")));
  });

  it("asks again at the start a refund whose ask a crash cut off, before its next check is due", async () => {
    // Killed after the debit, while Telegram was being asked: the record waits a minute for its first check.
    sharedTelegram.recordStarsCharge({ chargeId: "charge-r15", userId: 815, stars: 100 });
    const key = "refund:stars:charge-r15";
    const askedAt = Date.now() - 2_000;
    const refund = Refund.parse({
      key,
      provider: "stars",
      paymentId: "charge-r15",
      userId: 815,
      kopecks: 15_000,
      adminId: ADMIN,
      reason: "refund",
      status: "refunding",
      at: askedAt,
      attempt: 1,
      debitKey: key,
      askedAt,
      nextCheckAt: askedAt + 60_000,
      checked: false,
    });
    const seed = refundWrites(refund, askedAt).flatMap((write) =>
      write.op === "set" ? [{ key: write.key, value: write.value }] : [],
    );
    const started = await paidBot(815, "stars", "charge-r15", 0, seed);
    await until(async () => (await started.record(key))?.status === "done", 5_000);
    expect([...sharedTelegram.refundedCharges()]).toEqual(["charge-r15"]);
    await until(() => texts(ADMIN).some((text) => text.includes("Возврат charge-r15 выполнен: 150 ₽.")));
    await until(() => texts(815).some((text) => text.includes("150 ₽")));
  });

  it("is refused to anyone but an admin", async () => {
    const started = await paidBot(805, "stars", "charge-r5");
    const made = await started.send(userOf(805, "en").text("/refund stars charge-r5"));
    expect(String(made[0]?.body.text)).toContain("I understand commands, buttons and model names");
    expect(await started.balance()).toBe(15_000);
  });
});

describe("refund records", () => {
  const base = {
    key: "refund:stars:c1",
    provider: "stars",
    paymentId: "c1",
    userId: 1,
    kopecks: 100,
    adminId: 2,
    reason: "r",
    at: 0,
  } as const;

  it("reads records written before attempts existed as the first attempt, under the key they debited", () => {
    expect(Refund.parse({ ...base, status: "failed" })).toMatchObject({ attempt: 1, debitKey: "refund:stars:c1" });
  });

  it("never moves a refund backwards: a late answer, or one for an earlier attempt, changes nothing", () => {
    const state = initialPaymentState();
    const done = Refund.parse({ ...base, status: "done", attempt: 1 });
    const late = receiveRefund(
      state,
      { type: "providerAnswered", key: base.key, attempt: 1, answer: { kind: "refused", code: "x" } },
      1,
      [done],
    );
    expect(late).toEqual({ state });
    const second = Refund.parse({ ...base, status: "refunding", attempt: 2 });
    const stale = receiveRefund(
      state,
      { type: "providerAnswered", key: base.key, attempt: 1, answer: { kind: "refused", code: "x" } },
      1,
      [second],
    );
    expect(stale).toEqual({ state });
  });

  it("keeps a refund's record well under KV's 64 KiB at its worst case, and backs off checks up to half an hour", () => {
    const worst = Refund.parse({
      ...base,
      key: `refund:yookassa:${"p".repeat(128)}`,
      paymentId: "p".repeat(128),
      reason: "я".repeat(200),
      userId: Number.MAX_SAFE_INTEGER,
      adminId: Number.MAX_SAFE_INTEGER,
      kopecks: Number.MAX_SAFE_INTEGER,
      status: "unknown",
      attempt: 1_000_000,
      checks: 1_000_000,
      nextCheckAt: Number.MAX_SAFE_INTEGER,
      askedAt: Number.MAX_SAFE_INTEGER,
      checked: true,
    });
    for (const write of refundWrites(worst, Number.MAX_SAFE_INTEGER)) {
      if (write.op === "set") expect(new TextEncoder().encode(JSON.stringify(write.value)).length).toBeLessThan(2_048);
    }
    expect([checkDelay(0), checkDelay(1), checkDelay(10)]).toEqual([60_000, 120_000, 30 * 60_000]);
  });
});
