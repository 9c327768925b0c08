/**
 * KIE callback signatures (shared/reference/kie-api.md §2): HMAC-SHA256 of
 * `${taskId}.${timestamp}` keyed with the webhook HMAC key, Base64 in
 * `X-Webhook-Signature`, Unix seconds in `X-Webhook-Timestamp`. Checked with
 * Web Crypto's `verify` (constant time) and a freshness window, since KIE
 * documents none.
 */

export type SignatureProblem = "missing" | "stale" | "bad_signature";

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly problem: SignatureProblem };

export interface SignatureInput {
  readonly taskId: string;
  readonly timestamp: string | null;
  readonly signature: string | null;
  readonly nowMs: number;
  /** Accepted clock difference either way. */
  readonly toleranceSeconds: number;
}

/** A verifier for one HMAC key (the key is imported once). */
export async function callbackVerifier(hmacKey: string): Promise<(input: SignatureInput) => Promise<SignatureCheck>> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(hmacKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return async ({ taskId, timestamp, signature, nowMs, toleranceSeconds }) => {
    if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, problem: "missing" };
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return { ok: false, problem: "stale" };
    const bytes = base64Bytes(signature);
    if (bytes === undefined) return { ok: false, problem: "bad_signature" };
    const valid = await crypto.subtle.verify("HMAC", key, bytes, new TextEncoder().encode(`${taskId}.${timestamp}`));
    return valid ? { ok: true } : { ok: false, problem: "bad_signature" };
  };
}

/** Signs like KIE does (for tests and the fake KIE of benchmarks). */
export async function signCallback(hmacKey: string, taskId: string, timestamp: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(hmacKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const digest = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${taskId}.${timestamp}`));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length > 128) return undefined;
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}
