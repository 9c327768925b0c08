/**
 * Coalescing of calls across a thread boundary: items submitted in the same
 * microtask turn travel as one message. Every message between threads costs
 * a structured clone and an event on both sides; batching turns the runtime's
 * per-message cost into a per-batch one, the way the store's group commit
 * does for KV writes.
 */

/**
 * Wraps `send` (one call for many items, answering one result per item, in
 * order) into a function for one item at a time.
 *
 * @example
 * ```ts
 * const load = batched((keys: KvKey[]) => services.loadMany(keys));
 * const [a, b] = await Promise.all([load(["user", 1]), load(["user", 2])]); // one loadMany call
 * ```
 */
export function batched<T, R>(send: (items: T[]) => Promise<readonly R[]>, maxBatch = 1_000): (item: T) => Promise<R> {
  let items: T[] = [];
  let waiters: { resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  const flush = () => {
    if (items.length === 0) return;
    const batch = items;
    const pending = waiters;
    items = [];
    waiters = [];
    send(batch).then(
      (results) => {
        for (let i = 0; i < pending.length; i++) pending[i]?.resolve(results[i] as R);
      },
      (error) => {
        for (const waiter of pending) waiter.reject(error);
      },
    );
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      items.push(item);
      waiters.push({ resolve, reject });
      if (items.length === 1) queueMicrotask(flush);
      else if (items.length >= maxBatch) flush();
    });
}
