/**
 * The operator routes: `/healthz` (the process answers; no external calls),
 * `/readyz` (KV reachable, workers answering, not stopping) and `/metrics`
 * (Prometheus). They read; none of them changes anything.
 */
import { Hono } from "hono";
import type { HttpClientInfo } from "../platform/types.ts";

/** What the routes need from the program. */
export interface HealthDeps {
  /** Problems that make the instance unready (empty: ready). */
  readiness(): Promise<readonly string[]>;
  /** The Prometheus exposition text. */
  metrics(): Promise<string>;
}

export function healthRoutes(deps: HealthDeps): Hono<{ Bindings: HttpClientInfo }> {
  const routes = new Hono<{ Bindings: HttpClientInfo }>();
  routes.get("/healthz", (c) => c.json({ ok: true }));
  routes.get("/readyz", async (c) => {
    const problems = await deps.readiness();
    return problems.length === 0 ? c.json({ ready: true }) : c.json({ ready: false, problems }, 503);
  });
  routes.get("/metrics", async (c) =>
    c.body(await deps.metrics(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );
  return routes;
}
