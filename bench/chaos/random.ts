/**
 * Seeded random numbers for the chaos run: kill moments, faults and user
 * choices all come from one seed (`CHAOS_SEED`), so a failing run can be
 * looked at again with the same choices. Timing still differs between runs
 * (the bot's threads and the machine decide what is in flight at a kill).
 */

/** mulberry32: small, fast and good enough for choosing faults (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Helpers over one source of random numbers. */
export class Dice {
  constructor(readonly next: () => number) {}

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A number in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** A whole number in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of `items` (not empty). */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.below(256));
  }
}
