/**
 * `POST /telegram/webhook`: Telegram's updates. The secret token is checked
 * in constant time (401 otherwise, nothing read); while the bot is stopping
 * the answer is 503, so Telegram delivers again later; an update is recorded
 * in the inbox before the 200, and handled after it, so the answer is fast
 * and an answered update is never lost.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { HttpClientInfo } from "../platform/types.ts";

export interface WebhookDeps {
  readonly secret: string;
  stopping(): boolean;
  /** Records the update; false for a redelivery. */
  record(update: { readonly update_id: number }): Promise<boolean>;
  /** Handles a recorded update (not awaited by the route). */
  handle(update: unknown): void;
  readonly log: { warn(obj: object, msg?: string): void };
}

const UpdateId = z.looseObject({ update_id: z.number().int().nonnegative() });

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
    if (!update.success) return c.json({ ok: false }, 400);
    if (await deps.record(update.data)) deps.handle(body);
    return c.json({ ok: true });
  });
  return routes;
}
