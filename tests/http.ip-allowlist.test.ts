import { describe, expect, it } from "vitest";
import { YOOKASSA_IPS } from "../src/config.ts";
import { ipAllowlist, isIpRange } from "../src/http/ip-allowlist.ts";
import { yookassaRoutes } from "../src/payments/yookassa-route.ts";

describe("IP allowlist", () => {
  const yookassa = ipAllowlist(YOOKASSA_IPS);

  it("accepts addresses inside the ranges, IPv4-mapped ones included", () => {
    for (const ip of [
      "185.71.76.0",
      "185.71.76.31",
      "77.75.156.11",
      "77.75.154.200",
      "::ffff:185.71.77.5",
      "2a02:5180::1",
      "2a02:5180:ffff::9",
    ]) {
      expect(yookassa(ip), ip).toBe(true);
    }
  });

  it("refuses everything else, and what is not an address", () => {
    for (const ip of [
      "185.71.76.32",
      "77.75.156.12",
      "127.0.0.1",
      "10.0.0.1",
      "2a02:5181::1",
      "::1",
      "",
      "evil",
      "1.2.3.4.5",
      undefined,
    ]) {
      expect(yookassa(ip), String(ip)).toBe(false);
    }
  });

  it("checks configuration entries", () => {
    expect(["1.2.3.4", "1.2.3.0/24", "2a02:5180::/32"].every(isIpRange)).toBe(true);
    expect(["1.2.3.4/33", "300.1.1.1", "x", "2a02::5180::1"].some(isIpRange)).toBe(false);
  });
});

describe("YooKassa notification sender behind TRUST_PROXY", () => {
  /** The route as served behind one proxy whose own address (the socket's peer) is 10.0.0.2. */
  function route() {
    const notified: string[] = [];
    const routes = yookassaRoutes({
      allowedIps: YOOKASSA_IPS,
      trustProxy: true,
      notify: async (paymentId) => {
        notified.push(paymentId);
        return true;
      },
      log: { warn: () => {}, info: () => {} },
    });
    const send = async (forwardedFor: string | undefined) => {
      const headers = new Headers({ "content-type": "application/json" });
      if (forwardedFor !== undefined) headers.set("x-forwarded-for", forwardedFor);
      const body = JSON.stringify({ type: "notification", event: "payment.succeeded", object: { id: "pay-1" } });
      const response = await routes.request(
        "/notification",
        { method: "POST", headers, body },
        {
          remoteAddress: "10.0.0.2",
        },
      );
      return response.status;
    };
    return { send, notified };
  }

  it("refuses a client-forged allowlisted first entry when the proxy appended an outside address", async () => {
    const { send, notified } = route();
    expect(await send("185.71.76.10, 203.0.113.9")).toBe(403);
    expect(await send("185.71.76.10,203.0.113.9")).toBe(403);
    expect(notified).toEqual([]);
  });

  it("accepts the allowlisted address the proxy appended, whatever the client wrote before it", async () => {
    const { send, notified } = route();
    expect(await send("203.0.113.9, 185.71.76.10")).toBe(200);
    expect(await send("garbage, , 185.71.77.3 ")).toBe(200);
    expect(await send("185.71.76.10")).toBe(200);
    expect(notified).toEqual(["pay-1", "pay-1", "pay-1"]);
  });

  it("refuses a missing header, an empty or garbage rightmost entry", async () => {
    const { send, notified } = route();
    for (const header of [
      undefined,
      "",
      " ",
      "185.71.76.10,",
      "185.71.76.10, ",
      "185.71.76.10, evil",
      "185.71.76.10,,",
    ]) {
      expect(await send(header), String(header)).toBe(403);
    }
    expect(notified).toEqual([]);
  });
});
