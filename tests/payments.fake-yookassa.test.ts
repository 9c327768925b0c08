/**
 * The fake YooKassa the chaos suite pays through is as strict as YooKassa's
 * API v3: auth and Idempotence-Key checked, the same key gives the same
 * payment, amounts validated, refunds only of a succeeded payment and never
 * beyond it; it decides each payment's fate, notifies the bot, and keeps
 * what it really did. The bot's own client talks to it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { YooKassaClient, YooKassaError } from "../src/payments/yookassa.ts";
import { REFUND_EXCEEDS_DESCRIPTION, startFakeYooKassaServer } from "./helpers/fake-yookassa-server.ts";

const SHOP = "123456";
const SECRET = "test_secret_key";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fake(options: Partial<Parameters<typeof startFakeYooKassaServer>[0]> = {}) {
  const server = await startFakeYooKassaServer({
    shopId: SHOP,
    secretKey: SECRET,
    fate: () => ({ outcome: "never" }),
    ...options,
  });
  cleanups.push(server.close);
  const client = new YooKassaClient({
    shopId: SHOP,
    secretKey: SECRET,
    apiUrl: server.apiUrl,
    fetch,
    maxAttempts: 1,
    timeoutMs: 2_000,
  });
  return { server, client };
}

const auth = `Basic ${Buffer.from(`${SHOP}:${SECRET}`).toString("base64")}`;
const post = (apiUrl: string, path: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${apiUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const create = (client: YooKassaClient, key: string, kopecks = 10_000) =>
  client.createPayment({
    idempotenceKey: key,
    kopecks,
    description: `Top-up ${key}`,
    metadata: { attemptId: key, userId: "601" },
    returnUrl: "https://t.me/test_bot",
  });

describe("the fake YooKassa", () => {
  it("creates one payment per Idempotence-Key with a redirect URL and the metadata, and refuses another body under the key", async () => {
    const { server, client } = await fake();
    const first = await create(client, "y1");
    const again = await create(client, "y1");
    expect(again).toEqual(first);
    expect(first).toMatchObject({
      status: "pending",
      paid: false,
      amount: { value: "100.00", currency: "RUB" },
      metadata: { attemptId: "y1", userId: "601" },
      confirmation: { type: "redirect" },
    });
    expect(first.confirmation?.confirmation_url).toMatch(/^https:\/\/yoomoney\.ru\/checkout\//);
    expect(server.core.payments.size).toBe(1);
    await expect(create(client, "y1", 20_000)).rejects.toMatchObject({ code: "bad_request" });
    expect(server.core.payments.size).toBe(1);
  });

  it("refuses a wrong secret, a missing Idempotence-Key, and amounts not in YooKassa's form", async () => {
    const { server } = await fake();
    const body = {
      amount: { value: "100.00", currency: "RUB" },
      capture: true,
      confirmation: { type: "redirect", return_url: "https://t.me/x" },
    };
    const wrong = await post(server.apiUrl, "/payments", body, {
      authorization: `Basic ${Buffer.from(`${SHOP}:wrong-key`).toString("base64")}`,
      "idempotence-key": "k1",
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ type: "error", code: "invalid_credentials" });
    const keyless = await post(server.apiUrl, "/payments", body, { authorization: auth });
    expect(keyless.status).toBe(400);
    const long = await post(server.apiUrl, "/payments", body, {
      authorization: auth,
      "idempotence-key": "k".repeat(65),
    });
    expect(long.status).toBe(400);
    for (const amount of [
      { value: 100, currency: "RUB" },
      { value: "100.0", currency: "RUB" },
      { value: "100.00", currency: "USD" },
    ]) {
      const refused = await post(
        server.apiUrl,
        "/payments",
        { ...body, amount },
        { authorization: auth, "idempotence-key": `a-${JSON.stringify(amount)}`.slice(0, 64) },
      );
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ type: "error", code: "invalid_request" });
    }
    const noReturn = await post(
      server.apiUrl,
      "/payments",
      { ...body, confirmation: { type: "redirect" } },
      { authorization: auth, "idempotence-key": "k2" },
    );
    expect(noReturn.status).toBe(400);
    expect(server.core.payments.size).toBe(0);
    expect(server.core.refused.map((refusal) => refusal.status)).toEqual([401, 400, 400, 400, 400, 400, 400]);
  });

  it("refunds only a succeeded payment, once per key, never beyond what is left, and lists the refunds", async () => {
    const { server, client } = await fake();
    const payment = await create(client, "y2", 15_000);
    await expect(
      client.createRefund({ idempotenceKey: "r0", paymentId: payment.id, kopecks: 15_000 }),
    ).rejects.toBeInstanceOf(YooKassaError);
    server.core.settle(payment.id, "paid");
    expect(await client.getPayment(payment.id)).toMatchObject({ status: "succeeded", paid: true });

    const refund = await client.createRefund({ idempotenceKey: "r1", paymentId: payment.id, kopecks: 15_000 });
    expect(await client.createRefund({ idempotenceKey: "r1", paymentId: payment.id, kopecks: 15_000 })).toEqual(refund);
    const over = await post(
      server.apiUrl,
      "/refunds",
      { payment_id: payment.id, amount: { value: "150.00", currency: "RUB" } },
      { authorization: auth, "idempotence-key": "r2" },
    );
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({
      code: "invalid_request",
      parameter: "amount",
      description: REFUND_EXCEEDS_DESCRIPTION,
    });
    expect(server.core.refundsOf(payment.id)).toHaveLength(1);
    expect(server.core.refundedKopecks(payment.id)).toBe(15_000);

    const list = await fetch(`${server.apiUrl}/refunds?payment_id=${payment.id}`, { headers: { authorization: auth } });
    expect(await list.json()).toEqual({ type: "list", items: [refund] });
    const one = await fetch(`${server.apiUrl}/refunds/${refund.id}`, { headers: { authorization: auth } });
    expect(await one.json()).toEqual(refund);
    expect((await client.getPayment(payment.id)).refunded_amount).toEqual({ value: "150.00", currency: "RUB" });
  });

  it("settles a payment by its fate and notifies the bot until it answers 200; a timed-out request is still done", async () => {
    const heard: unknown[] = [];
    let answer = 503;
    const bot = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      req.on("end", () => {
        heard.push(JSON.parse(text));
        res.writeHead(answer).end();
        answer = 200;
      });
    });
    await new Promise<void>((resolve) => bot.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => bot.close(() => resolve())));
    const target = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/yookassa/notification`;
    const { server, client } = await fake({
      fate: () => ({ outcome: "paid", afterMs: 10 }),
      notifications: { target: () => target, retryMs: 20, random: () => 0.5 },
    });
    const payment = await create(client, "y3");
    await expect.poll(() => heard.length, { timeout: 3_000 }).toBe(2);
    expect(heard[1]).toMatchObject({
      type: "notification",
      event: "payment.succeeded",
      object: { id: payment.id, status: "succeeded" },
    });
    // The bot has answered the second call; the fake counts it once that answer reaches it.
    await expect.poll(() => server.notificationCounts, { timeout: 3_000 }).toMatchObject({ "503": 1, "200": 1 });
    expect(server.core.succeeded().map((each) => each.id)).toEqual([payment.id]);

    const hanging = await fake({ faults: { timeout: 1, hangMs: 3_000, random: () => 0 } });
    await expect(create(hanging.client, "y4")).rejects.toMatchObject({ code: "network" });
    expect(hanging.server.core.payments.size).toBe(1);
    expect(hanging.server.faultCounts.timeout).toBe(1);
  });
});
