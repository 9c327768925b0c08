/**
 * The chaos suite's money invariants (`bench/chaos/money-invariants.ts`)
 * each catch their break: a consistent run (card payments, a refund at
 * each provider, one after a failed attempt, admin credits and debits, a
 * job charged and one held) yields no violation, and each break yields
 * exactly its named violation. And the KV reading they rely on
 * (`bench/chaos/kv-state.ts`, `kv-read.ts`) finds owed credits, open
 * refunds and the payment actor's size where the bot writes them now.
 */

import { join } from "node:path";
import v8 from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import type { Violation } from "../bench/chaos/invariants.ts";
import { openWork } from "../bench/chaos/kv-read.ts";
import { type KvState, readKvState, type UserRecords } from "../bench/chaos/kv-state.ts";
import type { ReportedPayment } from "../bench/chaos/load.ts";
import { checkMoneyInvariants, type MoneyInputs } from "../bench/chaos/money-invariants.ts";
import { initialUserState } from "../src/bot/state.ts";
import type { LedgerEntry, LedgerRecord } from "../src/ledger/ledger.ts";
import { initialPaymentState, PAYMENT_STATE_BUDGET } from "../src/payments/payment-core.ts";
import { type Refund, Refund as RefundSchema } from "../src/payments/refund-core.ts";
import { MAX_OPEN_ATTEMPTS, type YooAttempt } from "../src/payments/yookassa-core.ts";
import { platform } from "../src/platform/mod.ts";
import { FakeYooKassaCore, valueOfKopecks } from "./helpers/fake-yookassa-core.ts";
import { tempDir } from "./helpers/runtime.ts";

const NOW = Date.UTC(2026, 11, 2, 12);
const SHOP = { shopId: "shop", secretKey: "secret" };
const AUTH = `Basic ${Buffer.from("shop:secret").toString("base64")}`;
const ALICE = 101;
const BOB = 102;
const ADMIN = 9;

/** A fake YooKassa driven through its API, as the bot drives it. */
class Shop {
  readonly core = new FakeYooKassaCore({ ...SHOP, now: () => NOW });
  #keys = 0;

  pay(userId: number, attemptId: string, kopecks: number, outcome?: "paid" | "canceled"): string {
    const answer = this.#post("/payments", {
      amount: { value: valueOfKopecks(kopecks), currency: "RUB" },
      confirmation: { type: "redirect", return_url: "https://t.me/bot" },
      capture: true,
      metadata: { attemptId, userId: String(userId) },
    });
    const id = (answer as { id: string }).id;
    if (outcome !== undefined) this.core.settle(id, outcome);
    return id;
  }

  refund(paymentId: string, kopecks: number): void {
    this.#post("/refunds", { payment_id: paymentId, amount: { value: valueOfKopecks(kopecks), currency: "RUB" } });
  }

  #post(path: string, body: unknown): unknown {
    const answer = this.core.handle({
      method: "POST",
      path,
      query: new URLSearchParams(),
      authorization: AUTH,
      idempotenceKey: `k${++this.#keys}`,
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    return answer.body;
  }
}

function recordOf(entry: LedgerEntry, amount: number): LedgerRecord {
  return { entry, at: NOW, amount, balanceAfter: 0, availableAfter: 0 };
}

function userRecords(): UserRecords {
  return {
    state: initialUserState("en"),
    stored: true,
    ledger: new Map(),
    jobs: new Map(),
    history: [],
    openJobs: [],
    openPayments: [],
  };
}

function refundRecord(fields: Partial<Refund> & Pick<Refund, "provider" | "paymentId" | "userId" | "kopecks">): Refund {
  return RefundSchema.parse({
    key: `refund:${fields.provider}:${fields.paymentId}`,
    adminId: ADMIN,
    reason: "asked",
    status: "done",
    at: NOW,
    ...fields,
  });
}

function attempt(id: string, userId: number, kopecks: number, status: YooAttempt["status"], paymentId?: string) {
  return { id, userId, kopecks, createdAt: NOW - 60_000, status, history: [], ...(paymentId ? { paymentId } : {}) };
}

/**
 * A consistent run: Alice paid 100 ₽ by card and was refunded, had a
 * second payment canceled and has a bill open; Bob paid 150 ₽ in Stars,
 * whose refund failed once and was then made, got an admin credit and a
 * debit, and has one generation charged and one still held.
 */
class World {
  readonly shop = new Shop();
  readonly users = new Map<number, UserRecords>([
    [ALICE, userRecords()],
    [BOB, userRecords()],
  ]);
  readonly kv: KvState;
  readonly starsPaid = new Map<string, ReportedPayment>();
  readonly starsRefunded = new Set<string>();
  readonly preCheckouts = new Map<string, { userId: number; sentAt: number; answeredAt?: number }>();
  readonly kills: number[] = [];
  readonly paid: string;
  readonly canceled: string;

  constructor() {
    this.kv = {
      users: this.users,
      starsPayments: new Map(),
      outbox: {},
      yookassaPayments: new Map(),
      yookassaAttempts: new Map(),
      yookassaOpen: new Map(),
      refunds: new Map(),
      openRefunds: new Map(),
      paymentActor: { state: initialPaymentState(), bytes: v8.serialize(initialPaymentState()).length },
      unhandledUpdates: [],
      unreadable: [],
    };
    this.credit(ALICE, "welcome", 5_000);

    this.paid = this.cardPayment(ALICE, "y1", 10_000);
    this.shop.refund(this.paid, 10_000);
    this.debit(ALICE, `refund:yookassa:${this.paid}`, 10_000);
    this.kv.refunds.set(
      `refund:yookassa:${this.paid}`,
      refundRecord({ provider: "yookassa", paymentId: this.paid, userId: ALICE, kopecks: 10_000 }),
    );
    this.canceled = this.shop.pay(ALICE, "y2", 20_000, "canceled");
    this.kv.yookassaAttempts.set("y2", attempt("y2", ALICE, 20_000, "canceled", this.canceled));
    const open = this.shop.pay(ALICE, "y3", 30_000);
    this.kv.yookassaAttempts.set("y3", attempt("y3", ALICE, 30_000, "pending", open));
    this.kv.yookassaOpen.set(ALICE, {
      userId: ALICE,
      attempts: [{ id: "y3", kopecks: 30_000, createdAt: NOW - 60_000, paymentId: open }],
    });

    this.starsPayment(BOB, "c1", 15_000);
    this.debit(BOB, "refund:stars:c1", 15_000);
    this.credit(BOB, "revert:refund:stars:c1", 15_000);
    this.debit(BOB, "refund:stars:c1#2", 15_000);
    this.starsRefunded.add("c1");
    this.kv.refunds.set(
      "refund:stars:c1",
      refundRecord({ provider: "stars", paymentId: "c1", userId: BOB, kopecks: 15_000, attempt: 2 }),
    );
    this.starsPayment(BOB, "c2", 5_000);
    this.adjust(BOB, `admin:${ADMIN}:1`, 1_000);
    this.adjust(BOB, `admin:${ADMIN}:2`, -500);
    this.hold(BOB, "j1", 300);
    this.settle(BOB, "j1", "capture");
    this.hold(BOB, "j2", 200);
    this.settle(BOB, "j2", "release");
    this.hold(BOB, "j3", 100);
    this.preCheckouts.set("q1", { userId: BOB, sentAt: NOW, answeredAt: NOW + 300 });
  }

  inputs(): MoneyInputs {
    return {
      kv: this.kv,
      starsPaid: this.starsPaid,
      starsRefunded: this.starsRefunded,
      yookassa: this.shop.core,
      preCheckouts: this.preCheckouts,
      kills: this.kills,
      now: NOW,
    };
  }

  violations(): Violation[] {
    const found: Violation[] = [];
    checkMoneyInvariants(this.inputs(), (violation) => found.push(violation));
    return found;
  }

  names(): string[] {
    return [...new Set(this.violations().map((violation) => violation.invariant))].sort();
  }

  user(userId: number): UserRecords {
    const records = this.users.get(userId);
    if (records === undefined) throw new Error(`no user ${userId}`);
    return records;
  }

  /** Moves the balance as a ledger record would, without the record. */
  moveBalance(userId: number, kopecks: number): void {
    const records = this.user(userId);
    const { wallet } = records.state;
    this.users.set(userId, {
      ...records,
      state: { ...records.state, wallet: { ...wallet, balance: wallet.balance + kopecks } },
    });
  }

  #write(userId: number, entry: LedgerEntry, amount: number, balanceChange: number): void {
    this.moveBalance(userId, balanceChange);
    this.user(userId).ledger.set(entry.key, recordOf(entry, amount));
  }

  credit(userId: number, key: string, kopecks: number): void {
    this.#write(userId, { type: "credit", key, amount: kopecks, reason: "test" }, kopecks, kopecks);
  }

  debit(userId: number, key: string, kopecks: number): void {
    this.#write(userId, { type: "refund", key, amount: kopecks, reason: "test" }, -kopecks, -kopecks);
  }

  adjust(userId: number, key: string, kopecks: number): void {
    this.#write(userId, { type: "adjustment", key, amount: kopecks, reason: "test" }, kopecks, kopecks);
  }

  hold(userId: number, jobId: string, kopecks: number): void {
    this.#write(userId, { type: "hold", key: `hold:${jobId}`, jobId, amount: kopecks, reason: "m" }, kopecks, 0);
    const records = this.user(userId);
    const { wallet } = records.state;
    const holds = { ...wallet.holds, [jobId]: { amount: kopecks, at: NOW } };
    this.users.set(userId, { ...records, state: { ...records.state, wallet: { ...wallet, holds } } });
  }

  settle(userId: number, jobId: string, how: "capture" | "release"): void {
    const records = this.user(userId);
    const { wallet } = records.state;
    const amount = wallet.holds[jobId]?.amount ?? 0;
    const { [jobId]: _gone, ...holds } = wallet.holds;
    this.users.set(userId, { ...records, state: { ...records.state, wallet: { ...wallet, holds } } });
    this.#write(
      userId,
      { type: how, key: `${how}:${jobId}`, jobId, reason: "m" },
      amount,
      how === "capture" ? -amount : 0,
    );
  }

  /** A card payment the user paid and the bot credited. */
  cardPayment(userId: number, attemptId: string, kopecks: number): string {
    const paymentId = this.shop.pay(userId, attemptId, kopecks, "paid");
    this.credit(userId, `yookassa:${paymentId}`, kopecks);
    this.kv.yookassaPayments.set(paymentId, { paymentId, attemptId, userId, kopecks, status: "paid", at: NOW });
    this.kv.yookassaAttempts.set(attemptId, attempt(attemptId, userId, kopecks, "succeeded", paymentId));
    return paymentId;
  }

  starsPayment(userId: number, chargeId: string, kopecks: number): void {
    this.starsPaid.set(chargeId, { userId, invoiceId: `s-${chargeId}`, stars: kopecks / 100, kopecks });
    this.kv.starsPayments.set(chargeId, { chargeId, userId, status: "paid", kopecks, invoiceId: `s-${chargeId}` });
    this.credit(userId, `stars:${chargeId}`, kopecks);
  }
}

describe("chaos money invariants", () => {
  it("a consistent run breaks none", () => {
    expect(new World().violations()).toEqual([]);
  });

  describe("card payments", () => {
    it("a payment credited to two users", () => {
      const world = new World();
      world.credit(BOB, `yookassa:${world.paid}`, 10_000);
      expect(world.names()).toEqual(["yookassa_credited_once", "yookassa_success_credited"]);
    });

    it("a payment that succeeded and was never credited", () => {
      const world = new World();
      const lost = world.shop.pay(ALICE, "y4", 7_000, "paid");
      world.kv.yookassaAttempts.set("y4", attempt("y4", ALICE, 7_000, "pending", lost));
      const found = world.violations();
      expect(found.map((violation) => violation.invariant)).toEqual(["yookassa_success_credited"]);
      expect(found[0]?.userId).toBe(ALICE);
    });

    it("a payment credited with another amount than it had", () => {
      const world = new World();
      world.user(ALICE).ledger.delete(`yookassa:${world.paid}`);
      world.moveBalance(ALICE, -10_000);
      world.credit(ALICE, `yookassa:${world.paid}`, 1_000);
      expect(world.names()).toEqual(["yookassa_success_credited"]);
    });

    it("a canceled payment credited", () => {
      const world = new World();
      world.credit(ALICE, `yookassa:${world.canceled}`, 20_000);
      expect(world.names()).toEqual(["yookassa_credit_has_success"]);
    });

    it("a payment recorded as paid that YooKassa says was canceled", () => {
      const world = new World();
      world.kv.yookassaPayments.set(world.canceled, { userId: ALICE, kopecks: 20_000, status: "paid" });
      expect(world.names()).toEqual(["yookassa_credit_has_success"]);
    });

    it("a user with more open bills than the cap, in records the index no longer lists", () => {
      const world = new World();
      for (let n = 0; n < MAX_OPEN_ATTEMPTS; n++) {
        world.kv.yookassaAttempts.set(`o${n}`, attempt(`o${n}`, ALICE, 1_000 + n, "creating"));
      }
      const found = world.violations();
      expect(found.map((violation) => violation.invariant)).toEqual(["open_attempts_within_cap"]);
      expect(found[0]?.userId).toBe(ALICE);
    });

    it("open bills past their day no longer count", () => {
      const world = new World();
      for (let n = 0; n < MAX_OPEN_ATTEMPTS; n++) {
        world.kv.yookassaAttempts.set(`o${n}`, { ...attempt(`o${n}`, ALICE, 1_000 + n, "pending"), createdAt: 0 });
      }
      expect(world.violations()).toEqual([]);
    });
  });

  it("a Stars credit of a charge Telegram never reported", () => {
    const world = new World();
    world.starsPaid.delete("c2");
    expect(world.names()).toEqual(["stars_credit_was_paid"]);
  });

  describe("refunds", () => {
    it("a refund YooKassa made without its debit", () => {
      const world = new World();
      world.user(ALICE).ledger.delete(`refund:yookassa:${world.paid}`);
      world.moveBalance(ALICE, 10_000);
      expect(world.names()).toEqual(["refund_made_is_debited"]);
    });

    it("a Stars refund whose second attempt's debit was also given back", () => {
      const world = new World();
      world.credit(BOB, "revert:refund:stars:c1#2", 15_000);
      expect(world.names()).toEqual(["refund_made_is_debited"]);
    });

    it("a debit for a refund the provider never made", () => {
      const world = new World();
      world.debit(BOB, "refund:stars:c2", 5_000);
      world.kv.refunds.set(
        "refund:stars:c2",
        refundRecord({ provider: "stars", paymentId: "c2", userId: BOB, kopecks: 5_000, status: "failed" }),
      );
      expect(world.names()).toEqual(["refund_not_made_not_debited"]);
    });

    it("a refund recorded done that the provider never made", () => {
      const world = new World();
      world.starsRefunded.delete("c1");
      expect(world.names()).toEqual(["refund_not_made_not_debited", "refund_record_matches_provider"]);
    });

    it("a refund recorded failed that the provider made", () => {
      const world = new World();
      const record = world.kv.refunds.get("refund:stars:c1");
      world.kv.refunds.set("refund:stars:c1", { ...(record as Refund), status: "failed" });
      expect(world.names()).toEqual(["refund_record_matches_provider"]);
    });

    it("a debit given back that was never taken", () => {
      const world = new World();
      world.credit(BOB, "revert:refund:stars:c2", 5_000);
      expect(world.names()).toEqual(["revert_has_its_debit"]);
    });

    it("a payment refunded twice at YooKassa", () => {
      const world = new World();
      const paid = world.cardPayment(BOB, "y5", 8_000);
      world.shop.refund(paid, 4_000);
      world.shop.refund(paid, 4_000);
      world.debit(BOB, `refund:yookassa:${paid}`, 8_000);
      world.kv.refunds.set(
        `refund:yookassa:${paid}`,
        refundRecord({ provider: "yookassa", paymentId: paid, userId: BOB, kopecks: 8_000 }),
      );
      expect(world.names()).toEqual(["provider_refunded_once"]);
    });

    it("a refund left unknown, and a stale entry in the open index", () => {
      const world = new World();
      world.debit(BOB, "refund:stars:c2", 5_000);
      world.kv.refunds.set(
        "refund:stars:c2",
        refundRecord({ provider: "stars", paymentId: "c2", userId: BOB, kopecks: 5_000, status: "failed" }),
      );
      world.credit(BOB, "revert:refund:stars:c2", 5_000);
      expect(world.names()).toEqual([]);
      const record = world.kv.refunds.get("refund:stars:c2") as Refund;
      world.kv.refunds.set("refund:stars:c2", { ...record, status: "unknown" });
      expect(world.names()).toEqual(["no_refund_left_open"]);
      world.kv.refunds.set("refund:stars:c2", record);
      world.kv.openRefunds.set("refund:stars:c2", { status: "unknown", at: NOW });
      expect(world.names()).toEqual(["no_refund_left_open"]);
    });
  });

  describe("the whole ledger", () => {
    it("a balance that moved without an entry", () => {
      const world = new World();
      world.moveBalance(BOB, 1);
      expect(world.names()).toEqual(["money_conserved"]);
    });

    it("a hold on a wallet the ledger does not have", () => {
      const world = new World();
      const records = world.user(ALICE);
      const wallet = { ...records.state.wallet, holds: { ghost: { amount: 50, at: NOW } } };
      world.users.set(ALICE, { ...records, state: { ...records.state, wallet } });
      expect(world.names()).toEqual(["holds_conserved"]);
    });

    it("money from an entry of no kind the bot makes", () => {
      const world = new World();
      world.credit(ALICE, "free-money", 100);
      expect(world.names()).toEqual(["ledger_entry_of_known_kind"]);
    });
  });

  describe("pre-checkouts", () => {
    it("one never answered, unless a SIGKILL came while its answer was pending", () => {
      const world = new World();
      world.preCheckouts.set("q1", { userId: BOB, sentAt: NOW });
      expect(world.names()).toEqual(["pre_checkout_answered"]);
      // Killed after Telegram's 10 s were over, or well before the query came: no excuse.
      world.kills.push(NOW + 10_500, NOW - 1_500);
      expect(world.names()).toEqual(["pre_checkout_answered"]);
      world.kills.push(NOW + 4_000);
      expect(world.names()).toEqual([]);
    });

    it("one answered after 10 s, unless a SIGKILL came before its answer", () => {
      const world = new World();
      world.preCheckouts.set("q2", { userId: BOB, sentAt: NOW, answeredAt: NOW + 10_500 });
      expect(world.names()).toEqual(["pre_checkout_answered_in_time"]);
      world.kills.push(NOW + 11_000, NOW - 1_500);
      expect(world.names()).toEqual(["pre_checkout_answered_in_time"]);
      world.kills.push(NOW + 5_000);
      expect(world.names()).toEqual([]);
      world.kills.splice(0, world.kills.length, NOW - 400);
      expect(world.names()).toEqual([]);
    });
  });

  it("a payment actor's value over its budget", () => {
    const world = new World();
    const state = { ...initialPaymentState(), seq: 7 };
    Object.assign(world.kv, { paymentActor: { state, bytes: PAYMENT_STATE_BUDGET + 1 } });
    expect(world.names()).toEqual(["payment_state_within_budget"]);
  });
});

describe("the chaos KV reading", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it("finds owed credits, refunds and card records where the bot writes them, and the ones it cannot read", async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const kvPath = join(dir.path, "bot.kv");
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const state = { ...initialPaymentState(), seq: 3 };
    const credit = { key: "stars:c9", userId: BOB, amount: 5_000, reason: "50 Stars" };
    const refund = refundRecord({
      provider: "yookassa",
      paymentId: "p1",
      userId: ALICE,
      kopecks: 10_000,
      status: "unknown",
    });
    await kv
      .atomic()
      .set(["payment", "main"], state)
      .set(["payment", "owed", credit.key], credit)
      .set(["payment", "yookassa", "p1"], {
        paymentId: "p1",
        attemptId: "y1",
        userId: ALICE,
        kopecks: 10_000,
        status: "paid",
      })
      .set(["payment", "yookassa-attempt", "y1"], attempt("y1", ALICE, 10_000, "succeeded", "p1"))
      .set(["payment", "yookassa-attempt", "y2"], { id: "y2", status: "lost" })
      .set(["payment", "yookassa-open", ALICE], { userId: ALICE, attempts: [] })
      .set(["refund", refund.key], refund)
      .set(["refund-open", refund.key], { status: "unknown", at: NOW })
      .set(["refund", "refund:stars:bad"], { key: "refund:stars:bad", status: "weird" })
      .commit();
    kv.close();

    const read = await readKvState(kvPath);
    expect(read.outbox).toEqual({ [credit.key]: credit });
    expect(read.paymentActor).toEqual({ state, bytes: v8.serialize(state).length });
    expect(read.yookassaPayments.get("p1")).toMatchObject({ userId: ALICE, kopecks: 10_000, status: "paid" });
    expect([...read.yookassaAttempts.keys()]).toEqual(["y1"]);
    expect(read.yookassaOpen.get(ALICE)).toEqual({ userId: ALICE, attempts: [] });
    expect(read.refunds.get(refund.key)?.status).toBe("unknown");
    expect([...read.openRefunds.keys()]).toEqual([refund.key]);
    expect(read.unreadable.map((item) => item.key).sort()).toEqual(
      [JSON.stringify(["payment", "yookassa-attempt", "y2"]), JSON.stringify(["refund", "refund:stars:bad"])].sort(),
    );
    expect(await openWork(kvPath)).toEqual({
      openJobs: 0,
      openPayments: 0,
      outbox: 1,
      pendingOrders: 0,
      openRefunds: 1,
    });
  });
});
