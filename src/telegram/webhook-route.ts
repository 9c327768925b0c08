/**
 * `POST /telegram/webhook`: Telegram's updates. The secret token is checked
 * in constant time (401 otherwise, nothing read); while the bot is stopping
 * the answer is 503, so Telegram delivers again later; an update is recorded
 * in the inbox before the 200, and handled after it, so the answer is fast
 * and an answered update is never lost. An update KV cannot store (over its
 * 64 KiB value limit) is handled before the 200 instead; one nested deeper
 * than any Telegram object is refused with 400, as malformed JSON is.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { HttpClientInfo } from "../platform/types.ts";

export interface WebhookDeps {
  readonly secret: string;
  stopping(): boolean;
  /** Records the update: "new", "duplicate" (a redelivery) or "unstorable" (KV refuses to store it). */
  record(update: { readonly update_id: number }): Promise<"new" | "duplicate" | "unstorable">;
  /** Handles a recorded update (not awaited by the route). */
  handle(update: unknown): void;
  /** Handles an update that could not be recorded until its turn is durable; false when the bot stopped first. */
  handleUnrecorded(update: unknown): Promise<boolean>;
  readonly log: { warn(obj: object, msg?: string): void };
}

const UpdateId = z.looseObject({ update_id: z.number().int().nonnegative() });

/**
 * Deepest nesting accepted in an update. Telegram's objects nest about a
 * dozen levels (an update, a callback's message, its reply, a quote's
 * entities, their user...); a body nested thousands deep is forged, and
 * neither KV nor a worker thread can serialize it.
 */
export const MAX_UPDATE_DEPTH = 64;

/** True when `value` nests deeper than `limit` objects or arrays (iterative: any depth is safe to measure). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== "object" || item === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let difference = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

export function webhookRoutes(deps: WebhookDeps): Hono<{ Bindings: HttpClientInfo }> {
  const routes = new Hono<{ Bindings: HttpClientInfo }>();
  routes.post("/webhook", async (c) => {
    if (!constantTimeEqual(c.req.header("x-telegram-bot-api-secret-token") ?? "", deps.secret)) {
      deps.log.warn({ sender: c.env?.remoteAddress }, "webhook call without the secret token");
      return c.json({ ok: false }, 401);
    }
    if (deps.stopping()) return c.json({ ok: false }, 503);
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json({ ok: false }, 400);
    }
    const update = UpdateId.safeParse(body);
    if (!update.success || nestsDeeperThan(body, MAX_UPDATE_DEPTH)) return c.json({ ok: false }, 400);
    const recorded = await deps.record(update.data);
    if (recorded === "new") deps.handle(body);
    else if (recorded === "unstorable" && !(await deps.handleUnrecorded(body))) return c.json({ ok: false }, 503);
    return c.json({ ok: true });
  });
  return routes;
}
