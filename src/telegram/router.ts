/**
 * The router: one update in, one message to the user's actor out.
 */
import type { Log, Result, Supervisor } from "../../actors/mod.ts";
import { routeUpdate } from "./update.ts";

/** What became of an update: handed over, skipped for good, or to be offered again. */
export type RouteOutcome = "accepted" | "skipped" | "retry";

/** Errors after which the same update may succeed later. */
const TRANSIENT = new Set(["overloaded", "worker_crashed", "timeout"]);

/** Routes updates to user actors through the supervisor. */
export function createUpdateRouter(supervisor: Supervisor, log: Log) {
  return {
    /** Hands the update to its user's actor without waiting for its turn. */
    async route(input: unknown): Promise<RouteOutcome> {
      const routed = routeUpdate(input);
      if (!routed.ok) {
        log.warn(
          { rejection: routed.rejection, updateId: (input as { update_id?: unknown })?.update_id },
          "update not routed",
        );
        return "skipped";
      }
      const result = await supervisor.tell("user", routed.userId, { type: "update", update: routed.update });
      return outcomeOf(result, routed.update.update_id, log);
    },
    /** Hands the update over and waits until its state change is durable (tests, webhooks). */
    async dispatch(input: unknown): Promise<Result<unknown> | RouteOutcome> {
      const routed = routeUpdate(input);
      if (!routed.ok) return "skipped";
      return await supervisor.ask("user", routed.userId, { type: "update", update: routed.update });
    },
  };
}

function outcomeOf(result: Result<void>, updateId: number, log: Log): RouteOutcome {
  if (result.ok) return "accepted";
  if (TRANSIENT.has(result.error.code)) return "retry";
  log.error({ updateId, error: result.error }, "update could not be delivered");
  return "skipped";
}
