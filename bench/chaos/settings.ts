/**
 * What one chaos run does: how many users, kill cycles, how long the bot
 * lives between kills and how often each fault is injected. `--short` is the
 * CI version (3 cycles, fewer users, under a minute on two cores); the full
 * run is `npm run chaos`. `CHAOS_CYCLES` / `--cycles N`, `CHAOS_USERS` /
 * `--users N` and `CHAOS_SEED` / `--seed N` override the defaults;
 * `CHAOS_LOG_FILE` names a file that gets every log line of the bot.
 */

export interface ChaosSettings {
  readonly short: boolean;
  readonly seed: number;
  /** Where every log line of the bot's processes is appended (JSON lines), if anywhere. */
  readonly logFile?: string;
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
  /** Share of cycles during which a second process serves the same KV (started or kept, else killed). */
  readonly secondProcess: number;
  /** Card packages on /topup, in rubles (YOOKASSA_PACKAGES). */
  readonly cardPackagesRubles: readonly number[];
  /** What becomes of a card bill (the rest is never paid): shares paid and canceled, and when. */
  readonly cardFates: { readonly paid: number; readonly canceled: number; readonly afterMs: readonly [number, number] };
  readonly faults: {
    /**
     * Bot API: shares of calls answered 429 (retry_after 1 s), 502, and
     * editMessageText answered 400; Stars refunds answered 500 (not done) or
     * done with the answer lost.
     */
    readonly telegram: {
      readonly tooManyRequests: number;
      readonly serverError: number;
      readonly notEditable: number;
      readonly refundServerError: number;
      readonly refundAnswerLost: number;
    };
    /**
     * YooKassa: shares of API requests that hang past the bot's 15 s timeout
     * (done), are reset (not done), answer 500 or 429; refunds fail more.
     */
    readonly yookassa: {
      readonly timeout: number;
      readonly reset: number;
      readonly serverError: number;
      readonly rateLimited: number;
      readonly refunds: { readonly timeout: number; readonly reset: number; readonly serverError: number };
    };
    /** YooKassa's notifications of settled payments: shares never sent, sent twice and sent late. */
    readonly yookassaNotifications: {
      readonly never: number;
      readonly twice: number;
      readonly late: number;
      readonly lateMs: number;
    };
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
    ...(env.CHAOS_LOG_FILE ? { logFile: env.CHAOS_LOG_FILE } : {}),
    users,
    admins: short ? 3 : 8,
    cycles,
    upMs: short ? [2_500, 4_500] : [3_000, 7_000],
    shards: 2,
    generationMs: 1_500,
    // A card bill whose creation a kill cut off is asked for again a minute later, at a reconciliation (every 30 s).
    drainDeadlineMs: short ? 100_000 : 120_000,
    secondProcess: 0.5,
    cardPackagesRubles: [100, 300],
    cardFates: { paid: 0.55, canceled: 0.15, afterMs: [300, 4_000] },
    faults: {
      telegram: {
        tooManyRequests: 0.03,
        serverError: 0.02,
        notEditable: 0.05,
        refundServerError: 0.15,
        refundAnswerLost: 0.1,
      },
      yookassa: {
        // A hang costs the bot's 15 s YooKassa timeout: rare, like KIE's.
        timeout: 0.01,
        reset: 0.02,
        serverError: 0.03,
        rateLimited: 0.02,
        refunds: { timeout: 0.1, reset: 0.05, serverError: 0.1 },
      },
      yookassaNotifications: { never: 0.15, twice: 0.2, late: 0.15, lateMs: 8_000 },
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
