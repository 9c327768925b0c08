/**
 * `POST /yookassa/notification`: YooKassa's payment events. They carry no
 * signature, so only allowlisted senders are heard (the socket's peer, or
 * the rightmost `X-Forwarded-For` entry, the one a trusted proxy appended,
 * when the operator says one proxy sits in front; see `requestSender`), and a notification only makes the payment actor re-read the payment
 * from the API; nothing in the body is trusted. Answers never explain a
 * refusal. Duplicates are normal and harmless.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { requestSender } from "../http/client-address.ts";
import { ipAllowlist } from "../http/ip-allowlist.ts";
import type { HttpClientInfo } from "../platform/types.ts";

/** What the route needs from the rest of the bot. */
export interface YooKassaRouteDeps {
  /** Sender addresses and ranges (YooKassa publishes them). */
  readonly allowedIps: readonly string[];
  /** Take the sender from the rightmost `X-Forwarded-For` entry (one trusted proxy hop appends it). */
  readonly trustProxy: boolean;
  /** Tells the payment actor about a payment; false when it could not be reached (YooKassa retries). */
  notify(paymentId: string): Promise<boolean>;
  readonly log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

const Notification = z.looseObject({
  type: z.literal("notification"),
  event: z.string().max(64),
  object: z.looseObject({ id: z.string().min(1).max(64) }),
});

/** The `/yookassa` route group. */
export function yookassaRoutes(deps: YooKassaRouteDeps): Hono<{ Bindings: HttpClientInfo }> {
  const allowed = ipAllowlist(deps.allowedIps);
  const routes = new Hono<{ Bindings: HttpClientInfo }>();
  routes.post(
    "/notification",
    bodyLimit({ maxSize: 64 * 1024, onError: () => Response.json({ ok: false }, { status: 413 }) }),
    async (c) => {
      const sender = requestSender({
        forwardedFor: c.req.header("x-forwarded-for"),
        remoteAddress: c.env?.remoteAddress,
        trustProxy: deps.trustProxy,
      });
      if (!allowed(sender)) {
        deps.log.warn({ sender, peer: c.env?.remoteAddress }, "YooKassa notification from a sender off the allowlist");
        return c.json({ ok: false }, 403);
      }
      let parsed: z.ZodSafeParseResult<z.infer<typeof Notification>>;
      try {
        parsed = Notification.safeParse(JSON.parse(await c.req.text()));
      } catch {
        return c.json({ ok: false }, 400);
      }
      if (!parsed.success) return c.json({ ok: false }, 400);
      const { event, object } = parsed.data;
      if (!event.startsWith("payment.")) return c.json({ ok: true });
      if (!(await deps.notify(object.id))) return c.json({ ok: false }, 503);
      deps.log.info({ event, paymentId: object.id }, "YooKassa notification");
      return c.json({ ok: true });
    },
  );
  return routes;
}
