/** The Bot API client every thread builds the same way. */
import { Api } from "grammy/web";

/** What a thread needs to call the Bot API; plain data so it can be posted to workers. */
export interface TelegramSettings {
  readonly botToken: string;
  readonly apiRoot: string;
}

/**
 * A grammY `Api` for the configured server. `fetch` is the platform's (web
 * standard) one, passed in so tests can intercept it. The `grammy/web` build
 * is used on both runtimes: the Node build's AbortSignal polyfill is not
 * accepted by Deno's fetch.
 */
export function createTelegramApi(settings: TelegramSettings, fetchImpl: typeof fetch = fetch): Api {
  return new Api(settings.botToken, {
    apiRoot: settings.apiRoot,
    // grammY's typings name node-fetch's types; the web build calls this with web ones.
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => fetchImpl(input, init)) as never,
    timeoutSeconds: 60,
  });
}
