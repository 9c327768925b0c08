/**
 * KIE accepts at most 20 new tasks per 10 seconds per account and refuses
 * the rest with 429 (not queued). Creating tasks through this sliding
 * window makes a burst of orders wait their turn (the job shows "queued")
 * instead of failing.
 */
export class CreateLimit {
  readonly #starts: number[] = [];
  #tail: Promise<void> = Promise.resolve();

  constructor(
    readonly options: {
      /** Creates allowed per window (this process's share of the account's limit). */
      readonly count: number;
      readonly windowMs: number;
      readonly now: () => number;
      readonly sleep: (ms: number) => Promise<void>;
    },
  ) {}

  /** Resolves when one more create fits in the window; callers are served in order. */
  take(): Promise<void> {
    const turn = this.#tail.then(() => this.#wait());
    this.#tail = turn;
    return turn;
  }

  async #wait(): Promise<void> {
    const { count, windowMs, now, sleep } = this.options;
    for (;;) {
      const current = now();
      while (this.#starts.length > 0 && (this.#starts[0] ?? 0) <= current - windowMs) this.#starts.shift();
      if (this.#starts.length < count) {
        this.#starts.push(current);
        return;
      }
      await sleep((this.#starts[0] ?? current) + windowMs - current);
    }
  }
}
