/**
 * A circuit breaker: after `threshold` consecutive failures, calls fail at
 * once for `openMs`; then one trial call decides whether it closes again.
 * While KIE is down, users get an answer in milliseconds instead of waiting
 * for timeouts, and KIE is not hammered.
 */
export interface CircuitOptions {
  readonly threshold: number;
  readonly openMs: number;
  readonly now: () => number;
}

export class CircuitBreaker {
  #failures = 0;
  #openUntil = 0;
  #trial = false;

  constructor(readonly options: CircuitOptions) {}

  /** True when a call may go out now (in half-open state, only one trial at a time). */
  allow(): boolean {
    if (this.#failures < this.options.threshold) return true;
    if (this.options.now() < this.#openUntil || this.#trial) return false;
    this.#trial = true;
    return true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#trial = false;
  }

  failed(): void {
    this.#failures++;
    this.#trial = false;
    if (this.#failures >= this.options.threshold) this.#openUntil = this.options.now() + this.options.openMs;
  }

  get state(): "closed" | "open" | "half-open" {
    if (this.#failures < this.options.threshold) return "closed";
    return this.options.now() < this.#openUntil ? "open" : "half-open";
  }
}
