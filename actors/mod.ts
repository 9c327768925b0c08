/**
 * The actor runtime: virtual actors keyed by id, turn-based bounded
 * mailboxes, versionstamp-fenced persistence through one store, an output
 * gate for effects, and a supervisor that restarts workers.
 *
 * @example
 * ```ts
 * const runtime = new Supervisor({ mode: "workers", platform, kv, groups, log, logging });
 * await runtime.start();
 * const reply = await runtime.ask("user", 42, { type: "update", update });
 * if (!reply.ok && reply.error.code === "overloaded") { ... }
 * ```
 */

// Building blocks (tests, benchmarks, expert use)
export { batched } from "./batcher.ts";
// Defining actors
export type { ActorBehavior, AnyBehavior, EffectContext, KvWrite, Log, Turn, TurnContext } from "./behavior.ts";
export { type CounterSample, Counters } from "./counters.ts";
export {
  ActorHost,
  type Envelope,
  type HostApi,
  type HostLimits,
  type HostServices,
  type HostStats,
  type Messenger,
  type Settlement,
} from "./host.ts";
export type { HostApp, HostAppContext } from "./host-boot.ts";
export { Mailboxes } from "./mailbox.ts";
export { type ActorError, type ActorErrorCode, fail, ok, type Result } from "./result.ts";
export { type ActorId, workerIndexFor } from "./routing.ts";
export { type CommitOutcome, type CommitRequest, isLockedError, Store, type StoredState } from "./store.ts";
// Running them
export {
  DEFAULT_LIMITS,
  type RuntimeLimits,
  Supervisor,
  type SupervisorOptions,
  type WorkerGroupSpec,
} from "./supervisor.ts";
