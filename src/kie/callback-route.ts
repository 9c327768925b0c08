/**
 * `POST /kie/callback`: KIE's "your task has news" webhook.
 *
 * The request is only a wake-up call. Its signature (kie-api.md §2) proves it
 * came from KIE for that task id; the owner's actor is then told to re-read the
 * task's status from KIE, so nothing else in the body is trusted or parsed.
 * Deliveries may repeat and each one simply notifies again: the actor treats
 * news about a finished task as a no-op. Answers other than 2xx make KIE retry
 * (at most three times), which is what a 503 is for.
 *
 * @example
 * ```ts
 * app.route("/kie", kieCallbackRoutes({ hmacKey, now: clock.now, lookupTask, notify, log }));
 * ```
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { TaskOwner } from "../jobs/keys.ts";
import { callbackVerifier } from "./callback-signature.ts";
import { callbackTaskId } from "./task-status.ts";

/** Largest callback body accepted; KIE's are a few KiB at most. */
export const CALLBACK_BODY_LIMIT = 64 * 1024;
/** Clock difference accepted by default; KIE documents no replay window. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** What the callback route needs from the rest of the bot. */
export interface KieCallbackDeps {
  /** HMAC key from KIE's settings page. */
  readonly hmacKey: string;
  /** Seconds a timestamp may differ from now (default 300). */
  readonly toleranceSeconds?: number;
  readonly now: () => number; // epoch ms
  /** Finds who owns a task; undefined for unknown task ids. */
  lookupTask(taskId: string): Promise<TaskOwner | undefined>;
  /** Tells the owner's actor that its task has news (it then reads the task's status from KIE). Must not throw for a valid owner; returns false if the message could not be queued. */
  notify(owner: TaskOwner, taskId: string): Promise<boolean>;
  readonly log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Why a callback was answered the way it was (the `error` of a refusal, the `outcome` in logs). */
export type CallbackOutcome =
  | "accepted"
  | "payload_too_large"
  | "bad_json"
  | "no_task_id"
  | "unauthorized"
  | "unknown_task"
  | "unavailable";

/** KIE task ids are short tokens; anything longer is not one of ours. */
const TaskId = z.string().min(1).max(128);

/** The `/kie` route group: mount it with `app.route("/kie", kieCallbackRoutes(deps))`. */
export function kieCallbackRoutes(deps: KieCallbackDeps): Hono {
  if (deps.hmacKey === "") throw new TypeError("kieCallbackRoutes needs a non-empty HMAC key");
  const verifier = callbackVerifier(deps.hmacKey);
  const toleranceSeconds = deps.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const refuse = (status: 400 | 401 | 404 | 413 | 503, error: Exclude<CallbackOutcome, "accepted">) =>
    Response.json({ ok: false, error }, { status });

  const routes = new Hono();
  routes.post(
    "/callback",
    bodyLimit({
      maxSize: CALLBACK_BODY_LIMIT,
      onError: () => {
        deps.log.warn({ outcome: "payload_too_large" }, "KIE callback refused");
        return refuse(413, "payload_too_large");
      },
    }),
    async (c) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        deps.log.warn({ outcome: "bad_json" }, "KIE callback refused");
        return refuse(400, "bad_json");
      }
      const taskId = TaskId.safeParse(callbackTaskId(body));
      if (!taskId.success) {
        deps.log.warn({ outcome: "no_task_id" }, "KIE callback refused");
        return refuse(400, "no_task_id");
      }
      const task = taskId.data;

      const check = await (await verifier)({
        taskId: task,
        timestamp: c.req.header("x-webhook-timestamp") ?? null,
        signature: c.req.header("x-webhook-signature") ?? null,
        nowMs: deps.now(),
        toleranceSeconds,
      });
      if (!check.ok) {
        deps.log.warn({ taskId: task, outcome: "unauthorized", problem: check.problem }, "KIE callback refused");
        return refuse(401, "unauthorized");
      }

      try {
        const owner = await deps.lookupTask(task);
        if (owner === undefined) {
          deps.log.warn({ taskId: task, outcome: "unknown_task" }, "KIE callback for an unknown task");
          return refuse(404, "unknown_task");
        }
        if (!(await deps.notify(owner, task))) {
          deps.log.warn({ taskId: task, userId: owner.userId, outcome: "unavailable" }, "KIE callback not queued");
          return refuse(503, "unavailable");
        }
        deps.log.info({ taskId: task, userId: owner.userId, jobId: owner.jobId, outcome: "accepted" }, "KIE callback");
        return c.json({ ok: true });
      } catch (error) {
        deps.log.warn({ taskId: task, outcome: "unavailable", err: error }, "KIE callback failed");
        return refuse(503, "unavailable");
      }
    },
  );
  return routes;
}
