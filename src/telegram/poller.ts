/**
 * Long polling: fetches updates and hands each to the router. The offset
 * that confirms a batch to Telegram is sent only after every update of the
 * batch was accepted by its actor's mailbox; a full mailbox or a restarting
 * worker makes the poller wait and retry, never drop.
 */
import { type Api, GrammyError, HttpError } from "grammy/web";
import type { Log } from "../../actors/mod.ts";
import type { RouteOutcome } from "./router.ts";

/** Options of the poller. */
export interface PollerOptions {
  readonly allowedUpdates: readonly string[];
  /**
   * Called after a batch was handed over and before the next getUpdates
   * (whose offset confirms the batch to Telegram): waits until the batch is
   * durable; false stops polling (this instance lost the polling lease).
   */
  readonly settle?: () => Promise<boolean>;
  readonly timeoutSeconds?: number;
  readonly limit?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** A running long-polling loop. */
export class LongPoller {
  readonly #controller = new AbortController();
  #offset = 0;
  #loop: Promise<void> | undefined;

  constructor(
    readonly api: Api,
    readonly route: (update: unknown) => Promise<RouteOutcome>,
    readonly log: Log,
    readonly options: PollerOptions,
  ) {}

  /** Starts polling; the returned promise settles when polling stops. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#loop;
  }

  /** Stops polling (an open getUpdates request is aborted) and waits for the loop. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    let backoff = 0;
    while (!signal.aborted) {
      let updates: { update_id: number }[];
      try {
        updates = await this.api.getUpdates(
          {
            offset: this.#offset,
            timeout: this.options.timeoutSeconds ?? 30,
            limit: this.options.limit ?? 100,
            allowed_updates: this.options.allowedUpdates as never,
          },
          signal as never, // typed with node's polyfill; the web build takes the web AbortSignal
        );
        backoff = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof GrammyError && error.error_code === 401) {
          this.log.error({ err: error }, "the bot token was rejected; polling stops");
          throw error;
        }
        backoff = Math.min(Math.max(backoff * 2, 500), 30_000);
        const conflict = error instanceof GrammyError && error.error_code === 409;
        this.log.warn(
          { err: error, retryInMs: backoff, network: error instanceof HttpError },
          conflict ? "another instance is polling this bot token" : "getUpdates failed",
        );
        await sleep(backoff, signal);
        continue;
      }
      for (const update of updates) {
        await this.#deliver(update, signal);
        if (signal.aborted) return;
        this.#offset = update.update_id + 1;
      }
      if (updates.length > 0 && this.options.settle && !(await this.options.settle())) {
        this.log.warn({}, "polling stops: the batch could not be recorded under this instance's lease");
        return;
      }
    }
  }

  async #deliver(update: { update_id: number }, signal: AbortSignal): Promise<void> {
    let delay = 50;
    while (!signal.aborted) {
      const outcome = await this.route(update);
      if (outcome !== "retry") return;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
