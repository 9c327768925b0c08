/** The Bot API client every thread builds the same way. */
import { autoRetry } from "@grammyjs/auto-retry";
import { Api, HttpError, type Transformer } from "grammy/web";
import type { Log } from "../../actors/behavior.ts";
import { outgoingGuard } from "./outgoing.ts";
import { rateLimiter } from "./rate-limit.ts";

/** What a thread needs to call the Bot API; plain data so it can be posted to workers. */
export interface TelegramSettings {
  readonly botToken: string;
  readonly apiRoot: string;
  /**
   * Messages per second this thread may send overall (its share of
   * Telegram's ~30/s for a bot). Absent: no throttling (a dry run).
   */
  readonly messagesPerSecond?: number;
  /** Messages per second to one chat (Telegram's ~1/s, after a short burst). */
  readonly chatMessagesPerSecond?: number;
  /** Retries of a call that failed with 429, 5xx or a network error (default 3). */
  readonly retries?: number;
}

/**
 * A grammY `Api` for the configured server. `fetch` is the platform's (web
 * standard) one, passed in so tests can intercept it. The `grammy/web` build
 * is used on both runtimes: the Node build's AbortSignal polyfill is not
 * accepted by Deno's fetch.
 *
 * Calls are spaced under Telegram's limits (overall, and 20 a minute per
 * group; about one a second per chat; see `rate-limit.ts`) and retried on 429 (honouring `retry_after`),
 * on 5xx and on network errors, a few times at most. Every call first
 * passes `outgoingGuard` (`outgoing.ts`): what would break Telegram's
 * length or encoding rules is shortened, with a warning on `log`.
 */
export function createTelegramApi(settings: TelegramSettings, fetchImpl: typeof fetch = fetch, log?: Log): Api {
  const api = new Api(settings.botToken, {
    apiRoot: settings.apiRoot,
    // grammY's typings name node-fetch's types; the web build calls this with web ones.
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => fetchImpl(input, init)) as never,
    timeoutSeconds: 60,
  });
  api.config.use(outgoingGuard(log));
  const rate = settings.messagesPerSecond;
  if (rate !== undefined) {
    api.config.use(
      rateLimiter({ perSecond: Math.max(1, Math.floor(rate)), chatPerSecond: settings.chatMessagesPerSecond }),
    );
    api.config.use(autoRetry({ maxRetryAttempts: settings.retries ?? 3, maxDelaySeconds: 30 }));
    api.config.use(retryNetworkErrors(settings.retries ?? 3));
  }
  return api;
}

/** Waits before the next try of a call that met a network error: 0.5 s, 1 s, 2 s… (a pre-checkout has 10 s). */
const NETWORK_RETRY_MS = 500;

/**
 * Retries a call that met a network error (grammY's `HttpError`) a few
 * times. auto-retry means to, but it knows only the `HttpError` of grammY's
 * Node build, not this web build's, so without this a dropped connection
 * failed the call at once (the crash suite found pre-checkouts left
 * unanswered that way).
 */
function retryNetworkErrors(retries: number): Transformer {
  return async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await prev(method, payload, signal);
      } catch (error) {
        if (!(error instanceof HttpError) || attempt >= retries || signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, NETWORK_RETRY_MS * 2 ** attempt));
      }
    }
  };
}
