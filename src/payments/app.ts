/**
 * The payment worker's app: hosts the payment actor and broadcasts. Its shell delivers
 * credits to users' actors (retrying, with backoff, until each one is
 * acknowledged), talks to YooKassa and re-reads pending YooKassa payments
 * on a timer, for notifications that never came.
 */
import type { Api } from "grammy/web";
import type { ActorBehavior, HostApp, HostServices } from "../../actors/mod.ts";
import { platform } from "../platform/mod.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { broadcastBehavior } from "./broadcast.ts";
import {
  initialPaymentState,
  type PaymentEffect,
  type PaymentMessage,
  PaymentState,
  paymentReads,
  receivePayment,
} from "./payment-core.ts";
import { performRefundEffect } from "./refund-shell.ts";
import { YooKassaClient } from "./yookassa.ts";

/** What the supervisor hands the payment worker. */
export interface PaymentAppData {
  /** The Bot API (Stars refunds). */
  readonly telegram: TelegramSettings;
  /** Present when YooKassa is configured. */
  readonly yookassa?: {
    readonly shopId: string;
    readonly secretKey: string;
    readonly apiUrl: string;
    /** Where YooKassa sends the user after paying (the bot's chat). */
    readonly returnUrl: string;
    /** How often pending payments are re-read. */
    readonly reconcileMs: number;
  };
}

/** Longest wait between two attempts to deliver a credit. */
const MAX_RETRY_MS = 60_000;

/** Counts a payment event by provider and outcome (metrics). */
export type CountPayment = (provider: string, outcome: string) => void;

/** The payment actor; `messenger` reaches the users' actors and reads payment records. */
export function paymentBehavior(
  messenger: HostServices,
  api: Api,
  yookassa: YooKassaClient | undefined,
  returnUrl: string,
  count: CountPayment = () => {},
): ActorBehavior<PaymentState, PaymentMessage, unknown, PaymentEffect> {
  const attempts = new Map<string, number>();
  return {
    kind: "payment",
    persistent: true,
    // One actor serves every user's invoices and payments: its mailbox is as large as its host's.
    mailboxBound: 20_000,
    initialState: () => initialPaymentState(),
    restoreState: (stored) => PaymentState.parse(stored),
    reads: paymentReads,
    receive: (state, message, ctx) => receivePayment(state, message, ctx.now, ctx.read),
    describe: (message) => ({ message: message.type }),
    async perform(effect, ctx) {
      switch (effect.type) {
        case "deliverCredit": {
          const { credit } = effect;
          // Detached: a user's actor that is slow to answer must not hold up every other payment.
          void messenger.ask("user", credit.userId, { type: "credit", ...credit }).then((told) => {
            if (told.ok) {
              attempts.delete(credit.key);
              // Keys name their source: "stars:…", "yookassa:…", or "revert:…" for a refund the provider refused.
              const source = credit.key.slice(0, credit.key.indexOf(":"));
              if (source === "revert") count("refund", "reverted");
              else count(source, "credited");
              ctx.tellSelf({ type: "creditAcked", key: credit.key });
              return;
            }
            const attempt = (attempts.get(credit.key) ?? 0) + 1;
            attempts.set(credit.key, attempt);
            ctx.log.warn(
              { key: credit.key, userId: credit.userId, attempt, error: told.error },
              "credit not acknowledged yet",
            );
            // The credit stays in the outbox: ask again later (the user's actor ignores keys it already applied).
            setTimeout(
              () => ctx.tellSelf({ type: "retryCredit", key: credit.key }),
              Math.min(MAX_RETRY_MS, 500 * 2 ** attempt),
            );
          });
          return;
        }
        case "yooCreate": {
          const { attempt } = effect;
          if (yookassa === undefined) {
            ctx.tellSelf({ type: "yooCreateFailed", attemptId: attempt.id, code: "not_configured" });
            return;
          }
          // Detached (here and for reads): a slow YooKassa must not hold up every other payment.
          void (async () => {
            try {
              const payment = await yookassa.createPayment({
                idempotenceKey: attempt.id,
                kopecks: attempt.kopecks,
                description: `Top-up ${attempt.id}`,
                metadata: { attemptId: attempt.id, userId: String(attempt.userId) },
                returnUrl,
              });
              const url = payment.confirmation?.confirmation_url;
              if (url === undefined) throw new Error("YooKassa gave no confirmation URL");
              count("yookassa", "created");
              ctx.tellSelf({ type: "yooCreated", attemptId: attempt.id, paymentId: payment.id, url });
            } catch (error) {
              const code = (error as { code?: string }).code ?? "malformed";
              ctx.log.warn({ attemptId: attempt.id, code }, "YooKassa payment not created");
              count("yookassa", "create_failed");
              ctx.tellSelf({ type: "yooCreateFailed", attemptId: attempt.id, code });
            }
          })();
          return;
        }
        case "yooReadPayment": {
          const { attempt, tell } = effect;
          const paymentId = attempt.paymentId;
          if (yookassa === undefined || paymentId === undefined) return;
          void yookassa.getPayment(paymentId).then(
            (payment) => ctx.tellSelf({ type: "yooRead", attemptId: attempt.id, payment, tell }),
            (error: unknown) =>
              ctx.log.warn(
                { attemptId: attempt.id, code: (error as { code?: string }).code },
                "YooKassa payment not read",
              ),
          );
          return;
        }
        case "tellUser": {
          const told = await messenger.tell("user", effect.userId, effect.news);
          if (!told.ok) ctx.log.warn({ userId: effect.userId, error: told.error }, "user not told about a payment");
          return;
        }
        default:
          await performRefundEffect(effect, ctx, { messenger, api, yookassa, count });
          return;
      }
    },
  };
}

const app: HostApp = {
  createBehaviors: ({ services, appData, counters, log }) => {
    const data = appData as PaymentAppData;
    const yoo = data.yookassa;
    const client = yoo ? new YooKassaClient({ ...yoo, fetch: platform.fetch }) : undefined;
    if (yoo) {
      const timer = setInterval(() => void services.tell("payment", "main", { type: "reconcile" }), yoo.reconcileMs);
      (timer as { unref?: () => void }).unref?.();
    }
    const api = createTelegramApi(data.telegram, platform.fetch, log);
    const count: CountPayment = (provider, outcome) => counters.inc("payments_total", { provider, outcome });
    return [
      paymentBehavior(services, api, client, yoo?.returnUrl ?? "https://t.me", count),
      broadcastBehavior(services, api),
    ];
  },
};

export default app;
