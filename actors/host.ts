/**
 * An actor host: the virtual actors of one worker (or of the calling thread
 * in in-thread mode).
 *
 * An actor is activated by its first message (state loaded through the
 * store), stays resident while used, and is passivated after `idleMs`
 * without messages; its state is durable by then, so passivation only frees
 * memory. A turn is: receive (pure) -> commit with versionstamp check ->
 * effects. A lost check reloads the state and re-runs the pure turn, up to
 * `maxConflictRetries` times.
 */

import type { Endpoint } from "comlink";
import type { KvKey } from "../src/platform/types.ts";
import { batched } from "./batcher.ts";
import type { AnyBehavior, Log, Turn } from "./behavior.ts";
import type { CounterSample, Counters } from "./counters.ts";
import { type DirectRoutes, serveDirect } from "./direct.ts";
import { Mailboxes } from "./mailbox.ts";
import { type ActorError, fail, ok, type Result } from "./result.ts";
import { type ActorId, actorKey } from "./routing.ts";
import type { CommitOutcome, CommitRequest, ScanOptions, ScanPage, StoredState } from "./store.ts";

/** A message addressed to an actor. `askId` is set when the sender awaits a reply. */
export interface Envelope {
  readonly kind: string;
  readonly id: ActorId;
  readonly message: unknown;
  readonly askId?: string;
}

/** Sending to other actors (through the supervisor). */
export interface Messenger {
  ask(kind: string, id: ActorId, message: unknown, deadlineMs?: number): Promise<Result<unknown>>;
  tell(kind: string, id: ActorId, message: unknown): Promise<Result<void>>;
}

/** The reply to an ask, sent back to the supervisor that holds the asker. */
export interface Settlement {
  readonly askId: string;
  readonly result: Result<unknown>;
}

/**
 * What a host gets from its parent: the store (in batches: one message per
 * microtask turn, not per actor), ask settlement, and the other actors.
 */
export interface HostServices extends Messenger {
  loadMany(keys: readonly KvKey[]): Promise<StoredState[]>;
  /** Reads a page of entries under `prefix`, after the key `after` (operator tools: statistics, broadcasts). */
  scan(prefix: KvKey, options: ScanOptions): Promise<ScanPage>;
  commitMany(requests: readonly CommitRequest[]): Promise<CommitOutcome[]>;
  settle(settlements: readonly Settlement[]): Promise<void>;
}

/** Limits a host enforces. */
export interface HostLimits {
  /** Messages queued per actor before `overloaded`. */
  readonly mailboxBound: number;
  /** Messages queued in the whole host before `overloaded`. */
  readonly hostBound: number;
  /** Idle time after which a resident actor is dropped from memory. */
  readonly idleMs: number;
  /** Reload-and-retry rounds after a lost versionstamp check. */
  readonly maxConflictRetries: number;
  /**
   * Checks a resident actor's state against KV before each turn (another
   * instance may have changed it). Needed when several instances share the
   * KV; a single instance's resident state is always current.
   */
  readonly revalidate: boolean;
}

/** What a host reports about itself (heartbeats, metrics, benchmarks). */
export interface HostStats {
  readonly resident: number;
  readonly queued: number;
  readonly turns: number;
  readonly conflicts: number;
  readonly failures: number;
  /** What the host's app counted (KIE calls, payments, jobs). */
  readonly counters: readonly CounterSample[];
}

/** The host as the supervisor drives it, locally or over comlink. */
export interface HostApi {
  /**
   * Queues messages (a batch of one microtask turn). Answers at once with
   * `null` for each accepted message or the reason it was refused; asks are
   * answered later through `HostServices.settle`, or by the store when their
   * state change commits.
   */
  deliver(envelopes: readonly Envelope[]): Promise<(ActorError | null)[]>;
  ping(): Promise<HostStats>;
  /** Turns the check of resident state against KV before each turn on or off (see `HostLimits.revalidate`). */
  revalidate(on: boolean): Promise<void>;
  /** Serves direct asks from another worker on `port` (the supervisor transfers it). */
  connect(port: MessagePort): Promise<void>;
  /** Sends asks for `kinds` over `port` from now on. */
  route(kinds: readonly string[], port: MessagePort): Promise<void>;
  /** Stops intake and waits for queued messages, up to `deadlineMs`. True when all finished. */
  drain(deadlineMs: number): Promise<boolean>;
}

interface Resident {
  state: unknown;
  versionstamp: string | null;
  lastUsed: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function recoveryEffects(
  behavior: AnyBehavior,
  message: unknown,
  error: unknown,
  immediate: boolean,
  log: Log,
): readonly unknown[] {
  try {
    return behavior.recover?.(message, error, { immediate }) ?? [];
  } catch (recoverError) {
    log.error({ err: recoverError }, "recover failed");
    return [];
  }
}

/** A turn whose reply the store already delivered with its commit. */
const ACKED_AT_COMMIT: Result<unknown> = Object.freeze({ ok: true, value: undefined });

/** Options of an actor host. */
export interface ActorHostOptions {
  readonly behaviors: readonly AnyBehavior[];
  readonly services: HostServices;
  /** Direct routes to other workers (workers mode); the actors' messenger. */
  readonly routes?: DirectRoutes;
  /** Turns a MessagePort from another thread into a comlink endpoint. */
  readonly portEndpoint?: (port: MessagePort) => Endpoint;
  readonly clock: { now(): number; monotonic(): number };
  readonly log: Log;
  readonly limits: HostLimits;
  /** The app's counters, reported with the stats. */
  readonly counters?: Counters;
}

/** The virtual actors of one thread. */
export class ActorHost implements HostApi {
  readonly #behaviors: ReadonlyMap<string, AnyBehavior>;
  readonly #clock: ActorHostOptions["clock"];
  readonly #log: Log;
  readonly #limits: HostLimits;
  readonly #counters: Counters | undefined;
  #revalidating: boolean;
  readonly #resident = new Map<string, Resident>();
  readonly #mailboxes: Mailboxes;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #load: (key: KvKey) => Promise<StoredState>;
  readonly #commit: (request: CommitRequest) => Promise<CommitOutcome>;
  readonly #settle: (settlement: Settlement) => Promise<void>;
  readonly #routes: DirectRoutes | undefined;
  readonly #portEndpoint: ((port: MessagePort) => Endpoint) | undefined;
  #stopped = false;
  #turns = 0;
  #conflicts = 0;
  #failures = 0;

  constructor(options: ActorHostOptions) {
    this.#behaviors = new Map(options.behaviors.map((behavior) => [behavior.kind, behavior]));
    this.#clock = options.clock;
    this.#log = options.log;
    this.#limits = options.limits;
    this.#revalidating = options.limits.revalidate;
    this.#counters = options.counters;
    this.#mailboxes = new Mailboxes(options.limits.mailboxBound, options.limits.hostBound);
    const services = options.services;
    this.#routes = options.routes;
    this.#portEndpoint = options.portEndpoint;
    this.#load = batched((keys: KvKey[]) => services.loadMany(keys));
    this.#commit = batched((requests: CommitRequest[]) => services.commitMany(requests));
    this.#settle = batched(async (settlements: Settlement[]) => {
      await services.settle(settlements);
      return [];
    });
    this.#sweeper = setInterval(() => this.passivateIdle(), Math.max(options.limits.idleMs / 2, 10));
  }

  connect(port: MessagePort): Promise<void> {
    serveDirect(
      this.#endpointOf(port),
      (envelope) => this.#enqueue(envelope) ?? Promise.resolve({ ok: false, error: this.#refusal(envelope) }),
    );
    return Promise.resolve();
  }

  route(kinds: readonly string[], port: MessagePort): Promise<void> {
    if (this.#routes === undefined) throw new Error("this host has no direct routes");
    this.#routes.set(kinds, this.#endpointOf(port));
    return Promise.resolve();
  }

  #endpointOf(port: MessagePort): Endpoint {
    if (this.#portEndpoint === undefined) throw new Error("this host cannot use ports");
    return this.#portEndpoint(port);
  }

  deliver(envelopes: readonly Envelope[]): Promise<(ActorError | null)[]> {
    return Promise.resolve(envelopes.map((envelope) => this.#accept(envelope)));
  }

  ping(): Promise<HostStats> {
    return Promise.resolve(this.stats());
  }

  revalidate(on: boolean): Promise<void> {
    this.#revalidating = on;
    return Promise.resolve();
  }

  async drain(deadlineMs: number): Promise<boolean> {
    this.#stopped = true;
    clearInterval(this.#sweeper);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      this.#mailboxes.idle().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }

  /** Current counters. */
  stats(): HostStats {
    return {
      resident: this.#resident.size,
      queued: this.#mailboxes.total,
      turns: this.#turns,
      conflicts: this.#conflicts,
      failures: this.#failures,
      counters: this.#counters?.snapshot() ?? [],
    };
  }

  /** Drops actors idle longer than `idleMs` and with nothing queued. */
  passivateIdle(): void {
    const cutoff = this.#clock.monotonic() - this.#limits.idleMs;
    for (const [key, resident] of this.#resident) {
      if (resident.lastUsed <= cutoff && this.#mailboxes.depth(key) === 0) this.#resident.delete(key);
    }
  }

  /** `fromSelf`: a message an actor sends itself (the outcome of its own effect) is never refused as overload. */
  #accept(envelope: Envelope, fromSelf = false): ActorError | null {
    const run = this.#enqueue(envelope, fromSelf);
    if (run === undefined) return this.#refusal(envelope);
    run.then((result) => {
      if (envelope.askId !== undefined) {
        if (result !== ACKED_AT_COMMIT) this.#settle({ askId: envelope.askId, result });
      } else if (!result.ok) {
        this.#log.warn({ kind: envelope.kind, id: envelope.id, error: result.error }, "told message failed");
      }
    });
    return null;
  }

  #refusal(envelope: Envelope): ActorError {
    if (this.#stopped) return { code: "stopped", message: "the runtime is stopping" };
    if (!this.#behaviors.has(envelope.kind))
      return { code: "unknown_kind", message: `no actor kind "${envelope.kind}" here` };
    return { code: "overloaded", message: `mailbox of ${envelope.kind} ${envelope.id} is full` };
  }

  #enqueue(envelope: Envelope, fromSelf = false): Promise<Result<unknown>> | undefined {
    const behavior = this.#behaviors.get(envelope.kind);
    if (this.#stopped || behavior === undefined) return undefined;
    const key = actorKey(envelope.kind, envelope.id);
    const bound = fromSelf ? Number.POSITIVE_INFINITY : (behavior.mailboxBound ?? this.#limits.mailboxBound);
    return this.#mailboxes.enqueue(key, () => this.#runTurn(behavior, key, envelope), bound);
  }

  async #runTurn(behavior: AnyBehavior, key: string, envelope: Envelope): Promise<Result<unknown>> {
    let immediateDone = false;
    for (let attempt = 0; attempt <= this.#limits.maxConflictRetries; attempt++) {
      let resident: Resident;
      let turn: Turn<unknown, unknown, unknown>;
      try {
        resident = await this.#current(behavior, key, envelope.id);
        // Most messages read nothing besides the state: no extra await on their path.
        const keys = behavior.reads?.(envelope.message, resident.state, envelope.id) ?? [];
        const read =
          keys.length === 0
            ? undefined
            : await Promise.all(keys.map(async (readKey) => (await this.#load(readKey)).value ?? undefined));
        turn = behavior.receive(resident.state, envelope.message, {
          id: envelope.id,
          now: this.#clock.now(),
          ...(read ? { read } : {}),
        });
      } catch (error) {
        const failed = this.#failTurn(key, envelope, error, behavior.describe?.(envelope.message));
        const recovery = recoveryEffects(behavior, envelope.message, error, immediateDone, this.#log);
        await this.#perform(behavior, envelope, recovery);
        return failed;
      }
      resident.lastUsed = this.#clock.monotonic();
      // Reload-and-retry re-runs the turn; its immediate effects go out once,
      // while the turn's effects are prepared, and finish before the commit:
      // a crash before the commit re-runs the turn (and sends them again), so
      // a committed turn never lost them.
      let immediate: Promise<void> | undefined;
      if (!immediateDone && turn.immediate) {
        immediateDone = true;
        immediate = this.#perform(behavior, envelope, turn.immediate);
      }
      const effects = turn.effects ?? [];
      const prepared = this.#prepare(behavior, envelope, effects);
      const changed = turn.state !== resident.state || (turn.writes?.length ?? 0) > 0;
      const durable = changed && behavior.persistent && turn.volatile !== true;
      if (changed) {
        if (durable) {
          await immediate;
          const outcome = await this.#commit({
            key: [envelope.kind, envelope.id],
            expected: resident.versionstamp,
            value: turn.state,
            ...(turn.writes ? { writes: turn.writes } : {}),
            ...(envelope.askId ? { ack: { askId: envelope.askId, reply: turn.reply } } : {}),
          }).catch((error: unknown): CommitOutcome => ({ ok: false, reason: "failed", message: messageOf(error) }));
          if (!outcome.ok) {
            await immediate;
            this.#resident.delete(key);
            if (outcome.reason === "conflict") {
              this.#conflicts++;
              this.#log.debug({ kind: envelope.kind, id: envelope.id, attempt }, "turn conflicted; run again");
              // Another instance wrote this actor meanwhile: back off a little (with jitter) so the two stop colliding.
              await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
              continue;
            }
            // The save was refused (a state KV will not store, one that cannot be sent, or KV failing):
            // the turn did not happen, and its sender still gets an answer.
            const recovery = recoveryEffects(
              behavior,
              envelope.message,
              new Error(outcome.message),
              immediateDone,
              this.#log,
            );
            await this.#perform(behavior, envelope, recovery);
            return fail("store_failed", outcome.message);
          }
          resident.versionstamp = outcome.versionstamp;
        }
        resident.state = turn.state;
      }
      this.#turns++;
      const acked = durable && envelope.askId !== undefined;
      await immediate;
      await this.#perform(behavior, envelope, effects, await prepared);
      return acked ? ACKED_AT_COMMIT : ok(turn.reply);
    }
    return fail("conflict", `${envelope.kind} ${envelope.id} kept changing under its turn`);
  }

  /** The actor's state for a turn: resident, checked against KV when revalidating, or activated from KV. */
  async #current(behavior: AnyBehavior, key: string, id: ActorId): Promise<Resident> {
    const resident = this.#resident.get(key);
    if (resident === undefined) return await this.#activate(behavior, key, id);
    if (!this.#revalidating || !behavior.persistent) return resident;
    const stored = await this.#load([behavior.kind, id]);
    // Unchanged in KV: the resident copy stands, with its soft state.
    if (stored.versionstamp === resident.versionstamp) return resident;
    return await this.#activate(behavior, key, id, stored);
  }

  async #activate(behavior: AnyBehavior, key: string, id: ActorId, loaded?: StoredState): Promise<Resident> {
    let state: unknown;
    let versionstamp: string | null = null;
    if (behavior.persistent) {
      const stored = loaded ?? (await this.#load([behavior.kind, id]));
      versionstamp = stored.versionstamp;
      state = stored.versionstamp === null ? behavior.initialState(id) : behavior.restoreState(stored.value, id);
    } else {
      state = behavior.initialState(id);
    }
    const resident: Resident = { state, versionstamp, lastUsed: this.#clock.monotonic() };
    this.#resident.set(key, resident);
    return resident;
  }

  #failTurn(key: string, envelope: Envelope, error: unknown, described?: Record<string, unknown>): Result<never> {
    // Restart the actor: its next message reloads the durable state.
    this.#resident.delete(key);
    this.#failures++;
    this.#log.error({ err: error, kind: envelope.kind, id: envelope.id, ...described }, "actor failed on a message");
    const message = error instanceof Error ? error.message : String(error);
    return fail("actor_failed", `${envelope.kind} ${envelope.id} failed: ${message}`);
  }

  /** Starts every effect's read-only preparation; settles with one result (or `undefined`) per effect. */
  #prepare(behavior: AnyBehavior, envelope: Envelope, effects: readonly unknown[]): Promise<unknown[]> {
    const prepare = behavior.prepare;
    if (effects.length === 0 || prepare === undefined) return Promise.resolve([]);
    const context = { id: envelope.id };
    return Promise.all(
      effects.map((effect) =>
        prepare(effect, context).catch((error: unknown) => {
          this.#log.warn({ err: error, kind: envelope.kind, id: envelope.id }, "effect preparation failed");
          return undefined;
        }),
      ),
    );
  }

  async #perform(
    behavior: AnyBehavior,
    envelope: Envelope,
    effects: readonly unknown[],
    prepared: readonly unknown[] = [],
  ): Promise<void> {
    if (effects.length === 0 || behavior.perform === undefined) return;
    const log = this.#log;
    const context = {
      id: envelope.id,
      log,
      tellSelf: (message: unknown) => {
        const refusal = this.#accept({ kind: envelope.kind, id: envelope.id, message }, true);
        if (refusal !== null) log.warn({ kind: envelope.kind, id: envelope.id, error: refusal }, "tellSelf refused");
      },
    };
    for (const [index, effect] of effects.entries()) {
      try {
        await behavior.perform(effect, context, prepared[index]);
      } catch (error) {
        log.error({ err: error, kind: envelope.kind, id: envelope.id }, "effect failed after commit");
      }
    }
  }
}
