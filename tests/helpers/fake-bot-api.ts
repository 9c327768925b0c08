/**
 * A local HTTP server that answers as strictly as the Telegram Bot API, for
 * tests and benchmarks that run the bot in worker threads (where msw cannot
 * reach): the documented limits, its HTML parse mode and the messages it
 * sent (see `telegram/`), plus faults injected for chaos runs.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeBody, type FakeTelegram, type RefusalRecord, sharedTelegram } from "./telegram/mod.ts";

export interface RecordedCall {
  readonly method: string;
  readonly payload: Record<string, unknown>;
}

/** Hooks for benchmarks: when each call arrives and when updates leave in a getUpdates answer. */
export interface FakeBotApiHooks {
  readonly onCall?: (call: RecordedCall) => void;
  readonly onUpdatesSent?: (updates: readonly unknown[]) => void;
  /** Sees every call answered with an injected fault (it is not in `calls` and not given to `onCall`). */
  readonly onFault?: (call: RecordedCall, fault: BotApiFaultKind) => void;
  /**
   * Sees every call Telegram refuses by its rules (400) or by a flood wait
   * asked of `telegram` (429); it is not in `calls` and not given to `onCall`.
   */
  readonly onRefusal?: (call: RecordedCall, refusal: RefusalRecord) => void;
  /** Sees every call that was done but whose answer was lost (`FakeBotApiFaults.refundAnswerLost`). */
  readonly onAnswerLost?: (call: RecordedCall) => void;
  /** The Telegram that answers (its chats, flood waits and refusals); `sharedTelegram` by default. */
  readonly telegram?: FakeTelegram;
}

/** The faults the fake can answer with, as Telegram does. */
export type BotApiFaultKind = "too_many_requests" | "server_error" | "not_editable" | "blocked" | "answer_lost";

/**
 * Faults to inject, for chaos runs; without them the fake answers every call.
 * Shares are probabilities per call (0 to 1). A faulted call did nothing: it
 * is left out of `calls`, counted in `faultCounts` and reported to `onFault`.
 */
export interface FakeBotApiFaults {
  /** Calls answered 429 "Too Many Requests" with `parameters.retry_after`. */
  readonly tooManyRequests?: number;
  /** The `retry_after` of a 429, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
  /** Calls answered 502 "Bad Gateway". */
  readonly serverError?: number;
  /** `editMessageText` calls answered 400 "Bad Request: message can't be edited". */
  readonly notEditable?: number;
  /** `refundStarPayment` calls answered 500 "Internal Server Error" (nothing refunded). */
  readonly refundServerError?: number;
  /**
   * `refundStarPayment` calls done, then their connection reset before the
   * answer: the Stars went back, the bot cannot know. Given to `onAnswerLost`
   * (not to `onCall`) and counted as `answer_lost`.
   */
  readonly refundAnswerLost?: number;
  /** True for chats whose user blocked the bot: every call to them answers 403. */
  readonly blocked?: (chatId: number) => boolean;
  /** Methods never faulted: the bot's start-up calls by default (a failed getMe stops a start). */
  readonly exempt?: readonly string[];
  /** Random numbers in [0, 1), for reproducible runs (default `Math.random`). */
  readonly random?: () => number;
}

const START_UP_METHODS = ["getMe", "setWebhook", "deleteWebhook", "setMyCommands", "getUpdates"];

/** The fault a call gets, if any, and Telegram's answer for it. */
function faultFor(
  faults: FakeBotApiFaults,
  call: RecordedCall,
): { kind: BotApiFaultKind; status: number; body: Record<string, unknown> } | undefined {
  if ((faults.exempt ?? START_UP_METHODS).includes(call.method)) return undefined;
  const random = faults.random ?? Math.random;
  const chatId = Number(call.payload.chat_id);
  if (Number.isFinite(chatId) && faults.blocked?.(chatId)) {
    return {
      kind: "blocked",
      status: 403,
      body: { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" },
    };
  }
  if (call.method === "refundStarPayment" && random() < (faults.refundServerError ?? 0)) {
    return {
      kind: "server_error",
      status: 500,
      body: { ok: false, error_code: 500, description: "Internal Server Error" },
    };
  }
  if (random() < (faults.tooManyRequests ?? 0)) {
    const retryAfter = faults.retryAfterSeconds ?? 1;
    return {
      kind: "too_many_requests",
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${retryAfter}`,
        parameters: { retry_after: retryAfter },
      },
    };
  }
  if (random() < (faults.serverError ?? 0)) {
    return { kind: "server_error", status: 502, body: { ok: false, error_code: 502, description: "Bad Gateway" } };
  }
  if (call.method === "editMessageText" && random() < (faults.notEditable ?? 0)) {
    return {
      kind: "not_editable",
      status: 400,
      body: { ok: false, error_code: 400, description: "Bad Request: message can't be edited" },
    };
  }
  return undefined;
}

export async function startFakeBotApi(hooks: FakeBotApiHooks = {}, faults?: FakeBotApiFaults) {
  const { onCall, onUpdatesSent, onFault, onRefusal, onAnswerLost } = hooks;
  const telegram = hooks.telegram ?? sharedTelegram;
  const calls: RecordedCall[] = [];
  const refusals: RefusalRecord[] = [];
  const faultCounts: Record<BotApiFaultKind, number> = {
    too_many_requests: 0,
    server_error: 0,
    not_editable: 0,
    blocked: 0,
    answer_lost: 0,
  };
  let queue: unknown[] = [];
  let waiting: { res: ServerResponse; timer: ReturnType<typeof setTimeout> } | undefined;
  const reply = (res: ServerResponse, result: unknown) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ok: true, result }));
  };
  const flushUpdates = () => {
    if (waiting === undefined || queue.length === 0) return;
    clearTimeout(waiting.timer);
    reply(waiting.res, queue);
    onUpdatesSent?.(queue);
    queue = [];
    waiting = undefined;
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const method = req.url?.split("?")[0]?.split("/").pop() ?? "";
      const { payload } = decodeBody(req.headers["content-type"], Buffer.concat(chunks));
      if (method === "getMe") {
        return reply(res, {
          id: 1,
          is_bot: true,
          first_name: "Test",
          username: "test_bot",
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      }
      if (method === "getUpdates") {
        calls.push({ method, payload });
        const offset = Number(payload.offset ?? 0);
        queue = queue.filter((update) => (update as { update_id: number }).update_id >= offset);
        waiting = {
          res,
          timer: setTimeout(() => {
            waiting = undefined;
            reply(res, []);
          }, 200),
        };
        return flushUpdates();
      }
      const fault = faults === undefined ? undefined : faultFor(faults, { method, payload });
      if (fault !== undefined) {
        faultCounts[fault.kind]++;
        onFault?.({ method, payload }, fault.kind);
        res.writeHead(fault.status, { "content-type": "application/json" });
        res.end(JSON.stringify(fault.body));
        return;
      }
      const answer = telegram.answer(method, payload);
      if (answer.refusal !== undefined) {
        refusals.push(answer.refusal);
        onRefusal?.({ method, payload }, answer.refusal);
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
        return;
      }
      calls.push({ method, payload });
      if (
        method === "refundStarPayment" &&
        faults !== undefined &&
        (faults.random ?? Math.random)() < (faults.refundAnswerLost ?? 0)
      ) {
        faultCounts.answer_lost++;
        onAnswerLost?.({ method, payload });
        req.socket.destroy();
        return;
      }
      onCall?.({ method, payload });
      reply(res, answer.body.result);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    /** Faults injected so far, by kind (all zero without `faults`). */
    faultCounts,
    /** Calls this server answered with Telegram's refusal (400 by the rules, 429 by a flood wait), oldest first. */
    refusals,
    /** The Telegram it answers for: its chats (`pressedMessage`, `messages`) and `floodWait`. */
    telegram,
    /** Makes the next getUpdates answer with these updates. */
    push(...updates: unknown[]) {
      queue.push(...updates);
      flushUpdates();
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (waiting) clearTimeout(waiting.timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
