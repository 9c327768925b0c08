/**
 * Counters a worker keeps for the main thread's `/metrics`: plain numbers
 * by name and labels, read with the host's stats (a scrape asks every
 * worker), so a worker needs no registry of its own and a restarted worker
 * starts again from zero, as a Prometheus counter may.
 */

/** One counter's value, as posted between threads. */
export interface CounterSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A host's counters; apps count through `HostAppContext.counters`. */
export class Counters {
  readonly #samples = new Map<string, CounterSample>();

  /** Adds `by` to the counter `name` with `labels`. */
  inc(name: string, labels: Readonly<Record<string, string>> = {}, by = 1): void {
    const key = `${name}${JSON.stringify(labels)}`;
    this.#samples.set(key, { name, labels, value: (this.#samples.get(key)?.value ?? 0) + by });
  }

  /** Every counter now. */
  snapshot(): CounterSample[] {
    return [...this.#samples.values()];
  }
}
