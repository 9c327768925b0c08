/**
 * Long polling on grammY's runner: its concurrent sink hands updates to
 * their actors with bounded concurrency (and waits when that many are in
 * flight), and its source pulls batches from the supplier below.
 *
 * The supplier differs from the runner's own in when it confirms: the
 * offset that confirms a batch to Telegram goes out with the next
 * getUpdates, and the supplier sends it only once every update of the batch
 * is durable (its user's turn committed and the update recorded under this
 * instance's lease). A crash after fetching therefore loses nothing:
 * Telegram delivers the batch again. A 409 (another poller) or a network
 * error backs off instead of stopping; a rejected token stops polling.
 */
import { createConcurrentSink, createRunner, createSource, type UpdateSupplier } from "@grammyjs/runner";
import { type Api, GrammyError, HttpError } from "grammy/web";
import type { Log } from "../../actors/mod.ts";

/**
 * What became of an update: done (durable, or failed for good), refused
 * because this instance no longer holds the polling lease, or interrupted by
 * a stop. Only a batch that is all done is confirmed to Telegram.
 */
export type PolledOutcome = "done" | "fenced" | "interrupted";

/** Options of `startPolling`. */
export interface PollingOptions {
  readonly allowedUpdates: readonly string[];
  /** Handles one update until it is durable (the sink's unit of work). */
  readonly handle: (update: { readonly update_id: number }) => Promise<PolledOutcome>;
  /** Updates in flight at most; the runner stops fetching while that many are. */
  readonly concurrency?: number;
  readonly timeoutSeconds?: number;
}

/** A running poller. */
export interface Polling {
  /** Stops fetching (an open getUpdates is aborted) and waits for the runner. */
  stop(): Promise<void>;
  /** Settles when polling ends by itself: a rejected token, or this instance was fenced out. */
  readonly ended: Promise<void>;
}

/** Raised by the supplier when a batch was refused under this instance's lease: polling must stop. */
export class PollingFencedError extends Error {
  readonly code = "polling_fenced";
  constructor() {
    super("another instance took the polling lease");
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Resolves with an interruption when `signal` aborts (a stop does not wait for a slow batch). */
const aborted = (signal: AbortSignal) =>
  new Promise<PolledOutcome[]>((resolve) => {
    if (signal.aborted) resolve(["interrupted"]);
    signal.addEventListener("abort", () => resolve(["interrupted"]));
  });

type Update = { readonly update_id: number };

/**
 * The runner's update supplier: confirms the previous batch only when the
 * sink reported all of it durable, then fetches the next one.
 */
function durableSupplier(api: Api, log: Log, options: PollingOptions) {
  const concurrency = options.concurrency ?? 500;
  let offset = 0;
  let batch = new Map<number, Promise<PolledOutcome>>();
  const resolvers = new Map<number, (outcome: PolledOutcome) => void>();
  const supplier: UpdateSupplier<Update> = {
    async supply(batchSize, shimSignal) {
      // The runner's typings name its Node shim; at run time this is the platform's AbortSignal.
      const signal = shimSignal as unknown as AbortSignal;
      const outcomes = await Promise.race([Promise.all(batch.values()), aborted(signal)]);
      if (outcomes.includes("fenced")) throw new PollingFencedError();
      // Stopping: the batch stays unconfirmed, and Telegram delivers what was not done again.
      if (signal.aborted || outcomes.includes("interrupted")) throw new Error("polling stopped");
      for (let backoff = 0; ; ) {
        try {
          const updates = await api.getUpdates(
            {
              offset,
              timeout: options.timeoutSeconds ?? 30,
              // The runner asks for what its sink has room for; the first batch too stays within the bound.
              limit: Math.max(1, Math.min(batchSize, 100, concurrency)),
              allowed_updates: options.allowedUpdates as never,
            },
            signal as never, // typed with node's polyfill; the web build takes the web AbortSignal
          );
          batch = new Map();
          for (const update of updates) {
            batch.set(update.update_id, new Promise((resolve) => resolvers.set(update.update_id, resolve)));
            offset = update.update_id + 1;
          }
          return updates;
        } catch (error) {
          if (signal.aborted) throw error;
          if (error instanceof GrammyError && error.error_code === 401) {
            log.error({ err: error }, "the bot token was rejected; polling stops");
            throw error;
          }
          backoff = Math.min(Math.max(backoff * 2, 500), 30_000);
          const conflict = error instanceof GrammyError && error.error_code === 409;
          log.warn(
            { err: error, retryInMs: backoff, network: error instanceof HttpError },
            conflict ? "another instance is polling this bot token" : "getUpdates failed",
          );
          await sleep(backoff, signal);
          if (signal.aborted) throw error;
        }
      }
    },
  };
  /** Called by the sink: handles the update and reports its outcome to the batch. */
  const consume = async (update: Update) => {
    const outcome = await options.handle(update).catch(() => "interrupted" as const);
    resolvers.get(update.update_id)?.(outcome);
    resolvers.delete(update.update_id);
  };
  return { supplier, consume };
}

/** Starts long polling: updates go to `options.handle` through grammY's runner. */
export function startPolling(api: Api, log: Log, options: PollingOptions): Polling {
  const { supplier, consume } = durableSupplier(api, log, options);
  const sink = createConcurrentSink({ consume }, async (error) => log.error({ err: error }, "update handling failed"), {
    concurrency: options.concurrency ?? 500,
  });
  const runner = createRunner(createSource(supplier), sink);
  runner.start();
  const ended = (runner.task() ?? Promise.resolve()).catch((error: unknown) => {
    if (error instanceof PollingFencedError) log.warn({}, "polling stops: this instance lost the polling lease");
    else if (!(error instanceof GrammyError)) log.error({ err: error }, "polling stopped");
  });
  return {
    ended,
    async stop() {
      await runner.stop();
      await ended;
    },
  };
}
