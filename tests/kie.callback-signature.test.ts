import { describe, expect, it } from "vitest";
import { callbackVerifier, signCallback } from "../src/kie/callback-signature.ts";

const KEY = "test-webhook-hmac-key";
const TASK = "ee9c2715375b7837f8bb51d641ff5863";
const TIMESTAMP = "1769670760";
const NOW = 1769670760_000;

describe("KIE callback signatures", () => {
  it("accepts the reference test vector and a fresh signature of our own", async () => {
    const verify = await callbackVerifier(KEY);
    const signature = "xG6/yOyrMyJtUdc1yjmHpKLHSHF3MpzOPa6uxSj3qb4=";
    expect(await signCallback(KEY, TASK, TIMESTAMP)).toBe(signature);
    expect(
      await verify({ taskId: TASK, timestamp: TIMESTAMP, signature, nowMs: NOW + 60_000, toleranceSeconds: 300 }),
    ).toEqual({
      ok: true,
    });
  });

  it("refuses a missing, stale, forged or malformed signature", async () => {
    const verify = await callbackVerifier(KEY);
    const good = await signCallback(KEY, TASK, TIMESTAMP);
    const check = (input: Partial<Parameters<typeof verify>[0]>) =>
      verify({ taskId: TASK, timestamp: TIMESTAMP, signature: good, nowMs: NOW, toleranceSeconds: 300, ...input });
    expect(await check({ signature: null })).toEqual({ ok: false, problem: "missing" });
    expect(await check({ timestamp: "soon" })).toEqual({ ok: false, problem: "missing" });
    expect(await check({ nowMs: NOW + 301_000 })).toEqual({ ok: false, problem: "stale" });
    expect(await check({ taskId: "another-task" })).toEqual({ ok: false, problem: "bad_signature" });
    expect(await check({ signature: await signCallback("other-key", TASK, TIMESTAMP) })).toEqual({
      ok: false,
      problem: "bad_signature",
    });
    expect(await check({ signature: "%%%not-base64%%%" })).toEqual({ ok: false, problem: "bad_signature" });
  });
});
