import { describe, expect, it } from "vitest";
import { YOOKASSA_IPS } from "../src/config.ts";
import { ipAllowlist, isIpRange } from "../src/http/ip-allowlist.ts";

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
