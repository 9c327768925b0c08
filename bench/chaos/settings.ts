/**
 * What one chaos run does: how many users, kill cycles, how long the bot
 * lives between kills and how often each fault is injected. `--short` is the
 * CI version (3 cycles, fewer users, under a minute on two cores); the full
 * run is `npm run chaos`. `CHAOS_CYCLES` / `--cycles N`, `CHAOS_USERS` /
 * `--users N` and `CHAOS_SEED` / `--seed N` override the defaults.
 */

export interface ChaosSettings {
  readonly short: boolean;
  readonly seed: number;
  /** Simulated Telegram users driving the bot at once. */
  readonly users: number;
  /** Admin accounts crediting users with `/credit` (each is flood-limited like any user). */
  readonly admins: number;
  /** SIGKILL cycles: the bot is killed and restarted on the same KV this many times. */
  readonly cycles: number;
  /** How long a (re)started bot runs before its SIGKILL: a random time in this range, ms after "ready". */
  readonly upMs: readonly [number, number];
  readonly shards: number;
  /** How long a fake KIE task generates. */
  readonly generationMs: number;
  /** After the last cycle: how long the bot may take to finish every open job and credit. */
  readonly drainDeadlineMs: number;
  readonly faults: {
    /** Bot API: shares of calls answered 429 (retry_after 1 s), 502, and editMessageText answered 400. */
    readonly telegram: { readonly tooManyRequests: number; readonly serverError: number; readonly notEditable: number };
    /** Share of confirmed generations whose user blocks the bot until the result is due (403 meanwhile). */
    readonly blockAfterConfirm: number;
    /** KIE: shares of creates and status reads that hang, answer 500, 429 or broken JSON; tasks with no URLs. */
    readonly kie: {
      readonly timeout: number;
      readonly serverError: number;
      readonly rateLimited: number;
      readonly malformedJson: number;
      readonly emptyResult: number;
      /**
       * Share of tasks (decided at creation) whose success is large: a
       * 40,000-character text, 2,000 URLs, a 1 GiB file or a slow drip.
       */
      readonly largeResult: number;
    };
    /** KIE callbacks: shares sent twice and sent early (batches are always shuffled). */
    readonly callbacks: { readonly duplicate: number; readonly early: number };
    /** Share of updates Telegram delivers again after a 200 (its answer got lost). */
    readonly redeliverAfterOk: number;
  };
}

function flag(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

function whole(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${what}: a whole number, got ${text}`);
  return value;
}

/** The run's settings from the command line and the environment. */
export function chaosSettings(args: readonly string[], env: NodeJS.ProcessEnv): ChaosSettings {
  const short = args.includes("--short");
  const cycles = whole(flag(args, "--cycles") ?? env.CHAOS_CYCLES, short ? 3 : 20, "CHAOS_CYCLES");
  const users = whole(flag(args, "--users") ?? env.CHAOS_USERS, short ? 40 : 200, "CHAOS_USERS");
  const seed = whole(flag(args, "--seed") ?? env.CHAOS_SEED, Date.now() % 1_000_000, "CHAOS_SEED");
  return {
    short,
    seed,
    users,
    admins: short ? 3 : 8,
    cycles,
    upMs: short ? [2_500, 4_500] : [3_000, 7_000],
    shards: 2,
    generationMs: 1_500,
    drainDeadlineMs: short ? 50_000 : 120_000,
    faults: {
      telegram: { tooManyRequests: 0.03, serverError: 0.02, notEditable: 0.05 },
      blockAfterConfirm: 0.05,
      kie: {
        // A hanging request costs the bot its 20 s KIE timeout: rare, or the short run would wait on it.
        timeout: short ? 0.01 : 0.015,
        serverError: 0.03,
        rateLimited: 0.03,
        malformedJson: 0.02,
        emptyResult: 0.04,
        largeResult: 0.06,
      },
      callbacks: { duplicate: 0.3, early: 0.15 },
      redeliverAfterOk: 0.03,
    },
  };
}
