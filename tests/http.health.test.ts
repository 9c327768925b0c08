/** The operator routes: liveness without external calls, readiness that turns false when stopping, Prometheus metrics. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotCall, botApiServer, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("health, readiness and metrics", () => {
  const defer = useCleanups();

  it("answers /healthz and /readyz, counts updates in /metrics, and is not ready once stopping", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const { app, send } = await startBot(`${dir.path}/kv`, calls);
    const get = (path: string) => app.handleHttp(new Request(`http://bot.local${path}`));

    expect(await (await get("/healthz")).json()).toEqual({ ok: true });
    const ready = await get("/readyz");
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);

    await send(userOf(61, "en").text("/start"));
    const metrics = await (await get("/metrics")).text();
    expect(metrics).toContain('bot_updates_total{type="message",outcome="accepted"} 1');
    // The user, and the actors the start-up warm-up touched.
    expect(Number(metrics.match(/actors_resident\{group="user"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain("kv_commit_latency_seconds");
    expect(metrics).toContain("jobs_open 0");
    // The /start made the user's first save.
    expect(Number(metrics.match(/kv_commits_total\{kind="save"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(1);

    expect((await get("/nowhere")).status).toBe(404);
    await app.stop();
    const stopping = await get("/readyz");
    expect([stopping.status, await stopping.json()]).toEqual([503, { ready: false, problems: ["stopping"] }]);
  });
});
