/**
 * Per-key FIFO queues as promise tails (after grammY runner's
 * `sequentialize`): tasks of one key run one at a time in arrival order,
 * tasks of different keys run concurrently. Both each key's queue and the
 * total are bounded, so overload is answered instead of growing memory.
 */

interface Box {
  tail: Promise<void>;
  pending: number;
}

const noop = () => {};

/** A set of bounded per-key mailboxes. */
export class Mailboxes {
  readonly #boxes = new Map<string, Box>();
  #total = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(
    readonly perKeyBound: number,
    readonly totalBound: number,
  ) {}

  /**
   * Queues `task` behind the key's earlier tasks. Returns `undefined`
   * without queueing when the key's mailbox (`perKey` tasks) or the total is
   * full; `Infinity` queues in any case (the outcome of work already done,
   * which must not be lost).
   */
  enqueue<T>(key: string, task: () => Promise<T>, perKey = this.perKeyBound): Promise<T> | undefined {
    let box = this.#boxes.get(key);
    if (box === undefined) {
      box = { tail: Promise.resolve(), pending: 0 };
      this.#boxes.set(key, box);
    }
    if (perKey !== Number.POSITIVE_INFINITY && (box.pending >= perKey || this.#total >= this.totalBound)) {
      return undefined;
    }
    box.pending++;
    this.#total++;
    const run = box.tail.then(task);
    const current = box;
    current.tail = run.then(noop, noop).then(() => {
      current.pending--;
      this.#total--;
      if (current.pending === 0 && this.#boxes.get(key) === current) this.#boxes.delete(key);
      if (this.#total === 0) this.#wakeIdle();
    });
    return run;
  }

  /** Tasks queued or running for `key`. */
  depth(key: string): number {
    return this.#boxes.get(key)?.pending ?? 0;
  }

  /** Tasks queued or running in all mailboxes. */
  get total(): number {
    return this.#total;
  }

  /** Resolves when no task is queued or running. */
  idle(): Promise<void> {
    if (this.#total === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
