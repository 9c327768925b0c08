/**
 * A local YooKassa for the chaos suite and process-level tests: a real
 * HTTP server on 127.0.0.1 (reachable from the bot's worker threads and
 * other processes, unlike msw) answering API v3 under `/v3` as strictly as
 * `fake-yookassa-core.ts`. It also plays the people and the network around
 * YooKassa: each payment's fate is decided at its creation (the user pays,
 * cancels, or never comes back), some requests get a fault (500, 429, a
 * hang past the client's timeout after the request was done, a connection
 * reset before it was), and each settled payment is notified to the bot
 * (`POST /yookassa/notification`) once, twice, late or never, again until
 * the bot answers 200, as YooKassa repeats an unacknowledged notification.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  FakeYooKassaCore,
  type FakeYooKassaCoreOptions,
  type FakeYooPayment,
  type YooRequest,
} from "./fake-yookassa-core.ts";

export {
  type FakeYooPayment,
  type FakeYooRefund,
  kopecksOfValue,
  REFUND_EXCEEDS_DESCRIPTION,
  type YooRefusal,
} from "./fake-yookassa-core.ts";

/** What becomes of a payment: paid or canceled `afterMs` after its creation, or left pending. */
export type PaymentFate =
  | { readonly outcome: "paid" | "canceled"; readonly afterMs: number }
  | { readonly outcome: "never" };

/** Shares (0 to 1) of API requests answered with a fault, drawn in this order. */
export interface FakeYooKassaFaults {
  /** The request is done, then held `hangMs` and dropped: the bot cannot know it happened. */
  readonly timeout?: number;
  /** How long a hanging request is held (default 16 s: the bot's YooKassa timeout is 15 s). */
  readonly hangMs?: number;
  /** The connection is reset before the request is read: nothing is done. */
  readonly reset?: number;
  /** HTTP 500 with YooKassa's error body; nothing is done. */
  readonly serverError?: number;
  /** HTTP 429 with YooKassa's error body; nothing is done. */
  readonly rateLimited?: number;
  /** Which requests may be faulted (default: all). */
  readonly applies?: (method: string, path: string) => boolean;
  /** Other shares for `POST /refunds` (default: the same as every request's). */
  readonly refunds?: Omit<FakeYooKassaFaults, "refunds" | "applies" | "random" | "hangMs">;
  /** Random numbers in [0, 1), for reproducible runs (default `Math.random`). */
  readonly random?: () => number;
}

/** Notifications of settled payments to the bot. */
export interface FakeYooKassaNotifications {
  /** The bot's notification URL now; undefined while it is down (YooKassa tries again later). */
  readonly target: () => string | undefined;
  /** Share of settled payments never notified (a notification lost for good). */
  readonly never?: number;
  /** Share notified twice (the second up to 1.5 s after the first). */
  readonly twice?: number;
  /** Share notified late: `lateMs` after the payment settled. */
  readonly late?: number;
  readonly lateMs?: number;
  /** Wait between tries of a notification the bot did not answer 200 (default 1 s). */
  readonly retryMs?: number;
  /** Tries of one notification before YooKassa gives up (default 60). */
  readonly attempts?: number;
  readonly random?: () => number;
}

export interface FakeYooKassaServerOptions extends FakeYooKassaCoreOptions {
  /** Each payment's fate, decided once at its creation (default: paid 300 ms later). */
  readonly fate?: (payment: FakeYooPayment) => PaymentFate;
  readonly faults?: FakeYooKassaFaults;
  readonly notifications?: FakeYooKassaNotifications;
}

export interface FakeYooKassaFaultCounts {
  timeout: number;
  reset: number;
  server_error: number;
  rate_limited: number;
}

/** Notifications sent, by the bot's answer ("down": no target; "error": no answer), and how they were sent. */
export type FakeYooKassaNotificationCounts = Record<string, number>;

export async function startFakeYooKassaServer(options: FakeYooKassaServerOptions) {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };
  const faultCounts: FakeYooKassaFaultCounts = { timeout: 0, reset: 0, server_error: 0, rate_limited: 0 };
  const notificationCounts: FakeYooKassaNotificationCounts = {};
  const fates = new Map<string, PaymentFate>();
  const count = (key: string) => {
    notificationCounts[key] = (notificationCounts[key] ?? 0) + 1;
  };
  let closing = false;

  const notify = options.notifications;
  const notifyRandom = notify?.random ?? Math.random;
  const sendNotification = async (payment: FakeYooPayment, attempt: number): Promise<void> => {
    if (notify === undefined || closing) return;
    const target = notify.target();
    let status = "down";
    if (target !== undefined) {
      const event = payment.status === "canceled" ? "payment.canceled" : `payment.${payment.status}`;
      try {
        const response = await fetch(target, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: "notification", event, object: payment }),
          signal: AbortSignal.timeout(10_000),
        });
        await response.body?.cancel();
        status = String(response.status);
      } catch {
        status = "error";
      }
    }
    count(status);
    if (status !== "200" && attempt < (notify.attempts ?? 60)) {
      later(notify.retryMs ?? 1_000, () => void sendNotification(payment, attempt + 1));
    }
  };
  const announce = (payment: FakeYooPayment) => {
    if (notify === undefined) return;
    if (notifyRandom() < (notify.never ?? 0)) return count("never");
    const late = notifyRandom() < (notify.late ?? 0);
    if (late) count("late");
    const delay = late ? (notify.lateMs ?? 10_000) : 50 + notifyRandom() * 250;
    later(delay, () => void sendNotification(payment, 1));
    if (notifyRandom() < (notify.twice ?? 0)) {
      count("twice");
      later(delay + 300 + notifyRandom() * 1_200, () => void sendNotification(payment, 1));
    }
  };

  const core = new FakeYooKassaCore({
    ...options,
    onPaymentCreated: (payment) => {
      options.onPaymentCreated?.(payment);
      const fate = options.fate?.(payment) ?? { outcome: "paid", afterMs: 300 };
      fates.set(payment.id, fate);
      if (fate.outcome === "never") return;
      later(fate.afterMs, () => {
        const settled = core.settle(payment.id, fate.outcome);
        if (settled !== undefined) announce(settled);
      });
    },
  });

  const faults = options.faults;
  const random = faults?.random ?? Math.random;
  const drawFault = (method: string, path: string): keyof FakeYooKassaFaultCounts | undefined => {
    if (faults === undefined || !(faults.applies?.(method, path) ?? true)) return undefined;
    const shares = method === "POST" && path === "/refunds" ? (faults.refunds ?? faults) : faults;
    if (random() < (shares.timeout ?? 0)) return "timeout";
    if (random() < (shares.reset ?? 0)) return "reset";
    if (random() < (shares.serverError ?? 0)) return "server_error";
    if (random() < (shares.rateLimited ?? 0)) return "rate_limited";
    return undefined;
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/^\/v3(?=\/)/, "");
    if (!url.pathname.startsWith("/v3/")) return send(res, 404, { type: "error", code: "not_found" });
    const fault = drawFault(method, path);
    if (fault === "reset") {
      faultCounts.reset++;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (fault === "server_error" || fault === "rate_limited") {
        faultCounts[fault]++;
        const [status, code, description] =
          fault === "server_error"
            ? [500, "internal_server_error", "Internal server error"]
            : [429, "too_many_requests", "Too many requests"];
        return send(res, status, { type: "error", id: `fault-${faultCounts[fault]}`, code, description });
      }
      const request: YooRequest = {
        method,
        path,
        query: url.searchParams,
        authorization: req.headers.authorization,
        idempotenceKey: header(req, "idempotence-key"),
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const answer = core.handle(request);
      if (fault === "timeout") {
        // Done, but the answer never comes: held past the client's timeout, then dropped.
        faultCounts.timeout++;
        const timer = setTimeout(() => res.destroy(), faults?.hangMs ?? 16_000);
        res.once("close", () => clearTimeout(timer));
        return;
      }
      send(res, answer.status, answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    /** The bot's `YOOKASSA_API_URL`. */
    apiUrl: `http://127.0.0.1:${port}/v3`,
    core,
    /** Each payment's fate, by payment id. */
    fates,
    faultCounts,
    notificationCounts,
    /** Sends a payment's notification now (as YooKassa's retries would), whatever its fate said. */
    notifyAgain(paymentId: string): void {
      const payment = core.payments.get(paymentId);
      if (payment !== undefined) void sendNotification({ ...payment }, 1);
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type FakeYooKassaServer = Awaited<ReturnType<typeof startFakeYooKassaServer>>;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
