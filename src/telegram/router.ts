/**
 * The router: one update in, one message to the user's actor out.
 */
import type { Log, Result, Supervisor } from "../../actors/mod.ts";
import { routeUpdate } from "./update.ts";

/** What became of an update: handed over, skipped for good, or to be offered again. */
export type RouteOutcome = "accepted" | "skipped" | "retry";

/** Errors after which the same update may succeed later. */
const TRANSIENT = new Set(["overloaded", "worker_crashed", "timeout"]);

/** Where the router reports each update (metrics). */
export type RouteObserver = (type: string, outcome: RouteOutcome, seconds: number) => void;

/** The kind of an update, for metrics. */
function typeOf(input: unknown): string {
  if (typeof input !== "object" || input === null) return "invalid";
  return Object.keys(input).find((key) => key !== "update_id") ?? "empty";
}

/** Routes updates to user actors through the supervisor. */
export function createUpdateRouter(supervisor: Supervisor, log: Log, observe: RouteObserver = () => {}) {
  return {
    /** Hands the update to its user's actor without waiting for its turn. */
    async route(input: unknown): Promise<RouteOutcome> {
      const started = performance.now();
      const routed = routeUpdate(input);
      if (!routed.ok) {
        log.warn(
          { rejection: routed.rejection, updateId: (input as { update_id?: unknown })?.update_id },
          "update not routed",
        );
        observe(typeOf(input), "skipped", (performance.now() - started) / 1000);
        return "skipped";
      }
      const result = await supervisor.tell("user", routed.userId, { type: "update", update: routed.update });
      const outcome = outcomeOf(result, routed.update.update_id, log);
      observe(typeOf(input), outcome, (performance.now() - started) / 1000);
      return outcome;
    },
    /** Hands the update over and waits until its state change is durable (tests, webhooks). */
    async dispatch(input: unknown): Promise<Result<unknown> | RouteOutcome> {
      const started = performance.now();
      const routed = routeUpdate(input);
      if (!routed.ok) {
        observe(typeOf(input), "skipped", (performance.now() - started) / 1000);
        return "skipped";
      }
      const result = await supervisor.ask("user", routed.userId, { type: "update", update: routed.update });
      observe(typeOf(input), result.ok ? "accepted" : "retry", (performance.now() - started) / 1000);
      return result;
    },
  };
}

function outcomeOf(result: Result<void>, updateId: number, log: Log): RouteOutcome {
  if (result.ok) return "accepted";
  if (TRANSIENT.has(result.error.code)) return "retry";
  log.error({ updateId, error: result.error }, "update could not be delivered");
  return "skipped";
}
