/**
 * Direct routes between workers. An ask from a user shard to the catalog
 * would otherwise cross two thread boundaries each way (shard -> main ->
 * catalog and back); the supervisor gives each worker a MessagePort to the
 * worker of a `direct` group, so such asks cross one.
 */
import { type Endpoint, expose, type Remote, wrap } from "comlink";
import type { Envelope, Messenger } from "./host.ts";
import { type ActorError, fail, type Result } from "./result.ts";
import type { ActorId } from "./routing.ts";

/** What a worker offers on a direct port: run one message and answer. */
export interface DirectApi {
  run(envelope: Envelope): Promise<Result<unknown>>;
}

type Settle = (result: Result<unknown>) => void;

interface Route {
  readonly remote: Remote<DirectApi>;
  readonly pending: Set<Settle>;
}

/** Exposes `run` on a port received from the supervisor (target side). */
export function serveDirect(endpoint: Endpoint, run: (envelope: Envelope) => Promise<Result<unknown>>): void {
  expose({ run } satisfies DirectApi, endpoint);
}

/**
 * The messenger a host's actors use: direct ports where the supervisor set
 * them up, the supervisor otherwise.
 */
export class DirectRoutes implements Messenger {
  readonly #routes = new Map<string, Route>();

  constructor(
    readonly fallback: Messenger,
    readonly askDeadlineMs: number,
  ) {}

  /** Routes `kinds` over `endpoint` from now on; asks still waiting on an older route fail at once. */
  set(kinds: readonly string[], endpoint: Endpoint): void {
    const route: Route = { remote: wrap<DirectApi>(endpoint), pending: new Set() };
    for (const kind of kinds) {
      const old = this.#routes.get(kind);
      this.#routes.set(kind, route);
      if (old !== undefined && old !== route) {
        for (const settle of old.pending) settle(fail("worker_crashed", `the worker hosting ${kind} was replaced`));
      }
    }
  }

  ask(kind: string, id: ActorId, message: unknown, deadlineMs = this.askDeadlineMs): Promise<Result<unknown>> {
    const route = this.#routes.get(kind);
    if (route === undefined) return this.fallback.ask(kind, id, message, deadlineMs);
    return new Promise((resolve) => {
      const settle: Settle = (result) => {
        if (!route.pending.delete(settle)) return;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(
        () => settle(fail("timeout", `${kind} ${id} did not answer in ${deadlineMs} ms`)),
        deadlineMs,
      );
      route.pending.add(settle);
      route.remote.run({ kind, id, message }).then(settle, (error: unknown) => settle(crashed(error)));
    });
  }

  tell(kind: string, id: ActorId, message: unknown): Promise<Result<void>> {
    return this.fallback.tell(kind, id, message);
  }
}

function crashed(error: unknown): Result<never, ActorError> {
  return fail("worker_crashed", error instanceof Error ? error.message : String(error));
}
