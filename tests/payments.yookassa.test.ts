/**
 * Card top-ups through YooKassa, in-thread with msw for the Bot API and the
 * YooKassa API: a payment is created with its attempt id as Idempotence-Key,
 * notifications are heard only from allowlisted senders, and a payment is
 * credited once, only when a re-read says it succeeded with the attempt's
 * amount, currency and metadata.
 */
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initialPaymentState } from "../src/payments/payment-core.ts";
import { attemptKey, CREATE_STALLED_MS, openAttemptsKey, receiveYooKassa } from "../src/payments/yookassa-core.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiHandlers, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const API = "https://api.yookassa.ru/v3";
const calls: BotCall[] = [];
const created: { key: string | null; body: Record<string, unknown> }[] = [];
const payments = new Map<string, Record<string, unknown>>();
/** The answer to each Idempotence-Key's first request. */
const firstAnswers = new Map<string, Record<string, unknown>>();
let reads = 0;
/** How many of the next creates are carried out with their answer lost (a timeout after YooKassa acted). */
let answersLost = 0;
function answer(payment: Record<string, unknown>) {
  if (answersLost === 0) return HttpResponse.json(payment);
  answersLost--;
  return HttpResponse.error();
}
const server = setupServer(
  ...botApiHandlers(calls),
  http.post(`${API}/payments`, async ({ request }) => {
    const body = (await request.json()) as Record<string, unknown>;
    const key = request.headers.get("idempotence-key");
    created.push({ key, body });
    const id = `pay-${key}`;
    // A repeat under the same Idempotence-Key is answered with the first request's answer, as YooKassa does
    // (however the payment has moved on since).
    const first = firstAnswers.get(String(key));
    if (first !== undefined) return answer(first);
    const payment = {
      id,
      status: "pending",
      paid: false,
      amount: body.amount,
      metadata: body.metadata,
      confirmation: { type: "redirect", confirmation_url: `https://yoomoney.ru/checkout/${id}` },
      created_at: "2026-11-25T06:00:00.000Z",
    };
    payments.set(id, payment);
    firstAnswers.set(String(key), payment);
    return answer(payment);
  }),
  http.get(`${API}/payments/:id`, ({ params }) => {
    reads++;
    const payment = payments.get(String(params.id));
    return payment
      ? HttpResponse.json(payment)
      : HttpResponse.json({ type: "error", code: "not_found" }, { status: 404 });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const YOOKASSA = { YOOKASSA_SHOP_ID: "123456", YOOKASSA_SECRET_KEY: "test_secret_key", PORT: "0" };
const settle = (id: string, patch: Record<string, unknown>) => payments.set(id, { ...payments.get(id), ...patch });

function notification(paymentId: string, event = "payment.succeeded") {
  return new Request("https://bot.example.com/yookassa/notification", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "notification", event, object: { id: paymentId, status: "succeeded" } }),
  });
}

describe("YooKassa top-ups", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    created.length = 0;
    payments.clear();
    firstAnswers.clear();
    reads = 0;
    answersLost = 0;
  });

  async function bot() {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls, YOOKASSA, "real");
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  async function payPackage(started: Awaited<ReturnType<typeof bot>>, userId: number) {
    const user = userOf(userId, "en");
    const topup = await started.send(user.text("/topup"));
    expect(screenOf(topup).buttons.map((button) => button.text)).toEqual(
      expect.arrayContaining(["💳 100 ₽ by card", "💳 Another amount"]),
    );
    await started.send(user.press("1|u|0"), 2);
    await until(() => calls.some((call) => String(call.body.text).includes("Your bill for 100 ₽ is ready")));
    const bill = calls.find((call) => String(call.body.text).includes("Your bill"));
    type Row = { text: string; url?: string; callback_data?: string }[];
    const rows = (bill?.body.reply_markup as { inline_keyboard?: Row[] } | undefined)?.inline_keyboard ?? [];
    const paymentId = `pay-${created.at(-1)?.key}`;
    expect(rows[0]?.[0]).toEqual({ text: "Pay 100 ₽", url: `https://yoomoney.ru/checkout/${paymentId}` });
    return { user, paymentId, check: String(rows[1]?.[0]?.callback_data) };
  }

  it("creates the payment with its attempt as Idempotence-Key; allowlisted notifications credit it once", async () => {
    const started = await bot();
    const { paymentId } = await payPackage(started, 601);
    expect(created[0]?.body).toMatchObject({ amount: { value: "100.00", currency: "RUB" }, capture: true });
    expect(created[0]?.key).toMatch(/^y[0-9a-z]+$/);

    // A sender off the allowlist is refused without details, and nothing is read or credited.
    const forged = await started.app.handleHttp(notification(paymentId), { remoteAddress: "203.0.113.9" });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toEqual({ ok: false });
    expect(reads).toBe(0);

    settle(paymentId, { status: "succeeded", paid: true });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        started.app.handleHttp(notification(paymentId), { remoteAddress: "185.71.76.10" }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    await until(async () => (await userRecords(started.app.kv, 601)).state.wallet.balance === 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const records = await userRecords(started.app.kv, 601);
    expect(records.state.wallet.balance).toBe(10_000);
    expect(records.ledger.map((record) => record.entry.key)).toEqual([`yookassa:${paymentId}`]);
    expect(calls.filter((call) => String(call.body.text).includes("topped up by 100 ₽"))).toHaveLength(1);
    expect((await started.app.kv.get(["payment", "yookassa", paymentId])).value).toMatchObject({ status: "paid" });
    const attemptId = String(created[0]?.key);
    const attempt = (
      await started.app.kv.get<{ history: { status: string }[] }>(["payment", "yookassa-attempt", attemptId])
    ).value;
    expect(attempt?.history.map((step) => step.status)).toEqual(["creating", "pending", "succeeded"]);
    // A finished attempt lives in its record only: the payment actor's one value does not grow with payments.
    const actor = await started.app.kv.get<{ yoo: object }>(["payment", "main"]);
    expect(actor.value?.yoo).toEqual({});
  });

  it("credits nothing while the re-read says pending or the amount differs; Check payment and reconciliation re-read", async () => {
    const started = await bot();
    const { user, paymentId, check } = await payPackage(started, 602);
    await started.app.handleHttp(notification(paymentId), { remoteAddress: "::ffff:185.71.77.3" });
    await until(() => reads >= 1);

    await started.send(user.press(check), 2);
    await until(() => calls.some((call) => String(call.body.text).includes("has not arrived yet")));

    settle(paymentId, { status: "succeeded", paid: true, amount: { value: "1.00", currency: "RUB" } });
    // (The reconciliation soon after the start may read it too: only more reads, never a credit.)
    const before = reads;
    await started.send(user.press(check), 1);
    await until(() => reads > before);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await userRecords(started.app.kv, 602)).state.wallet.balance).toBe(0);

    // The notification of the success was lost: the periodic reconciliation finds it.
    settle(paymentId, { amount: { value: "100.00", currency: "RUB" } });
    await started.app.supervisor.tell("payment", "main", { type: "reconcile" });
    await until(async () => (await userRecords(started.app.kv, 602)).state.wallet.balance === 10_000);
  });

  it("asks again soon after the start for a bill a crash cut off, and credits the payment YooKassa made for it", async () => {
    // The process died while YooKassa created the payment; the user paid it (the page had opened elsewhere).
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    // Ten seconds before this start: not yet stalled by the clock, but the process that asked is gone.
    const createdAt = Date.now() - 10_000;
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    await kv
      .atomic()
      .set(attemptKey("y9"), {
        id: "y9",
        userId: 604,
        kopecks: 10_000,
        createdAt,
        status: "creating",
        history: [{ status: "creating", at: createdAt }],
      })
      .set(openAttemptsKey(604), { userId: 604, attempts: [{ id: "y9", kopecks: 10_000, createdAt }] })
      .commit();
    kv.close();
    const made = {
      id: "pay-y9",
      status: "pending",
      paid: false,
      amount: { value: "100.00", currency: "RUB" },
      metadata: { attemptId: "y9", userId: "604" },
      confirmation: { type: "redirect", confirmation_url: "https://yoomoney.ru/checkout/pay-y9" },
      created_at: "2026-11-25T06:00:00.000Z",
    };
    // YooKassa answered "pending" to the request the crash cut off, and the payment succeeded since.
    firstAnswers.set("y9", made);
    payments.set("pay-y9", { ...made, status: "succeeded", paid: true });
    const started = await startBot(kvPath, calls, YOOKASSA, "real");
    defer(() => started.app.stop().then(() => undefined));
    await until(async () => (await userRecords(started.app.kv, 604)).state.wallet.balance === 10_000, 15_000);
    expect(created.map((request) => request.key)).toEqual(["y9"]);
    expect((await userRecords(started.app.kv, 604)).ledger.map((record) => record.entry.key)).toEqual([
      "yookassa:pay-y9",
    ]);
    // A user the bot has not met yet hears it in Russian, the default.
    await until(() =>
      calls.some((call) => call.body.chat_id === 604 && String(call.body.text).includes("пополнен на 100 ₽")),
    );
    expect((await started.app.kv.get(openAttemptsKey(604))).value).toBeNull();
  });

  it("keeps a bill whose creation got no answer open, asks for it again and credits the payment YooKassa made", async () => {
    const started = await bot();
    const user = userOf(606, "ru");
    await started.send(user.text("/topup"));
    // YooKassa makes the payment each time, but no answer comes back (the client tries three times).
    answersLost = 3;
    await started.send(user.press("1|u|0"), 2);
    await until(() => calls.some((call) => String(call.body.text).includes("Платёжная система не ответила вовремя")));
    expect(calls.some((call) => String(call.body.text).includes("Не удалось создать платёж"))).toBe(false);
    const attemptId = String(created[0]?.key);
    expect(created.map((request) => request.key)).toEqual([attemptId, attemptId, attemptId]);
    const attempt = (await started.app.kv.get<{ status: string }>(attemptKey(attemptId))).value;
    expect(attempt).toMatchObject({ status: "creating", unsure: "network" });
    expect((await started.app.kv.get(openAttemptsKey(606))).value).toMatchObject({ attempts: [{ id: attemptId }] });

    // The user paid the page YooKassa made; the next start's first reconciliation asks for the bill again.
    settle(`pay-${attemptId}`, { status: "succeeded", paid: true });
    await started.app.supervisor.tell("payment", "main", { type: "reconcile", startedAt: Date.now() });
    await until(async () => (await userRecords(started.app.kv, 606)).state.wallet.balance === 10_000);
    expect(created.map((request) => request.key)).toEqual([attemptId, attemptId, attemptId, attemptId]);
    expect((await userRecords(started.app.kv, 606)).ledger.map((record) => record.entry.key)).toEqual([
      `yookassa:pay-${attemptId}`,
    ]);
    expect((await started.app.kv.get(openAttemptsKey(606))).value).toBeNull();
  });

  it("tells a bill that got no clear answer once: a repeat that gets none either stays quiet and open", () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const attempt = {
      id: "y4",
      userId: 607,
      kopecks: 10_000,
      createdAt: now - 1_000,
      status: "creating",
      history: [{ status: "creating", at: now - 1_000 }],
    };
    const open = { userId: 607, attempts: [{ id: "y4", kopecks: 10_000, createdAt: now - 1_000 }] };
    const unsure = { type: "yooCreateUnsure", attemptId: "y4", userId: 607, code: "server_error" } as const;
    const first = receiveYooKassa(initialPaymentState(), { ...unsure, again: false }, now, [attempt, open]);
    expect(first.effects).toEqual([
      expect.objectContaining({ type: "tellUser", news: { type: "yooStatus", attemptId: "y4", status: "delayed" } }),
    ]);
    expect(first.writes).toEqual([
      expect.objectContaining({ key: attemptKey("y4"), value: expect.objectContaining({ status: "creating" }) }),
    ]);
    const repeat = receiveYooKassa(initialPaymentState(), { ...unsure, again: true }, now, [attempt, open]);
    expect(repeat.effects ?? []).toEqual([]);
    expect(repeat.writes ?? []).toEqual([]);
  });

  it("asks again for a stalled bill when the user presses its amount again, not while it may still come", () => {
    const open = (createdAt: number) => ({ userId: 605, attempts: [{ id: "y3", kopecks: 10_000, createdAt }] });
    const state = initialPaymentState();
    const press = { type: "createYooPayment", userId: 605, kopecks: 10_000 } as const;
    const now = Date.UTC(2026, 11, 2, 12);
    const early = receiveYooKassa(state, press, now, [open(now - CREATE_STALLED_MS + 1_000)]);
    expect((early.effects ?? []).map((effect) => effect.type)).toEqual(["tellUser"]);
    const stalled = receiveYooKassa(state, press, now, [open(now - CREATE_STALLED_MS)]);
    expect(stalled.reply).toEqual({ attemptId: "y3" });
    expect(stalled.effects).toEqual([
      expect.objectContaining({ type: "tellUser", news: { type: "yooStatus", attemptId: "y3", status: "creating" } }),
      expect.objectContaining({ type: "yooCreate", attempt: expect.objectContaining({ id: "y3", kopecks: 10_000 }) }),
    ]);
    // Nothing new is opened: the repeat is the same attempt, under the same Idempotence-Key.
    expect(stalled.writes ?? []).toEqual([]);
  });

  it("tells the user about a canceled payment and credits nothing, also when they check it again later", async () => {
    const started = await bot();
    const { user, paymentId, check } = await payPackage(started, 603);
    settle(paymentId, { status: "canceled", cancellation_details: { reason: "expired_on_confirmation" } });
    await started.app.handleHttp(notification(paymentId, "payment.canceled"), { remoteAddress: "77.75.156.11" });
    const canceled = () => calls.filter((call) => String(call.body.text).includes("The payment was canceled"));
    await until(() => canceled().length === 1);
    expect((await userRecords(started.app.kv, 603)).state.wallet.balance).toBe(0);
    // The attempt is finished (kept in its record only); Check payment still answers from the record.
    await started.send(user.press(check), 1);
    await until(() => canceled().length === 2);
  });

  it("takes a typed amount from 50 to 50,000 rubles", async () => {
    const started = await bot();
    const user = userOf(604, "en");
    await started.send(user.press("1|v"), 2);
    const refused = await started.send(user.text("10"));
    expect(screenOf(refused).text).toContain("The amount must be from 50 to 50,000 ₽");
    await started.send(user.text("250,50"));
    await until(() => created.length === 1);
    expect(created[0]?.body).toMatchObject({ amount: { value: "250.50", currency: "RUB" } });
  });
});
