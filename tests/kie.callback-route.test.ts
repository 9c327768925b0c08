import { describe, expect, it, vi } from "vitest";
import { createHttpApp } from "../src/http/app.ts";
import type { TaskOwner } from "../src/jobs/keys.ts";
import { type KieCallbackDeps, kieCallbackRoutes } from "../src/kie/callback-route.ts";
import { signCallback } from "../src/kie/callback-signature.ts";

const KEY = "test-webhook-hmac-key";
const TASK = "ee9c2715375b7837f8bb51d641ff5863";
const TIMESTAMP = "1769670760";
const VECTOR_SIGNATURE = "xG6/yOyrMyJtUdc1yjmHpKLHSHF3MpzOPa6uxSj3qb4=";
const NOW_MS = Number(TIMESTAMP) * 1000 + 2_000;
const OWNER: TaskOwner = { userId: 42, jobId: "job-1" };

function setup(overrides: Partial<KieCallbackDeps> = {}, routeTimeoutMs?: number) {
  const lookupTask = vi.fn(async (taskId: string) => (taskId === TASK ? OWNER : undefined));
  const notify = vi.fn(async (_owner: TaskOwner, _taskId: string) => true);
  const lines: { level: string; obj: object }[] = [];
  const deps: KieCallbackDeps = {
    hmacKey: KEY,
    now: () => NOW_MS,
    lookupTask,
    notify,
    log: {
      warn: (obj) => lines.push({ level: "warn", obj }),
      info: (obj) => lines.push({ level: "info", obj }),
    },
    ...overrides,
  };
  return { app: createHttpApp({ kieCallback: deps, routeTimeoutMs }), lookupTask, notify, lines };
}

function post(
  app: { fetch(request: Request): Response | Promise<Response> },
  body: string,
  headers: Record<string, string> = {},
) {
  return app.fetch(
    new Request("http://bot.test/kie/callback", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    }),
  );
}

async function signed(taskId: string, timestamp = TIMESTAMP): Promise<Record<string, string>> {
  return {
    "X-Webhook-Timestamp": timestamp,
    "X-Webhook-Signature": await signCallback(KEY, taskId, timestamp),
  };
}

const veoBody = (taskId = TASK) => JSON.stringify({ code: 200, msg: "ok", data: { task_id: taskId, info: {} } });

describe("POST /kie/callback", () => {
  it("answers 503 when the route takes longer than the limit, so KIE calls again", async () => {
    const { app, notify } = setup({ lookupTask: () => new Promise(() => {}) }, 50);
    const response = await post(app, veoBody(), await signed(TASK));
    expect(response.status).toBe(503);
    expect(notify).not.toHaveBeenCalled();
  });

  it("accepts the reference test vector for a known task and notifies the owner once", async () => {
    const { app, lookupTask, notify, lines } = setup();
    const response = await post(app, veoBody(), {
      "X-Webhook-Timestamp": TIMESTAMP,
      "X-Webhook-Signature": VECTOR_SIGNATURE,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(lookupTask).toHaveBeenCalledWith(TASK);
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith(OWNER, TASK);
    expect(lines).toEqual([{ level: "info", obj: expect.objectContaining({ taskId: TASK, outcome: "accepted" }) }]);
    expect(JSON.stringify(lines)).not.toContain(VECTOR_SIGNATURE);
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });

  it("finds the task id in data.task_id, data.taskId and a top-level taskId", async () => {
    const bodies = [
      { data: { task_id: TASK } },
      { code: 200, data: { taskId: TASK, callbackType: "complete" } },
      { taskId: TASK, status: "SUCCESS" },
    ];
    for (const body of bodies) {
      const { app, notify } = setup();
      const response = await post(app, JSON.stringify(body), await signed(TASK));
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(notify).toHaveBeenCalledWith(OWNER, TASK);
    }
  });

  it("notifies again on a duplicate delivery", async () => {
    const { app, notify } = setup();
    const headers = await signed(TASK);
    expect((await post(app, veoBody(), headers)).status).toBe(200);
    expect((await post(app, veoBody(), headers)).status).toBe(200);
    expect(notify).toHaveBeenCalledTimes(2);
  });

  it("refuses a bad signature with 401 without looking the task up", async () => {
    const { app, lookupTask, notify, lines } = setup();
    const forged = await signCallback("another-key", TASK, TIMESTAMP);
    const response = await post(app, veoBody(), { "X-Webhook-Timestamp": TIMESTAMP, "X-Webhook-Signature": forged });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ ok: false, error: "unauthorized" });
    expect(lookupTask).not.toHaveBeenCalled();
    expect(notify).not.toHaveBeenCalled();
    expect(lines).toEqual([
      {
        level: "warn",
        obj: expect.objectContaining({ taskId: TASK, outcome: "unauthorized", problem: "bad_signature" }),
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain(forged);
  });

  it("refuses a signature made for another task id", async () => {
    const { app, lookupTask } = setup();
    const response = await post(app, veoBody(), await signed("some-other-task"));
    expect(response.status).toBe(401);
    expect(lookupTask).not.toHaveBeenCalled();
  });

  it("refuses a correctly signed but stale timestamp (10 minutes old)", async () => {
    const { app, lookupTask, notify } = setup();
    const old = String(Math.floor(NOW_MS / 1000) - 600);
    const response = await post(app, veoBody(), await signed(TASK, old));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ ok: false, error: "unauthorized" });
    expect(lookupTask).not.toHaveBeenCalled();
    expect(notify).not.toHaveBeenCalled();
  });

  it("honours a custom tolerance", async () => {
    const { app } = setup({ toleranceSeconds: 1 });
    const response = await post(app, veoBody(), {
      "X-Webhook-Timestamp": TIMESTAMP,
      "X-Webhook-Signature": VECTOR_SIGNATURE,
    });
    expect(response.status).toBe(401);
  });

  it("refuses missing headers with 401", async () => {
    const { app, lookupTask, notify } = setup();
    const headers = await signed(TASK);
    const missing: Record<string, string>[] = [
      {},
      { "X-Webhook-Timestamp": TIMESTAMP },
      { "X-Webhook-Signature": headers["X-Webhook-Signature"] ?? "" },
    ];
    for (const sent of missing) {
      const response = await post(app, veoBody(), sent);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ ok: false, error: "unauthorized" });
    }
    expect(lookupTask).not.toHaveBeenCalled();
    expect(notify).not.toHaveBeenCalled();
  });

  it("answers 404 for a validly signed unknown task, without notifying", async () => {
    const { app, lookupTask, notify } = setup();
    const unknown = "0123456789abcdef0123456789abcdef";
    const response = await post(app, veoBody(unknown), await signed(unknown));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error: "unknown_task" });
    expect(lookupTask).toHaveBeenCalledWith(unknown);
    expect(notify).not.toHaveBeenCalled();
  });

  it("answers 400 for malformed JSON and for a body without a task id", async () => {
    const { app, lookupTask } = setup();
    const headers = await signed(TASK);
    const malformed = await post(app, "{not json", headers);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ ok: false, error: "bad_json" });
    for (const body of ["{}", JSON.stringify({ data: { status: "done" } }), "[]", JSON.stringify({ taskId: "" })]) {
      const response = await post(app, body, headers);
      expect(response.status, body).toBe(400);
      expect(await response.json()).toEqual({ ok: false, error: "no_task_id" });
    }
    expect(lookupTask).not.toHaveBeenCalled();
  });

  it("answers 413 for a body over 64 KiB, declared or not", async () => {
    const { app, lookupTask } = setup();
    const headers = await signed(TASK);
    const big = JSON.stringify({ data: { task_id: TASK, padding: "x".repeat(64 * 1024) } });
    const undeclared = await post(app, big, headers);
    expect(undeclared.status).toBe(413);
    expect(await undeclared.json()).toEqual({ ok: false, error: "payload_too_large" });
    const declared = await post(app, big, { ...headers, "content-length": String(big.length) });
    expect(declared.status).toBe(413);
    expect(lookupTask).not.toHaveBeenCalled();
  });

  it("answers 503 when the notification could not be queued, so KIE retries", async () => {
    const notify = vi.fn(async () => false);
    const { app } = setup({ notify });
    const response = await post(app, veoBody(), await signed(TASK));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ok: false, error: "unavailable" });
    expect(notify).toHaveBeenCalledWith(OWNER, TASK);
  });

  it("answers 503 when the task lookup fails", async () => {
    const { app, lines } = setup({ lookupTask: vi.fn(async () => Promise.reject(new Error("kv down"))) });
    const response = await post(app, veoBody(), await signed(TASK));
    expect(response.status).toBe(503);
    expect(lines.at(-1)).toEqual({ level: "warn", obj: expect.objectContaining({ outcome: "unavailable" }) });
  });

  it("refuses an empty HMAC key when built", () => {
    const { lookupTask, notify } = setup();
    const log = { warn: () => {}, info: () => {} };
    expect(() => kieCallbackRoutes({ hmacKey: "", now: () => NOW_MS, lookupTask, notify, log })).toThrow(TypeError);
  });
});

describe("createHttpApp", () => {
  it("answers 404 JSON for other paths and methods", async () => {
    const { app } = setup();
    for (const [path, method] of [
      ["/", "GET"],
      ["/kie", "POST"],
      ["/kie/other", "POST"],
      ["/kie/callback", "GET"],
    ] as const) {
      const response = await app.request(path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toEqual({ ok: false, error: "not_found" });
    }
  });

  it("has no /kie route when the callback is not configured", async () => {
    const app = createHttpApp({});
    const response = await post(app, veoBody(), await signed(TASK));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error: "not_found" });
  });

  it("answers an unexpected route failure with a JSON 500 and reports it", async () => {
    const errors: object[] = [];
    const app = createHttpApp({ log: { error: (obj) => errors.push(obj) } });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    const response = await app.request("/boom");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ ok: false, error: "internal" });
    expect(errors).toEqual([expect.objectContaining({ path: "/boom" })]);
  });
});
