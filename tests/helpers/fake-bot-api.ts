/**
 * A local HTTP server that answers like the Telegram Bot API, for tests and
 * benchmarks that run the bot in worker threads (where msw cannot reach).
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  readonly method: string;
  readonly payload: Record<string, unknown>;
}

/** Hooks for benchmarks: when each call arrives and when updates leave in a getUpdates answer. */
export interface FakeBotApiHooks {
  readonly onCall?: (call: RecordedCall) => void;
  readonly onUpdatesSent?: (updates: readonly unknown[]) => void;
}

export async function startFakeBotApi(hooks: FakeBotApiHooks = {}) {
  const { onCall, onUpdatesSent } = hooks;
  const calls: RecordedCall[] = [];
  let queue: unknown[] = [];
  let waiting: { res: ServerResponse; timer: ReturnType<typeof setTimeout> } | undefined;
  let messageId = 1;
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
      const method = req.url?.split("/").pop() ?? "";
      const text = Buffer.concat(chunks).toString("utf8");
      const payload = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
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
      calls.push({ method, payload });
      onCall?.({ method, payload });
      reply(res, {
        message_id: messageId++,
        date: 1_790_000_000,
        chat: { id: payload.chat_id, type: "private" },
        text: payload.text,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
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
