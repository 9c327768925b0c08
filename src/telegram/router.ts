/**
 * The router: one update in, one message to the user's actor out, except a
 * pre-checkout query, which is answered beside the actor (Telegram waits 10
 * seconds for it, and the user's mailbox may be busy for longer).
 */
import type { Update } from "grammy/types";
import { type Log, ok, type Result, type Supervisor } from "../../actors/mod.ts";
import { routeUpdate } from "./update.ts";

/** What became of an update: handed over, skipped for good, or to be offered again. */
export type RouteOutcome = "accepted" | "skipped" | "retry";

/** Where the router reports each update (metrics). */
export type RouteObserver = (type: string, outcome: RouteOutcome, seconds: number) => void;

/** Answers a pre-checkout query (see `payments/pre-checkout.ts`). */
export type PreCheckoutHandler = (query: NonNullable<Update["pre_checkout_query"]>) => Promise<void>;

/** The kind of an update, for metrics. */
function typeOf(input: unknown): string {
  if (typeof input !== "object" || input === null) return "invalid";
  return Object.keys(input).find((key) => key !== "update_id") ?? "empty";
}

/** Routes updates to user actors through the supervisor. */
export function createUpdateRouter(
  supervisor: Supervisor,
  log: Log,
  observe: RouteObserver,
  preCheckout: PreCheckoutHandler,
) {
  return {
    /** Hands the update over and waits until its state change is durable (or its pre-checkout is answered). */
    async dispatch(input: unknown): Promise<Result<unknown> | RouteOutcome> {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      const routed = routeUpdate(input);
      if (!routed.ok) {
        observe(typeOf(input), "skipped", seconds());
        return "skipped";
      }
      const query = routed.update.pre_checkout_query;
      if (query !== undefined) {
        // Answered once: Telegram does not wait for a second try.
        await preCheckout(query).catch((error: unknown) =>
          log.error({ err: error, userId: query.from.id }, "pre-checkout not answered"),
        );
        observe("pre_checkout_query", "accepted", seconds());
        return ok(undefined);
      }
      const result = await supervisor.ask("user", routed.userId, { type: "update", update: routed.update });
      log.debug(
        {
          updateId: routed.update.update_id,
          userId: routed.userId,
          ok: result.ok,
          data: routed.update.callback_query?.data,
        },
        "update handled",
      );
      observe(typeOf(input), result.ok ? "accepted" : "retry", seconds());
      return result;
    },
  };
}
