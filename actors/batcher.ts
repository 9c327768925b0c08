/**
 * Coalescing of calls across a thread boundary: items submitted in the same
 * microtask turn travel as one message. Every message between threads costs
 * a structured clone and an event on both sides; batching turns the runtime's
 * per-message cost into a per-batch one, the way the store's group commit
 * does for KV writes.
 */

/**
 * True for an error of structured cloning (a value nested too deep, or one
 * that cannot be cloned): `postMessage` throws it before anything is sent,
 * so the items of the batch can be sent again without the one at fault.
 */
export function isCloneError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return error instanceof RangeError || name === "DataCloneError";
}

/**
 * Wraps `send` (one call for many items, answering one result per item, in
 * order) into a function for one item at a time. A batch that cannot be
 * sent because one item cannot be cloned is sent again item by item, so
 * only that item fails: one actor's unclonable state never fails the saves
 * of the actors whose turns ended in the same microtask turn.
 *
 * @example
 * ```ts
 * const load = batched((keys: KvKey[]) => services.loadMany(keys));
 * const [a, b] = await Promise.all([load(["user", 1]), load(["user", 2])]); // one loadMany call
 * ```
 */
export function batched<T, R>(send: (items: T[]) => Promise<readonly R[]>, maxBatch = 1_000): (item: T) => Promise<R> {
  type Waiter = { resolve: (result: R) => void; reject: (error: unknown) => void };
  let items: T[] = [];
  let waiters: Waiter[] = [];
  const dispatch = (batch: T[], pending: Waiter[]) => {
    let sent: Promise<readonly R[]>;
    try {
      sent = send(batch);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (results) => {
        for (let i = 0; i < pending.length; i++) pending[i]?.resolve(results[i] as R);
      },
      (error) => {
        if (batch.length > 1 && isCloneError(error)) {
          for (let i = 0; i < batch.length; i++) dispatch([batch[i] as T], [pending[i] as Waiter]);
          return;
        }
        for (const waiter of pending) waiter.reject(error);
      },
    );
  };
  const flush = () => {
    if (items.length === 0) return;
    const batch = items;
    const pending = waiters;
    items = [];
    waiters = [];
    dispatch(batch, pending);
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      items.push(item);
      waiters.push({ resolve, reject });
      if (items.length === 1) queueMicrotask(flush);
      else if (items.length >= maxBatch) flush();
    });
}
