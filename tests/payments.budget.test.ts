/**
 * The payment actor's one KV value stays O(1) whatever users do, and every
 * record it writes stays under its budget at its worst case, measured the
 * way KV stores it (V8's serialization, `node:v8` as in `@deno/kv`). And
 * the break this guards against: one user pressing a card package 400
 * times without paying used to fill that value and stop every payment;
 * now another user's Stars payment goes through and the first user has at
 * most `MAX_OPEN_ATTEMPTS` open bills.
 */
import v8 from "node:v8";
import type { Update } from "grammy/types";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KvWrite } from "../actors/mod.ts";
import { KV_VALUE_LIMIT } from "../src/jobs/kv-size.ts";
import {
  initialPaymentState,
  PAYMENT_RECORD_BUDGET,
  PAYMENT_STATE_BUDGET,
  type PaymentMessage,
  type PaymentState,
  paymentReads,
  receivePayment,
} from "../src/payments/payment-core.ts";
import { rubValue, type YooPayment } from "../src/payments/yookassa.ts";
import {
  attemptWrite,
  MAX_ATTEMPT_HISTORY,
  MAX_CONFIRMATION_URL,
  MAX_OPEN_ATTEMPTS,
  openWrite,
  withStatus,
  type YooAttempt,
} from "../src/payments/yookassa-core.ts";
import { type BotCall, botApiHandlers, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

/** Bytes as KV stores the value. */
const stored = (value: unknown) => v8.serialize(value).length;

const NOW = Date.UTC(2026, 11, 2, 9);
/** The longest payment page URL kept, in two-byte letters (the worst a URL parser lets through). */
const LONGEST_URL = `https://yoomoney.ru/checkout/${"я".repeat(MAX_CONFIRMATION_URL - 29)}`;
/** YooKassa's longest payment id (the client's schema allows 64 characters). */
const longPaymentId = (n: number) => `${n}-`.padEnd(64, "ж");

/** The payment actor's core over an in-memory KV: reads fed from it, writes checked against their budget and applied. */
class CoreOverKv {
  readonly kv = new Map<string, unknown>();
  state: PaymentState = initialPaymentState();
  largestRecord = 0;
  largestState = 0;

  send(message: PaymentMessage, now = NOW) {
    const read = paymentReads(message).map((key) => this.kv.get(JSON.stringify(key)));
    const turn = receivePayment(this.state, message, now, read);
    for (const write of turn.writes ?? []) this.apply(write);
    this.state = turn.state;
    this.largestState = Math.max(this.largestState, stored(turn.state));
    return turn;
  }

  apply(write: KvWrite) {
    if (write.op === "enqueue") return;
    if (write.op === "delete") {
      this.kv.delete(JSON.stringify(write.key));
      return;
    }
    this.largestRecord = Math.max(this.largestRecord, stored(write.value));
    this.kv.set(JSON.stringify(write.key), write.value);
  }

  openOf(userId: number): { id: string }[] {
    return (this.kv.get(JSON.stringify(["payment", "yookassa-open", userId])) as { attempts: { id: string }[] })
      ?.attempts;
  }
}

function yooPayment(attempt: { id: string; userId: number; kopecks: number }, paymentId: string, status: string) {
  return {
    id: paymentId,
    status,
    paid: status === "succeeded",
    amount: { value: rubValue(attempt.kopecks), currency: "RUB" },
    metadata: { attemptId: attempt.id, userId: String(attempt.userId) },
  } as YooPayment;
}

describe("the payment actor's KV budgets", () => {
  it("keeps its state O(1) and every record under budget while one user presses 400 card amounts and others pay", () => {
    const core = new CoreOverKv();
    const presser = 111_222_333;
    for (let press = 0; press < 400; press++) {
      const kopecks = 5_000 + (press % 50) * 100;
      const turn = core.send({ type: "createYooPayment", userId: presser, kopecks }, NOW + press);
      const created = (turn.effects ?? []).find((effect) => effect.type === "yooCreate");
      if (created?.type === "yooCreate") {
        core.send(
          {
            type: "yooCreated",
            attemptId: created.attempt.id,
            userId: presser,
            paymentId: longPaymentId(press),
            url: LONGEST_URL,
          },
          NOW + press,
        );
      }
      expect(core.openOf(presser).length).toBeLessThanOrEqual(MAX_OPEN_ATTEMPTS);
    }
    expect(core.openOf(presser)).toHaveLength(MAX_OPEN_ATTEMPTS);

    // A mismatching re-read, a success and a Stars payment by others on top, with their longest ids.
    const [first] = core.openOf(presser);
    const attempt = { id: first?.id ?? "", userId: presser, kopecks: 5_000 };
    core.send({
      type: "yooRead",
      attemptId: attempt.id,
      userId: presser,
      payment: { ...yooPayment(attempt, longPaymentId(0), "succeeded"), amount: { value: "1.00", currency: "RUB" } },
      tell: false,
    });
    core.send({
      type: "yooRead",
      attemptId: attempt.id,
      userId: presser,
      payment: yooPayment(attempt, longPaymentId(0), "succeeded"),
      tell: false,
    });
    expect(core.openOf(presser)).toHaveLength(MAX_OPEN_ATTEMPTS - 1);
    for (let user = 0; user < 300; user++) {
      const invoice = core.send({ type: "createStarsInvoice", userId: user, stars: 100, kopecks: 15_000 });
      const invoiceId = (invoice.reply as { invoiceId: string }).invoiceId;
      const chargeId = `${user}:`.padEnd(256, "щ");
      core.send({ type: "starsPaid", userId: user, invoiceId, chargeId, currency: "XTR", amount: 100 });
    }
    // 301 credits owed (none acknowledged): each in a record of its own.
    expect([...core.kv.keys()].filter((key) => key.startsWith('["payment","owed"'))).toHaveLength(301);

    expect(core.largestState).toBeLessThanOrEqual(PAYMENT_STATE_BUDGET);
    expect(core.largestRecord).toBeLessThanOrEqual(PAYMENT_RECORD_BUDGET);
  });

  it("an attempt's record and a user's open attempts stay under budget at their worst", () => {
    let attempt: YooAttempt = {
      id: `y${Number.MAX_SAFE_INTEGER.toString(36)}`,
      userId: -Number.MAX_SAFE_INTEGER,
      kopecks: 5_000_000,
      createdAt: NOW,
      paymentId: longPaymentId(1),
      status: "creating",
      history: [],
    };
    const statuses = ["creating", "pending", "failed", "canceled", "succeeded"] as const;
    for (let i = 0; i < 100; i++)
      attempt = withStatus({ ...attempt, status: statuses[i % statuses.length] ?? "pending" }, attempt.status, NOW + i);
    expect(attempt.history).toHaveLength(MAX_ATTEMPT_HISTORY);
    const worstAttempt = attemptWrite(attempt, NOW, {
      failure: "ж".repeat(64),
      mismatch: {
        id: longPaymentId(2),
        status: "waiting_for_capture",
        value: "9".repeat(32),
        currency: "ж".repeat(8),
        attemptId: "ж".repeat(64),
        userId: "ж".repeat(32),
      },
    });
    const entry = (i: number) => ({
      id: `y${(Number.MAX_SAFE_INTEGER - i).toString(36)}`,
      kopecks: 5_000_000,
      createdAt: NOW + 0.5,
      paymentId: longPaymentId(i),
      url: LONGEST_URL,
    });
    // More than the cap offered: the record keeps the newest `MAX_OPEN_ATTEMPTS`.
    const worstIndex = openWrite(
      -Number.MAX_SAFE_INTEGER,
      Array.from({ length: 10 }, (_, i) => entry(i)),
    );
    for (const write of [worstAttempt, worstIndex]) {
      if (write.op !== "set") throw new Error("expected a set");
      expect(stored(write.value)).toBeLessThanOrEqual(PAYMENT_RECORD_BUDGET);
    }
    expect((worstIndex as { value: { attempts: unknown[] } }).value.attempts).toHaveLength(MAX_OPEN_ATTEMPTS);
    expect(PAYMENT_RECORD_BUDGET).toBeLessThan(KV_VALUE_LIMIT / 2);
    // The state at its worst: the largest counter, nothing else.
    expect(stored({ ...initialPaymentState(), seq: Number.MAX_SAFE_INTEGER })).toBeLessThanOrEqual(
      PAYMENT_STATE_BUDGET,
    );
  });
});

const API = "https://api.yookassa.ru/v3";
const calls: BotCall[] = [];
const created: string[] = [];
const server = setupServer(
  ...botApiHandlers(calls),
  http.post(`${API}/payments`, async ({ request }) => {
    const body = (await request.json()) as Record<string, unknown>;
    const key = request.headers.get("idempotence-key");
    created.push(String(key));
    const id = `pay-${key}`;
    return HttpResponse.json({
      id,
      status: "pending",
      paid: false,
      amount: body.amount,
      metadata: body.metadata,
      confirmation: { type: "redirect", confirmation_url: `https://yoomoney.ru/checkout/${id}` },
      created_at: "2026-11-25T06:00:00.000Z",
    });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("one user's unpaid card bills", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    created.length = 0;
  });

  it("400 presses without paying leave at most the cap of open bills, and another user's Stars payment is credited", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const env = {
      YOOKASSA_SHOP_ID: "123456",
      YOOKASSA_SECRET_KEY: "test_secret_key",
      PORT: "0",
      STARS_PACKAGES: "100:15000",
    };
    const started = await startBot(`${dir.path}/kv`, calls, env, "real");
    defer(() => started.app.stop().then(() => undefined));
    const presser = 701;
    // Ten amounts over and over, fifty at a time (as fast as a script taps).
    for (let round = 0; round < 8; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          started.app.supervisor.ask("payment", "main", {
            type: "createYooPayment",
            userId: presser,
            kopecks: 10_000 + ((round * 50 + i) % 10) * 100,
          }),
        ),
      );
    }
    const open = await started.app.kv.get<{ attempts: unknown[] }>(["payment", "yookassa-open", presser]);
    expect(open.value?.attempts.length).toBeLessThanOrEqual(MAX_OPEN_ATTEMPTS);
    await until(() => created.length === MAX_OPEN_ATTEMPTS);

    // Another user buys Stars: invoice, pre-checkout, payment, credit.
    const buyer = userOf(702, "en");
    await started.send(buyer.text("/topup"));
    const made = await started.send(buyer.press("1|t|0"), 2);
    const payload = String(made.find((call) => call.method === "sendInvoice")?.body.payload);
    expect(payload).toMatch(/^s/);
    await started.send({
      update_id: 700_001,
      pre_checkout_query: {
        id: "pcq-702",
        from: { id: 702, is_bot: false, first_name: "Payer", language_code: "en" },
        currency: "XTR",
        total_amount: 100,
        invoice_payload: payload,
      },
    } as Update);
    expect(calls.filter((call) => call.method === "answerPreCheckoutQuery").map((call) => call.body)).toEqual([
      expect.objectContaining({ ok: true }),
    ]);
    await started.app.dispatch({
      update_id: 700_002,
      message: {
        message_id: 700_002,
        date: 1_790_000_000,
        chat: { id: 702, type: "private", first_name: "Payer" },
        from: { id: 702, is_bot: false, first_name: "Payer", language_code: "en" },
        successful_payment: {
          currency: "XTR",
          total_amount: 100,
          invoice_payload: payload,
          telegram_payment_charge_id: "charge-702",
          provider_payment_charge_id: "p-702",
        },
      },
    } as Update);
    await until(async () => (await userRecords(started.app.kv, 702)).state.wallet.balance === 15_000);
    const state = await started.app.kv.get(["payment", "main"]);
    expect(stored(state.value)).toBeLessThanOrEqual(PAYMENT_STATE_BUDGET);
    // The presser was told why a fourth bill was not made.
    expect(
      calls.some(
        (call) => call.body.chat_id === presser && /unpaid card bills|неоплаченные/.test(String(call.body.text)),
      ),
    ).toBe(true);
  });
});
