/**
 * The supervisor: starts the worker groups (user shards, catalog, payment),
 * routes every message to the worker that hosts its actor, owns the store,
 * and restarts workers that die or hang.
 *
 * In `workers` mode each host is a worker thread reached over comlink; in
 * `in-thread` mode the same hosts run in the calling thread (msw can only
 * intercept `fetch` in its own thread, so msw tests use that mode).
 */
import { expose, transfer, wrap } from "comlink";
import type { LogSettings } from "../src/log.ts";
import type { KvStore, Platform, WorkerHandle } from "../src/platform/types.ts";
import { batched } from "./batcher.ts";
import type { Log } from "./behavior.ts";
import type { Envelope, HostApi, HostLimits, HostServices, HostStats } from "./host.ts";
import { type HostBoot, startHost, WORKER_READY } from "./host-boot.ts";
import { type ActorError, fail, ok, type Result } from "./result.ts";
import { type ActorId, workerIndexFor } from "./routing.ts";
import { type CommitAck, Store } from "./store.ts";

/** A set of identical workers hosting some actor kinds. */
export interface WorkerGroupSpec {
  readonly name: string;
  readonly kinds: readonly string[];
  readonly size: number;
  /** The app module (default export: `HostApp`) the group's workers run. */
  readonly module: URL;
  /** Plain data handed to the app's `createBehaviors`. */
  readonly appData?: unknown;
  /**
   * Every other worker gets a direct port to this group's worker (workers
   * mode, one-worker groups), so asks to it cross one thread boundary.
   */
  readonly direct?: boolean;
}

/** Limits of the whole runtime; every field has a default. */
export interface RuntimeLimits extends HostLimits {
  readonly askDeadlineMs: number;
  readonly heartbeatMs: number;
  /** A worker that does not answer a heartbeat for this long is restarted. */
  readonly hangMs: number;
  readonly restartMinMs: number;
  readonly restartMaxMs: number;
}

/** Defaults suited to production. */
export const DEFAULT_LIMITS: RuntimeLimits = {
  mailboxBound: 100,
  hostBound: 20_000,
  idleMs: 10 * 60_000,
  maxConflictRetries: 5,
  revalidate: false,
  askDeadlineMs: 30_000,
  heartbeatMs: 2_000,
  hangMs: 10_000,
  restartMinMs: 100,
  restartMaxMs: 10_000,
};

/** How a supervisor runs. */
export interface SupervisorOptions {
  readonly mode: "workers" | "in-thread";
  readonly platform: Pick<Platform, "spawnWorker" | "loadable" | "portEndpoint" | "clock" | "kvLimits">;
  /** The process's one KV connection; the supervisor's store owns it from now on. */
  readonly kv: KvStore;
  readonly groups: readonly WorkerGroupSpec[];
  readonly log: Log;
  /** Logging settings for the hosts' own loggers. */
  readonly logging: LogSettings;
  readonly limits?: Partial<RuntimeLimits>;
}

type Settle = (result: Result<unknown>) => void;

interface Slot {
  readonly group: WorkerGroupSpec;
  readonly index: number;
  generation: number;
  ready: Promise<HostApi>;
  host: HostApi | undefined;
  handle: WorkerHandle | undefined;
  closePort: (() => void) | undefined;
  /** Queues an envelope for the next batch to this slot's host. */
  readonly deliver: (envelope: Envelope) => Promise<ActorError | null>;
  /** Fails everything in flight to this slot when its worker dies. */
  inflight: Set<Settle>;
  failures: number;
  startedAt: number;
  pinging: boolean;
}

const workerMainUrl = new URL(`./worker-main${extensionOf(import.meta.url)}`, import.meta.url);

function extensionOf(url: string): string {
  return url.slice(url.lastIndexOf("."));
}

/** The actor runtime of one process. */
export class Supervisor {
  readonly store: Store;
  readonly limits: RuntimeLimits;
  readonly #options: SupervisorOptions;
  readonly #log: Log;
  readonly #slots = new Map<string, Slot[]>();
  readonly #asks = new Map<string, Settle>();
  readonly #appData = new Map<string, unknown>();
  readonly #nonce = Math.random().toString(36).slice(2, 10);
  #seq = 0;
  /** Messages from this thread are refused (a stop began); actors still reach each other. */
  #intakeClosed = false;
  #stopping = false;
  #started = false;
  #revalidate: boolean;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #services: HostServices;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#log = options.log;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#revalidate = this.limits.revalidate;
    this.store = new Store(options.kv, {
      log: options.log,
      limits: options.platform.kvLimits,
      onCommitted: (acks) => this.#settleAcks(acks),
    });
    this.#services = {
      loadMany: (keys) => this.store.loadMany(keys),
      scan: (prefix, options) => this.store.scan(prefix, options),
      commitMany: (requests) => this.store.commitMany(requests),
      settle: async (settlements) => {
        for (const { askId, result } of settlements) this.#asks.get(askId)?.(result);
      },
      // Between actors: still delivered while a stop waits for the hosts to go idle.
      ask: (kind, id, message, deadlineMs) =>
        this.#send(kind, id, message, deadlineMs ?? this.limits.askDeadlineMs, true, false),
      tell: (kind, id, message) =>
        this.#send(kind, id, message, this.limits.askDeadlineMs, false, false) as Promise<Result<void>>,
    };
  }

  /** Starts every worker and resolves when all are ready. */
  async start(): Promise<void> {
    for (const group of this.#options.groups) {
      for (const kind of group.kinds) {
        if (this.#slots.has(kind)) throw new Error(`actor kind "${kind}" is hosted by two groups`);
      }
      const slots = Array.from({ length: Math.max(1, group.size) }, (_, index) => this.#newSlot(group, index));
      for (const kind of group.kinds) this.#slots.set(kind, slots);
    }
    await Promise.all(this.#allSlots().map((slot) => slot.ready));
    this.#started = true;
    if (this.#options.mode === "workers") {
      for (const slot of this.#allSlots()) if (slot.group.direct) await this.#wire(slot);
      this.#heartbeat = setInterval(() => this.#checkHeartbeats(), this.limits.heartbeatMs);
    }
  }

  /** Sends a message and waits for the actor's reply, at most `deadlineMs`. */
  ask<R = unknown>(kind: string, id: ActorId, message: unknown, deadlineMs?: number): Promise<Result<R>> {
    return this.#send(kind, id, message, deadlineMs ?? this.limits.askDeadlineMs, true, true) as Promise<Result<R>>;
  }

  /** Sends a message without waiting for its turn; resolves once the actor's host accepted it. */
  tell(kind: string, id: ActorId, message: unknown): Promise<Result<void>> {
    return this.#send(kind, id, message, this.limits.askDeadlineMs, false, true) as Promise<Result<void>>;
  }

  /**
   * Replaces the data a group's workers start with (e.g. after a catalog
   * reload), so a restarted worker does not come back with stale data.
   */
  setAppData(group: string, appData: unknown): void {
    this.#appData.set(group, appData);
  }

  /**
   * Turns on (or off) the check of every resident actor's state against KV
   * before each turn, in every host and in hosts started later: for when
   * another instance shares the KV.
   */
  async setRevalidate(on: boolean): Promise<void> {
    this.#revalidate = on;
    await Promise.all(this.#allSlots().map((slot) => slot.host?.revalidate(on)));
  }

  /** Kills a worker as a crash would (for operators and fault tests); it restarts by itself. */
  async killWorker(group: string, index: number): Promise<void> {
    const slot = this.#allSlots().find((candidate) => candidate.group.name === group && candidate.index === index);
    await slot?.handle?.terminate();
  }

  /** Counters of every host, by group. */
  async stats(): Promise<Record<string, HostStats[]>> {
    const out: Record<string, HostStats[]> = {};
    for (const group of this.#options.groups) {
      const slots = this.#slots.get(group.kinds[0] ?? "") ?? [];
      out[group.name] = await Promise.all(slots.map(async (slot) => (await slot.ready).ping()));
    }
    return out;
  }

  /**
   * Stops in two steps within `deadlineMs`. First messages from outside the
   * workers (this thread's `ask` and `tell`) are refused while actors still
   * reach each other, until every host is idle: a turn whose effect asks
   * another actor (an admin's credit to a user) completes instead of failing
   * half-done. Then the hosts refuse everything, drain what they hold and the
   * pending commits are written. The caller closes the KV.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    const deadline = this.#options.platform.clock.monotonic() + deadlineMs;
    const left = () => Math.max(0, deadline - this.#options.platform.clock.monotonic());
    this.#intakeClosed = true;
    await this.#quiesce(left);
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    const slots = this.#allSlots();
    const drained = await Promise.all(slots.map((slot) => this.#drain(slot, left())));
    await this.store.flush();
    await Promise.all(slots.map((slot) => this.#retire(slot)));
    for (const settle of this.#asks.values()) settle(fail("stopped", "the runtime stopped"));
    return drained.every(Boolean);
  }

  /**
   * Waits until no host has a message queued or running and no message is
   * on its way, seen twice in a row (a turn may pass work on between two
   * looks), or until `left()` runs out.
   */
  async #quiesce(left: () => number): Promise<void> {
    const slots = this.#allSlots();
    const idle = async () => {
      if (slots.some((slot) => slot.inflight.size > 0)) return false;
      const stats = await Promise.all(slots.map((slot) => slot.host?.ping().catch(() => undefined)));
      return stats.every((stat) => stat === undefined || stat.queued === 0);
    };
    for (let quiet = 0; quiet < 2 && left() > 0; ) {
      quiet = (await idle()) ? quiet + 1 : 0;
      if (quiet < 2) await new Promise((resolve) => setTimeout(resolve, Math.min(10, left())));
    }
  }

  /** Drains one host; a worker that dies or stops answering counts as not drained. */
  async #drain(slot: Slot, deadlineMs: number): Promise<boolean> {
    const host = slot.host;
    if (host === undefined) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs + 500);
      slot.handle?.exited.then(() => resolve(false));
    });
    try {
      return await Promise.race([host.drain(deadlineMs), giveUp]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #allSlots(): Slot[] {
    return [...new Set([...this.#slots.values()].flat())];
  }

  #newSlot(group: WorkerGroupSpec, index: number): Slot {
    const slot: Slot = {
      deliver: batched((envelopes: Envelope[]) => slot.ready.then((host) => host.deliver(envelopes))),
      group,
      index,
      generation: 0,
      ready: Promise.resolve() as unknown as Promise<HostApi>,
      host: undefined,
      handle: undefined,
      closePort: undefined,
      inflight: new Set(),
      failures: 0,
      startedAt: 0,
      pinging: false,
    };
    slot.ready = this.#launch(slot, 0);
    return slot;
  }

  #boot(slot: Slot): HostBoot {
    const { group, index } = slot;
    const { askDeadlineMs, heartbeatMs, hangMs, restartMinMs, restartMaxMs, ...hostLimits } = this.limits;
    return {
      group: group.name,
      index,
      module: this.#options.platform.loadable(group.module).href,
      appData: this.#appData.has(group.name) ? this.#appData.get(group.name) : group.appData,
      limits: { ...hostLimits, revalidate: this.#revalidate },
      askDeadlineMs,
      logging: this.#options.logging,
    };
  }

  async #launch(slot: Slot, delayMs: number): Promise<HostApi> {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const generation = ++slot.generation;
    slot.startedAt = this.#options.platform.clock.monotonic();
    const host =
      this.#options.mode === "in-thread"
        ? await startHost(this.#boot(slot), this.#services, this.#options.platform.clock)
        : await this.#spawn(slot, generation);
    slot.host = host;
    if (this.#options.mode === "workers" && this.#started) await this.#wire(slot);
    return host;
  }

  /**
   * Gives workers direct ports to `direct` groups: the new slot to every
   * direct target, or (when the slot is a target) every other worker to it.
   */
  async #wire(slot: Slot): Promise<void> {
    const targets = this.#allSlots().filter((candidate) => candidate.group.direct && candidate.group.size === 1);
    const pairs: [Slot, Slot][] = [];
    for (const target of targets) {
      if (target === slot) {
        for (const other of this.#allSlots()) if (other.group !== target.group) pairs.push([other, target]);
      } else if (slot.group !== target.group) {
        pairs.push([slot, target]);
      }
    }
    await Promise.all(
      pairs.map(async ([from, to]) => {
        // Only workers that are up now: one still restarting wires itself when it is up.
        const fromHost = from.host;
        const toHost = to.host;
        if (fromHost === undefined || toHost === undefined) return;
        const channel = new MessageChannel();
        await toHost.connect(transfer(channel.port1, [channel.port1]));
        await fromHost.route(to.group.kinds, transfer(channel.port2, [channel.port2]));
      }),
    );
  }

  async #spawn(slot: Slot, generation: number): Promise<HostApi> {
    const { platform } = this.#options;
    const channel = new MessageChannel();
    expose(this.#services, platform.portEndpoint(channel.port1));
    const handle = platform.spawnWorker(
      platform.loadable(workerMainUrl),
      { ...this.#boot(slot), servicesPort: channel.port2 },
      [channel.port2],
    );
    slot.handle = handle;
    slot.closePort = () => channel.port1.close();
    handle.exited.then((exit) => this.#onExit(slot, generation, exit.error ?? `exit code ${exit.code}`));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (event: MessageEvent) => {
        if (event.data !== WORKER_READY) return;
        handle.endpoint.removeEventListener("message", onMessage as EventListener);
        resolve();
      };
      handle.endpoint.addEventListener("message", onMessage as EventListener);
      handle.exited.then((exit) => reject(new Error(`worker exited while starting: ${exit.error ?? exit.code}`)));
    });
    return wrap<HostApi>(handle.endpoint) as unknown as HostApi;
  }

  #onExit(slot: Slot, generation: number, reason: string): void {
    if (slot.generation !== generation) return;
    // No more commits from the dead worker; those already received are written
    // before the in-flight messages fail, so every message whose state change
    // is durable is answered as a success and no failed one is visible.
    slot.closePort?.();
    slot.host = undefined;
    slot.handle = undefined;
    const failed = slot.inflight;
    slot.inflight = new Set();
    const flushed = this.store.flush().then(() => {
      for (const settle of failed)
        settle(fail("worker_crashed", `worker ${slot.group.name}-${slot.index} died: ${reason}`));
    });
    if (this.#stopping) return;
    const stable = this.#options.platform.clock.monotonic() - slot.startedAt > 30_000;
    slot.failures = stable ? 1 : slot.failures + 1;
    const delay = Math.min(this.limits.restartMinMs * 2 ** (slot.failures - 1), this.limits.restartMaxMs);
    this.#log.error(
      { worker: `${slot.group.name}-${slot.index}`, reason, restartInMs: delay, inflight: failed.size },
      "worker died; restarting",
    );
    slot.ready = flushed.then(() => this.#launch(slot, delay));
    slot.ready.catch((error) =>
      this.#log.error({ err: error, worker: `${slot.group.name}-${slot.index}` }, "restart failed"),
    );
  }

  async #retire(slot: Slot): Promise<void> {
    slot.generation++;
    slot.host = undefined;
    const handle = slot.handle;
    slot.handle = undefined;
    slot.closePort?.();
    await handle?.terminate();
  }

  #checkHeartbeats(): void {
    for (const slot of this.#allSlots()) {
      const { host, handle } = slot;
      if (host === undefined || handle === undefined || slot.pinging) continue;
      slot.pinging = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<"hung">((resolve) => {
        timer = setTimeout(() => resolve("hung"), this.limits.hangMs);
      });
      Promise.race([host.ping(), hung]).then(
        (answer) => {
          clearTimeout(timer);
          slot.pinging = false;
          if (answer !== "hung" || slot.handle !== handle) return;
          this.#log.error({ worker: `${slot.group.name}-${slot.index}` }, "worker hung; terminating it");
          handle.terminate();
        },
        () => {
          clearTimeout(timer);
          slot.pinging = false;
        },
      );
    }
  }

  #send(
    kind: string,
    id: ActorId,
    message: unknown,
    deadlineMs: number,
    awaitTurn: boolean,
    fromOutside: boolean,
  ): Promise<Result<unknown>> {
    if (this.#stopping || (fromOutside && this.#intakeClosed)) {
      return Promise.resolve(fail("stopped", "the runtime is stopping"));
    }
    const slots = this.#slots.get(kind);
    const slot = slots?.[workerIndexFor(id, slots.length)];
    if (slot === undefined) return Promise.resolve(fail("unknown_kind", `no worker group hosts "${kind}"`));
    const askId = awaitTurn ? `${this.#nonce}:${++this.#seq}` : undefined;
    const envelope: Envelope = askId === undefined ? { kind, id, message } : { kind, id, message, askId };
    return new Promise((resolve) => {
      const inflight = slot.inflight;
      let done = false;
      const settle: Settle = (result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (askId !== undefined) this.#asks.delete(askId);
        inflight.delete(settle);
        resolve(result);
      };
      const timer = setTimeout(
        () => settle(fail("timeout", `${kind} ${id} did not answer in ${deadlineMs} ms`)),
        deadlineMs,
      );
      if (askId !== undefined) this.#asks.set(askId, settle);
      inflight.add(settle);
      slot.deliver(envelope).then(
        (refusal) => {
          if (refusal !== null) settle({ ok: false, error: refusal });
          else if (!awaitTurn) settle(ok(undefined));
          // An accepted ask is settled by the host's reply or by the store's commit.
        },
        (error) => settle(fail("worker_crashed", error instanceof Error ? error.message : String(error))),
      );
    });
  }

  #settleAcks(acks: readonly CommitAck[]): void {
    for (const ack of acks) this.#asks.get(ack.askId)?.(ok(ack.reply));
  }
}
