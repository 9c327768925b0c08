/**
 * Keeps outgoing Bot API calls under Telegram's limits: about 30 messages a
 * second for the bot, about one a second per chat (short bursts pass) and
 * 20 a minute per group. A token bucket per limit:
 * a call waits only when its bucket is empty, so under the limits it costs
 * nothing (a general-purpose scheduler cost milliseconds per call, measured
 * in `npm run bench:bot`). A 429 that still happens is left to auto-retry.
 */
import type { Transformer } from "grammy/web";

/** A token bucket: `burst` tokens, refilled at `perMs` tokens a millisecond. */
class Bucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly burst: number,
    readonly perMs: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes a token; returns how long the caller must wait for it (0 when one was there). */
  take(now: number): number {
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#at) * this.perMs);
    this.#at = now;
    this.#tokens -= 1;
    // A negative balance queues callers behind each other, each waiting for its own token.
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.perMs;
  }

  /** True when the bucket is full again (it can be forgotten). */
  idle(now: number): boolean {
    return this.#tokens + (now - this.#at) * this.perMs >= this.burst;
  }
}

/** Options of the limiter; `now` and `sleep` are for tests. */
export interface RateLimitOptions {
  readonly perSecond: number;
  /** Messages a second to one private chat (default 1), after a burst of `chatBurst` (default 5). */
  readonly chatPerSecond?: number;
  readonly chatBurst?: number;
  readonly groupPerMinute?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A grammY API transformer that spaces calls to chats under the limits. */
export function rateLimiter(options: RateLimitOptions): Transformer {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const overall = new Bucket(options.perSecond, options.perSecond / 1000, now());
  const groupPerMinute = options.groupPerMinute ?? 20;
  const chatPerSecond = options.chatPerSecond ?? 1;
  const chatBurst = Math.max(options.chatBurst ?? 5, chatPerSecond);
  // Buckets of chats (private chats and groups alike), forgotten once full again.
  const chats = new Map<number, Bucket>();
  const chatBucket = (chatId: number, at: number) => {
    let bucket = chats.get(chatId);
    if (bucket === undefined) {
      bucket =
        chatId < 0
          ? new Bucket(groupPerMinute, groupPerMinute / 60_000, at)
          : new Bucket(chatBurst, chatPerSecond / 1000, at);
      chats.set(chatId, bucket);
    }
    return bucket;
  };
  return async (prev, method, payload, signal) => {
    const chatId = payload && typeof payload === "object" && "chat_id" in payload ? Number(payload.chat_id) : undefined;
    // A chat action is no message: it counts toward no limit.
    if (chatId !== undefined && Number.isFinite(chatId) && method !== "sendChatAction") {
      const at = now();
      const wait = Math.max(overall.take(at), chatBucket(chatId, at).take(at));
      if (chats.size > 10_000) for (const [id, bucket] of chats) if (bucket.idle(at)) chats.delete(id);
      if (wait > 0) await sleep(wait);
    }
    return prev(method, payload, signal);
  };
}
