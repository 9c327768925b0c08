/**
 * The bot's HTTP surface as one Hono app, runtime-neutral: `platform.serveHttp`
 * serves its `fetch`, and tests call `app.request(...)` without a network.
 *
 * Each route group lives next to what it serves and is mounted here with
 * `app.route(prefix, group)`; a group whose dependencies are not configured
 * is simply not mounted, so its paths answer 404 like any unknown path.
 *
 * @example
 * ```ts
 * const app = createHttpApp({ kieCallback });
 * const server = await platform.serveHttp({ port: 8080, hostname: "0.0.0.0" }, app.fetch);
 * ```
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { timeout } from "hono/timeout";
import { type KieCallbackDeps, kieCallbackRoutes } from "../kie/callback-route.ts";
import { type YooKassaRouteDeps, yookassaRoutes } from "../payments/yookassa-route.ts";
import type { HttpClientInfo } from "../platform/types.ts";
import { type WebhookDeps, webhookRoutes } from "../telegram/webhook-route.ts";
import { type HealthDeps, healthRoutes } from "./health.ts";

/** What the HTTP app serves; each optional part mounts its routes only when present. */
export interface HttpDeps {
  /** Present in webhook mode. */
  readonly webhook?: WebhookDeps;
  /** Health, readiness and metrics. */
  readonly health?: HealthDeps;
  /** Present when PUBLIC_BASE_URL and KIE_WEBHOOK_HMAC_KEY are configured. */
  readonly kieCallback?: KieCallbackDeps;
  /** Present when YooKassa is configured. */
  readonly yookassa?: YooKassaRouteDeps;
  /** How long any route may take (default 10 s; request bodies are already read and capped by the platform). */
  readonly routeTimeoutMs?: number;
  /** Where a route's unexpected failure is reported (route groups log their expected ones themselves). */
  readonly log?: { error(obj: object, msg?: string): void };
}

/** Builds the app: the configured route groups, each under the time limit, and a JSON 404 for everything else. */
export function createHttpApp(deps: HttpDeps): Hono<{ Bindings: HttpClientInfo }> {
  const app = new Hono<{ Bindings: HttpClientInfo }>();
  // No route may keep its caller waiting: past the limit the answer is 503, and the sender retries.
  app.use(timeout(deps.routeTimeoutMs ?? 10_000, () => new HTTPException(503, { message: "timeout" })));
  if (deps.health) app.route("/", healthRoutes(deps.health));
  if (deps.webhook) app.route("/telegram", webhookRoutes(deps.webhook));
  if (deps.kieCallback) app.route("/kie", kieCallbackRoutes(deps.kieCallback));
  if (deps.yookassa) app.route("/yookassa", yookassaRoutes(deps.yookassa));
  app.notFound((c) => c.json({ ok: false, error: "not_found" }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    deps.log?.error({ err: error, method: c.req.method, path: c.req.path }, "HTTP route failed");
    return c.json({ ok: false, error: "internal" }, 500);
  });
  return app;
}
