/**
 * What an actor is: a pure function from (state, message) to (state, reply,
 * effects, writes), plus an effect interpreter that the runtime calls only
 * after the new state is durable (the output gate).
 */
import type { KvKey } from "../src/platform/types.ts";
import type { ActorId } from "./routing.ts";

/** The logging surface the runtime needs; a pino logger satisfies it. */
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Log;
}

/** What a turn may read besides state and message: the actor's id and the time. */
export interface TurnContext {
  readonly id: ActorId;
  /** Wall-clock epoch milliseconds at the start of the turn. */
  readonly now: number;
  /** The values of the keys `reads` named for this message, in order (`undefined`: not in KV). */
  readonly read?: readonly unknown[];
}

/** An extra KV mutation committed atomically with the actor's state. */
export type KvWrite =
  | { readonly op: "set"; readonly key: KvKey; readonly value: unknown; readonly expireIn?: number }
  | { readonly op: "delete"; readonly key: KvKey }
  /** A KV queue message, delivered to the queue listener after `delay` ms (at least once). */
  | { readonly op: "enqueue"; readonly value: unknown; readonly delay?: number };

/**
 * The outcome of one message. Returning the same `state` object means
 * "unchanged": nothing is written. `effects` run after the commit, in order.
 */
export interface Turn<S, R = unknown, E = never> {
  readonly state: S;
  readonly reply?: R;
  readonly effects?: readonly E[];
  /**
   * Effects that do not depend on this turn's state change (e.g. stopping a
   * button's spinner): performed before the commit, so they are not held up
   * by it. Everything that reveals the new state belongs in `effects`.
   */
  readonly immediate?: readonly E[];
  readonly writes?: readonly KvWrite[];
  /**
   * The state changed only in ways not worth a commit (counters, timestamps):
   * keep it in memory, write it with the next durable change. Never set it
   * for a change whose effects depend on it.
   */
  readonly volatile?: boolean;
}

/** What an effect interpreter may do besides its own I/O. */
export interface EffectContext<M> {
  readonly id: ActorId;
  readonly log: Log;
  /** Sends the actor a follow-up message (e.g. the id of a sent Telegram message). */
  tellSelf(message: M): void;
}

/**
 * One kind of actor. The runtime keeps one resident instance per id, runs
 * its messages one at a time, persists its state under `[kind, id]` and
 * performs its effects after the commit.
 *
 * @example
 * ```ts
 * const counter: ActorBehavior<number, "inc", number> = {
 *   kind: "counter",
 *   persistent: true,
 *   initialState: () => 0,
 *   restoreState: (stored) => z.number().parse(stored),
 *   receive: (n) => ({ state: n + 1, reply: n + 1 }),
 * };
 * ```
 */
export interface ActorBehavior<S = unknown, M = unknown, R = unknown, E = never> {
  readonly kind: string;
  /** False for actors whose state is rebuilt in memory (e.g. the catalog index). */
  readonly persistent: boolean;
  /** Messages queued per actor before `overloaded`, for an actor that serves everyone (default: the host's). */
  readonly mailboxBound?: number;
  initialState(id: ActorId): S;
  /** Parses a stored state; a throw makes the message fail as `actor_failed`. */
  restoreState(stored: unknown, id: ActorId): S;
  /** The pure core: no I/O, no clock other than `ctx.now`, no randomness. */
  receive(state: S, message: M, ctx: TurnContext): Turn<S, R, E>;
  /**
   * KV keys besides its state that a message needs (records kept under keys
   * of their own, so that the state stays small: one KV value holds at most
   * 64 KiB). Read before each try of the turn and handed to `receive` as
   * `ctx.read`. Only this actor may write them, and only in a turn that also
   * changes its state, whose versionstamp then fences them. `state` is the
   * actor's state the turn will run on (e.g. which open records it has).
   */
  reads?(message: M, state: S, id: ActorId): readonly KvKey[];
  /** Fields that identify a message in logs (e.g. a Telegram update id). */
  describe?(message: M): Record<string, unknown>;
  /**
   * Effects that still answer the sender when `receive` throws (e.g. an
   * apology and a menu); performed after the actor restarted from KV.
   */
  recover?(message: M, error: unknown, done: { readonly immediate: boolean }): readonly E[];
  /**
   * Read-only work for an effect (fetching what a screen shows, rendering
   * it) that may run while the turn's commit is in flight; its result is
   * handed to `perform`. Nothing it does may be observable outside the
   * process. A rejected preparation is logged and `perform` gets `undefined`.
   */
  prepare?(effect: E, ctx: { readonly id: ActorId }): Promise<unknown>;
  /** The imperative shell for this actor's effects; `prepared` is what `prepare` returned. */
  perform?(effect: E, ctx: EffectContext<M>, prepared?: unknown): Promise<void>;
}

/** A behaviour with its type parameters erased, as hosts store them. */
// biome-ignore lint/suspicious/noExplicitAny: hosts treat every behaviour alike.
export type AnyBehavior = ActorBehavior<any, any, any, any>;
