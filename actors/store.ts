/**
 * The store actor: the one owner of the process's KV connection.
 *
 * Deno KV's SQLite backend answers `database is locked` when several
 * connections of one process write the same file, so every host sends its
 * reads and commits here. Commits that arrive while one is being written are
 * grouped into one atomic operation (group commit): one KV commit costs about
 * as much as a batch of a hundred. Each actor's save still carries its own
 * versionstamp check, so fencing holds for every actor in a batch.
 */
import type { KvAtomic, KvKey, KvLimits, KvStore } from "../src/platform/types.ts";
import type { KvWrite, Log } from "./behavior.ts";

/** An actor's stored state and the versionstamp that fences its next save. */
export interface StoredState {
  readonly value: unknown;
  readonly versionstamp: string | null;
}

/** Which page of a prefix to read. */
export interface ScanOptions {
  /** Entries after this key (exclusive); from the start when absent. */
  readonly after?: KvKey;
  readonly limit: number;
}

/** A page of entries; `next` is the `after` of the next page, absent at the end. */
export interface ScanPage {
  readonly entries: readonly { readonly key: KvKey; readonly value: unknown }[];
  readonly next?: KvKey;
}

/** A reply to settle as soon as the commit that produced it is durable. */
export interface CommitAck {
  readonly askId: string;
  readonly reply: unknown;
}

/** One actor's save: state under `key` if it is still at `expected`, plus extra writes. */
export interface CommitRequest {
  readonly key: KvKey;
  readonly expected: string | null;
  readonly value: unknown;
  readonly writes?: readonly KvWrite[];
  readonly ack?: CommitAck;
}

/** The answer to a save. */
export type CommitOutcome =
  | { readonly ok: true; readonly versionstamp: string }
  | { readonly ok: false; readonly reason: "conflict" }
  | { readonly ok: false; readonly reason: "failed"; readonly message: string };

/** Tuning of the store. */
export interface StoreOptions {
  readonly log: Log;
  /** Called with the acks of every durable commit (the supervisor settles asks with them). */
  readonly onCommitted?: (acks: readonly CommitAck[]) => void;
  /** Limits of one atomic operation of this KV client; each save uses one check. */
  readonly limits: KvLimits;
  /** Most saves in one atomic operation (further capped by `limits.maxChecks`). */
  readonly maxBatch?: number;
  /** How long `database is locked` is retried before the operation fails. */
  readonly lockedRetryMs?: number;
}

interface Queued {
  readonly request: CommitRequest;
  readonly resolve: (outcome: CommitOutcome) => void;
}

/** Counters for benchmarks and metrics. */
export interface StoreStats {
  commits: number;
  batches: number;
  conflicts: number;
  lockedRetries: number;
  /** Milliseconds spent waiting for KV commits (how busy the one connection is). */
  commitMs: number;
}

/** True for SQLite's "another connection holds the lock" errors. */
export function isLockedError(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /database is locked|SQLITE_BUSY|database table is locked/i.test(text);
}

/**
 * True for KV refusing a write for what it holds: a value over 64 KiB, a key
 * over 2 KiB, an operation over 800 KiB or too many checks or mutations, or a
 * value that cannot be serialized (nested too deep, a function). Deno says it
 * in sentences ("Value too large (max 65536 bytes)"), `@deno/kv` on Node in
 * names ("ValueTooLong", "AtomicWriteTooLarge"). The same write fails again;
 * a smaller batch without the item at fault does not.
 */
export function isRefusedWriteError(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return (
    error instanceof RangeError ||
    /too large|too long|toolong|toolarge|too many|toomany|could not be cloned|DataCloneError|call stack/i.test(text)
  );
}

/** The store actor over one KV connection. */
export class Store {
  readonly stats: StoreStats = { commits: 0, batches: 0, conflicts: 0, lockedRetries: 0, commitMs: 0 };
  readonly #kv: KvStore;
  readonly #log: Log;
  readonly #onCommitted: (acks: readonly CommitAck[]) => void;
  readonly #maxBatch: number;
  readonly #maxMutations: number;
  readonly #lockedRetryMs: number;
  #queue: Queued[] = [];
  readonly #latencies = new Float64Array(2048);
  #latencyCount = 0;
  #flushing: Promise<void> | undefined;

  constructor(kv: KvStore, options: StoreOptions) {
    this.#kv = kv;
    this.#log = options.log;
    this.#onCommitted = options.onCommitted ?? (() => {});
    this.#maxBatch = Math.min(options.maxBatch ?? 100, options.limits.maxChecks);
    this.#maxMutations = options.limits.maxMutations;
    this.#lockedRetryMs = options.lockedRetryMs ?? 10_000;
  }

  /** The KV connection, for modules that read or write outside actor state. */
  get kv(): KvStore {
    return this.#kv;
  }

  async load(key: KvKey): Promise<StoredState> {
    const entry = await this.#retryLocked(() => this.#kv.get(key));
    return { value: entry.value, versionstamp: entry.versionstamp };
  }

  /** Loads several actors' states, in chunks of Deno KV's `getMany` limit (10 keys). */
  async loadMany(keys: readonly KvKey[]): Promise<StoredState[]> {
    const out: StoredState[] = [];
    for (let i = 0; i < keys.length; i += 10) {
      const chunk = keys.slice(i, i + 10);
      const entries = await this.#retryLocked(() => this.#kv.getMany(chunk));
      for (const entry of entries) out.push({ value: entry.value, versionstamp: entry.versionstamp });
    }
    return out;
  }

  /** A page of the entries under `prefix` (at most 1,000), in key order. */
  async scan(prefix: KvKey, options: ScanOptions): Promise<ScanPage> {
    const limit = Math.max(1, Math.min(1_000, options.limit));
    const selector = options.after === undefined ? { prefix } : { prefix, start: options.after };
    const entries: { key: KvKey; value: unknown }[] = [];
    // One more than a page tells whether another follows; `after` itself comes first when it still exists.
    const fetch = limit + 1 + (options.after === undefined ? 0 : 1);
    for await (const entry of this.#kv.list(selector, { limit: fetch })) {
      if (options.after !== undefined && entries.length === 0 && sameKey(entry.key, options.after)) continue;
      if (entries.length === limit) return { entries, next: entries[entries.length - 1]?.key };
      entries.push({ key: entry.key, value: entry.value });
    }
    return { entries };
  }

  /** Saves several actors' states; saves share atomic commits where limits allow. */
  commitMany(requests: readonly CommitRequest[]): Promise<CommitOutcome[]> {
    return Promise.all(requests.map((request) => this.commit(request)));
  }

  commit(request: CommitRequest): Promise<CommitOutcome> {
    return new Promise((resolve) => {
      this.#queue.push({ request, resolve });
      // Flush after this microtask turn so saves posted together share a commit.
      if (this.#flushing === undefined) this.#flushing = Promise.resolve().then(() => this.#flush());
    });
  }

  /** p50/p99/max of the last 2048 atomic commits, in milliseconds (benchmarks and metrics). */
  latency(): { p50: number; p99: number; max: number; samples: number } {
    const samples = Array.from(this.#latencies.subarray(0, Math.min(this.#latencyCount, this.#latencies.length))).sort(
      (a, b) => a - b,
    );
    const at = (p: number) =>
      Math.round((samples[Math.min(samples.length - 1, Math.floor((samples.length * p) / 100))] ?? 0) * 1000) / 1000;
    return { p50: at(50), p99: at(99), max: at(100), samples: samples.length };
  }

  /** Waits for queued commits to be written. */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#commitBatch(this.#takeBatch());
    } finally {
      this.#flushing = undefined;
    }
  }

  #takeBatch(): Queued[] {
    let mutations = 0;
    let count = 0;
    for (const { request } of this.#queue) {
      const size = 1 + (request.writes?.length ?? 0);
      if (count > 0 && (count >= this.#maxBatch || mutations + size > this.#maxMutations)) break;
      mutations += size;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #commitBatch(batch: Queued[]): Promise<void> {
    let outcome: Awaited<ReturnType<KvAtomic["commit"]>>;
    const started = performance.now();
    try {
      outcome = await this.#retryLocked(() => atomicFor(this.#kv, batch).commit());
      this.stats.commitMs += performance.now() - started;
      this.#latencies[this.#latencyCount++ % this.#latencies.length] = performance.now() - started;
    } catch (error) {
      // One save KV refuses (say a state over 64 KiB) fails alone: the others are committed without it.
      if (batch.length > 1) return this.#commitEach(batch);
      const message = error instanceof Error ? error.message : String(error);
      this.#log.error({ err: error, key: batch[0]?.request.key }, "KV commit failed");
      batch[0]?.resolve({ ok: false, reason: "failed", message });
      return;
    }
    if (!outcome.ok) {
      // Some save in the batch lost its check; find which by committing each alone.
      if (batch.length > 1) return this.#commitEach(batch);
      this.stats.conflicts++;
      batch[0]?.resolve({ ok: false, reason: "conflict" });
      return;
    }
    this.stats.batches++;
    this.stats.commits += batch.length;
    const acks: CommitAck[] = [];
    for (const { request } of batch) if (request.ack) acks.push(request.ack);
    if (acks.length > 0) this.#onCommitted(acks);
    for (const queued of batch) queued.resolve({ ok: true, versionstamp: outcome.versionstamp });
  }

  async #commitEach(batch: Queued[]): Promise<void> {
    await Promise.all(batch.map((queued) => this.#commitBatch([queued])));
  }

  async #retryLocked<T>(operation: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#lockedRetryMs;
    let delay = 1;
    for (;;) {
      try {
        return await operation();
      } catch (error) {
        if (!isLockedError(error) || Date.now() + delay > deadline) throw error;
        this.stats.lockedRetries++;
        await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
        delay = Math.min(delay * 2, 50);
      }
    }
  }
}

function sameKey(a: KvKey, b: KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

function atomicFor(kv: KvStore, batch: readonly Queued[]): KvAtomic {
  const op = kv.atomic();
  for (const { request } of batch) {
    op.check({ key: request.key, versionstamp: request.expected }).set(request.key, request.value);
    for (const write of request.writes ?? []) {
      switch (write.op) {
        case "set":
          op.set(write.key, write.value, write.expireIn === undefined ? undefined : { expireIn: write.expireIn });
          break;
        case "delete":
          op.delete(write.key);
          break;
        case "enqueue":
          op.enqueue(write.value, write.delay === undefined ? undefined : { delay: write.delay });
          break;
      }
    }
  }
  return op;
}
