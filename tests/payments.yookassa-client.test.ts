/**
 * The YooKassa client against msw (auth, idempotence keys, retries with the
 * same key, parsing, typed errors) and against the strict fake YooKassa
 * (a payment's refunds listed).
 */
import { HttpResponse, http, passthrough } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kopecksOf, rubValue, YooKassaClient, YooKassaError } from "../src/payments/yookassa.ts";
import { startFakeYooKassaServer } from "./helpers/fake-yookassa-server.ts";

const API = "https://api.yookassa.ru/v3";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const client = () =>
  new YooKassaClient({ shopId: "123456", secretKey: "test_secret", apiUrl: API, fetch, sleep: async () => {} });

const payment = (overrides: Record<string, unknown> = {}) => ({
  id: "2d7b3c1e-000f-5000-8000-1a2b3c4d5e6f",
  status: "pending",
  paid: false,
  amount: { value: "100.00", currency: "RUB" },
  confirmation: { type: "redirect", confirmation_url: "https://yoomoney.ru/checkout/payments/v2/contract?orderId=x" },
  metadata: { attemptId: "y1", userId: "42" },
  created_at: "2026-11-25T06:00:00.000Z",
  test: true,
  ...overrides,
});

describe("YooKassa client", () => {
  it("creates a payment with Basic auth, an Idempotence-Key and the documented body; retries 500 with the same key", async () => {
    const seen: { auth: string | null; key: string | null; body: unknown }[] = [];
    server.use(
      http.post(`${API}/payments`, async ({ request }) => {
        seen.push({
          auth: request.headers.get("authorization"),
          key: request.headers.get("idempotence-key"),
          body: await request.json(),
        });
        if (seen.length === 1)
          return HttpResponse.json({ type: "error", code: "internal_server_error" }, { status: 500 });
        return HttpResponse.json(payment());
      }),
    );
    const created = await client().createPayment({
      idempotenceKey: "y1",
      kopecks: 10_000,
      description: "Top-up",
      metadata: { attemptId: "y1", userId: "42" },
      returnUrl: "https://t.me/kie_test_bot",
    });
    expect(created.confirmation?.confirmation_url).toContain("yoomoney.ru");
    expect(seen.map((call) => call.key)).toEqual(["y1", "y1"]);
    expect(seen[0]?.auth).toBe(`Basic ${btoa("123456:test_secret")}`);
    expect(seen[0]?.body).toEqual({
      amount: { value: "100.00", currency: "RUB" },
      capture: true,
      confirmation: { type: "redirect", return_url: "https://t.me/kie_test_bot" },
      description: "Top-up",
      metadata: { attemptId: "y1", userId: "42" },
    });
  });

  it("reads a payment and maps errors to typed codes without retrying client errors", async () => {
    let reads = 0;
    server.use(
      http.get(`${API}/payments/:id`, ({ params }) => {
        reads++;
        if (params.id === "missing") return HttpResponse.json({ type: "error", code: "not_found" }, { status: 404 });
        if (params.id === "odd") return HttpResponse.json({ id: "odd", status: "weird" });
        return HttpResponse.json(payment({ id: String(params.id), status: "succeeded", paid: true }));
      }),
    );
    expect((await client().getPayment("p1")).status).toBe("succeeded");
    const codes: string[] = [];
    for (const id of ["missing", "odd"]) {
      try {
        await client().getPayment(id);
      } catch (error) {
        if (error instanceof YooKassaError) codes.push(error.code);
      }
    }
    expect(codes).toEqual(["not_found", "malformed"]);
    expect(reads).toBe(3);
  });

  it("converts kopecks and amount values exactly", () => {
    expect([rubValue(10_000), rubValue(5_005), rubValue(99)]).toEqual(["100.00", "50.05", "0.99"]);
    expect([kopecksOf("100.00"), kopecksOf("50.05"), kopecksOf("0.99")]).toEqual([10_000, 5_005, 99]);
  });
});

describe("YooKassa client: a payment's refunds, listed from the strict fake YooKassa", () => {
  const SHOP = "123456";
  const SECRET = "test_secret_key";

  /** The fake YooKassa (msw lets its requests through) and a client whose answers `alter` may change. */
  async function fakeShop(alter: (url: string, json: unknown) => unknown = (_url, json) => json) {
    const fake = await startFakeYooKassaServer({ shopId: SHOP, secretKey: SECRET, fate: () => ({ outcome: "never" }) });
    server.use(http.all(`${fake.apiUrl}/*`, () => passthrough()));
    const requests: string[] = [];
    const altered: typeof fetch = async (input, init) => {
      const url = String(input);
      requests.push(`${init?.method ?? "GET"} ${url.slice(fake.apiUrl.length)}`);
      const response = await fetch(input, init);
      const json: unknown = await response.json();
      return new Response(JSON.stringify(alter(url, json)), { status: response.status, headers: response.headers });
    };
    const client = new YooKassaClient({ shopId: SHOP, secretKey: SECRET, apiUrl: fake.apiUrl, fetch: altered });
    /** A payment of `kopecks` the user paid. */
    const paid = async (key: string, kopecks: number) => {
      const payment = await client.createPayment({
        idempotenceKey: key,
        kopecks,
        description: `Top-up ${key}`,
        metadata: { attemptId: key, userId: "42" },
        returnUrl: "https://t.me/kie_test_bot",
      });
      fake.core.settle(payment.id, "paid");
      return payment.id;
    };
    return { fake, client, requests, paid };
  }

  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("lists only that payment's refunds, with their ids, statuses and amounts", async () => {
    const shop = await fakeShop();
    cleanups.push(shop.fake.close);
    const first = await shop.paid("y1", 15_000);
    const other = await shop.paid("y2", 10_000);
    const untouched = await shop.paid("y3", 5_000);
    const a = await shop.client.createRefund({ idempotenceKey: "r1", paymentId: first, kopecks: 5_000 });
    const b = await shop.client.createRefund({ idempotenceKey: "r2", paymentId: first, kopecks: 10_000 });
    await shop.client.createRefund({ idempotenceKey: "r3", paymentId: other, kopecks: 10_000 });
    shop.requests.length = 0;

    const listed = await shop.client.listRefunds(first);
    expect(listed.map((refund) => refund.id).sort()).toEqual([a.id, b.id].sort());
    expect(listed.every((refund) => refund.payment_id === first && refund.status === "succeeded")).toBe(true);
    expect(listed.map((refund) => kopecksOf(refund.amount?.value ?? "0")).sort((x, y) => x - y)).toEqual([
      5_000, 10_000,
    ]);
    expect(shop.requests).toEqual([`GET /refunds?payment_id=${first}&limit=100`]);
    expect(await shop.client.listRefunds(untouched)).toEqual([]);
    expect(shop.fake.core.refused).toEqual([]);
  });

  it("rejects a list its schema does not know as malformed, without asking again", async () => {
    const broken: ((json: Record<string, unknown>) => unknown)[] = [
      // An item whose status YooKassa does not have.
      (json) => ({ ...json, items: (json.items as object[]).map((item) => ({ ...item, status: "refunded" })) }),
      // An amount that is not "123.45".
      (json) => ({
        ...json,
        items: (json.items as object[]).map((item) => ({ ...item, amount: { value: "50", currency: "RUB" } })),
      }),
      // Not a list.
      (json) => ({ ...json, type: "refund" }),
      (json) => ({ ...json, items: "none" }),
    ];
    for (const breaking of broken) {
      const shop = await fakeShop((url, json) =>
        url.includes("/refunds?") ? breaking(json as Record<string, unknown>) : json,
      );
      cleanups.push(shop.fake.close);
      const paymentId = await shop.paid("y1", 15_000);
      await shop.client.createRefund({ idempotenceKey: "r1", paymentId, kopecks: 15_000 });
      shop.requests.length = 0;
      const error = await shop.client.listRefunds(paymentId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(YooKassaError);
      expect((error as YooKassaError).code).toBe("malformed");
      expect((error as YooKassaError).retryable).toBe(false);
      expect(shop.requests).toHaveLength(1);
    }
  });

  it("is refused with the wrong secret key as unauthorized", async () => {
    const shop = await fakeShop();
    cleanups.push(shop.fake.close);
    const wrong = new YooKassaClient({ shopId: SHOP, secretKey: "wrong", apiUrl: shop.fake.apiUrl, fetch });
    const error = await wrong.listRefunds("p-1").catch((e: unknown) => e);
    expect((error as YooKassaError).code).toBe("unauthorized");
    expect(shop.fake.core.refused.map((refusal) => [refusal.path, refusal.code])).toEqual([
      ["/refunds", "invalid_credentials"],
    ]);
  });
});
