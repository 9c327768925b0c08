/** The YooKassa client against msw: auth, idempotence keys, retries with the same key, parsing, typed errors. */
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kopecksOf, rubValue, YooKassaClient, YooKassaError } from "../src/payments/yookassa.ts";

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
