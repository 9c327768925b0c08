/**
 * The payment worker's app: hosts the payment actor and broadcasts. Its shell delivers
 * credits to users' actors (retrying, with backoff, until each one is
 * acknowledged), talks to YooKassa and re-reads pending YooKassa payments
 * on a timer, for notifications that never came.
 */
import type { Api } from "grammy/web";
import type { ActorBehavior, HostApp, HostServices } from "../../actors/mod.ts";
import { platform } from "../platform/mod.ts";
import type { KvKey } from "../platform/types.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { broadcastBehavior } from "./broadcast.ts";
import {
  Credit,
  initialPaymentState,
  OWED_PREFIX,
  type PaymentEffect,
  type PaymentMessage,
  PaymentState,
  paymentReads,
  receivePayment,
} from "./payment-core.ts";
import { performRefundEffect, startRefundSettler } from "./refund-shell.ts";
import { YooKassaClient, YooKassaError } from "./yookassa.ts";
import {
  ATTEMPT_TTL_MS,
  CREATE_STALLED_MS,
  createStalled,
  MAX_CONFIRMATION_URL,
  OPEN_ATTEMPTS_PREFIX,
  OpenAttempts,
} from "./yookassa-core.ts";

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

/** How often every owed credit is delivered again (a retry lost with its worker). */
export const REDELIVER_MS = 60_000;

/** Entries read in one page of a scan. */
const SCAN_PAGE = 100;

/** How soon after the start the first reconciliation of card payments runs. */
const RECONCILE_FIRST_MS = 5_000;

/** Users' open-attempt records one reconciliation looks at; the next one goes on from there. */
export const RECONCILE_USERS_PER_TICK = 500;

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
  /** Failed deliveries of each credit whose retries are under way (a second delivery waits for them). */
  const attempts = new Map<string, number>();
  /** Where the next reconciliation goes on (undefined: from the first user). */
  let reconcileAfter: KvKey | undefined;
  let reconciling = false;
  let redelivering = false;
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
    // Every effect is detached: a slow user's actor, YooKassa or KV scan must not hold up every other payment.
    async perform(effect, ctx) {
      /** Reads a payment at YooKassa and tells the actor what it says about attempt `attemptId` of `userId`. */
      const readPayment = async (paymentId: string, tell: boolean, attemptId?: string, userId?: number) => {
        if (yookassa === undefined) return;
        try {
          const payment = await yookassa.getPayment(paymentId);
          const attempt = attemptId ?? payment.metadata?.attemptId;
          const user = userId ?? Number(payment.metadata?.userId);
          if (attempt === undefined || !Number.isSafeInteger(user)) {
            ctx.log.warn({ paymentId }, "a YooKassa payment that names no attempt of ours");
            return;
          }
          ctx.tellSelf({ type: "yooRead", attemptId: attempt, userId: user, payment, tell });
        } catch (error) {
          ctx.log.warn({ paymentId, code: (error as { code?: string }).code }, "YooKassa payment not read");
        }
      };
      switch (effect.type) {
        case "deliverCredit": {
          const { credit } = effect;
          // A delivery whose retries are under way: they deliver it (each retry reads the credit again).
          if (effect.retry !== true && attempts.has(credit.key)) return;
          attempts.set(credit.key, attempts.get(credit.key) ?? 0);
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
            // The credit stays owed: ask again later (the user's actor ignores keys it already applied).
            setTimeout(
              () => ctx.tellSelf({ type: "retryCredit", key: credit.key }),
              Math.min(MAX_RETRY_MS, 500 * 2 ** attempt),
            );
          });
          return;
        }
        case "redeliverOwed": {
          if (redelivering) return;
          redelivering = true;
          void (async () => {
            try {
              let after: KvKey | undefined;
              do {
                const page = await messenger.scan(OWED_PREFIX, { limit: SCAN_PAGE, ...(after ? { after } : {}) });
                for (const entry of page.entries) {
                  const credit = Credit.safeParse(entry.value);
                  if (credit.success && !attempts.has(credit.data.key))
                    ctx.tellSelf({ type: "retryCredit", key: credit.data.key });
                }
                after = page.next;
              } while (after !== undefined);
            } catch (error) {
              ctx.log.warn({ err: error }, "owed credits not scanned");
            } finally {
              redelivering = false;
            }
          })();
          return;
        }
        case "yooCreate": {
          const { attempt } = effect;
          if (yookassa === undefined) {
            ctx.tellSelf({
              type: "yooCreateFailed",
              attemptId: attempt.id,
              userId: attempt.userId,
              code: "not_configured",
            });
            return;
          }
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
              if (url === undefined || url.length > MAX_CONFIRMATION_URL)
                throw new Error("YooKassa gave no usable confirmation URL");
              count("yookassa", "created");
              ctx.tellSelf({
                type: "yooCreated",
                attemptId: attempt.id,
                userId: attempt.userId,
                paymentId: payment.id,
                url,
              });
              // A creation asked for again (it had stalled) may find the payment paid or canceled meanwhile.
              if (effect.again || payment.status !== "pending") {
                void readPayment(payment.id, false, attempt.id, attempt.userId);
              }
            } catch (error) {
              const code = (error as { code?: string }).code ?? "malformed";
              const ids = { attemptId: attempt.id, userId: attempt.userId, code };
              if (error instanceof YooKassaError && error.ambiguous) {
                ctx.log.warn({ attemptId: attempt.id, code }, "YooKassa did not answer a payment's creation clearly");
                count("yookassa", "create_unsure");
                ctx.tellSelf({ type: "yooCreateUnsure", ...ids, again: effect.again === true });
                // Asked for again once it is stalled (the reconciliation is the backstop, if this process dies first).
                if (!effect.again) {
                  const wait = Math.max(0, attempt.createdAt + CREATE_STALLED_MS - platform.clock.now());
                  const retry = setTimeout(
                    () =>
                      ctx.tellSelf({
                        type: "yooRecreate",
                        attemptId: attempt.id,
                        userId: attempt.userId,
                        cutOff: false,
                      }),
                    wait,
                  );
                  (retry as { unref?: () => void }).unref?.();
                }
                return;
              }
              ctx.log.warn({ attemptId: attempt.id, code }, "YooKassa payment not created");
              count("yookassa", "create_failed");
              ctx.tellSelf({ type: "yooCreateFailed", ...ids });
            }
          })();
          return;
        }
        case "yooReadPayment":
          void readPayment(effect.paymentId, effect.tell, effect.attemptId, effect.userId);
          return;
        case "reconcileScan": {
          if (reconciling || yookassa === undefined) return;
          reconciling = true;
          void (async () => {
            try {
              // A bounded share of the users a tick, one payment read at a time: the next tick goes on from there.
              let seen = 0;
              while (seen < RECONCILE_USERS_PER_TICK) {
                const page = await messenger.scan(OPEN_ATTEMPTS_PREFIX, {
                  limit: Math.min(SCAN_PAGE, RECONCILE_USERS_PER_TICK - seen),
                  ...(reconcileAfter ? { after: reconcileAfter } : {}),
                });
                seen += page.entries.length;
                for (const entry of page.entries) {
                  const open = OpenAttempts.safeParse(entry.value);
                  if (!open.success) continue;
                  const { userId, attempts: listed } = open.data;
                  const now = platform.clock.now();
                  if (listed.some((attempt) => now - attempt.createdAt >= ATTEMPT_TTL_MS)) {
                    ctx.tellSelf({ type: "yooPrune", userId });
                  }
                  for (const attempt of listed) {
                    if (now - attempt.createdAt >= ATTEMPT_TTL_MS) continue;
                    if (createStalled(attempt, now, effect.startedAt)) {
                      const cutOff = !createStalled(attempt, now);
                      ctx.tellSelf({ type: "yooRecreate", attemptId: attempt.id, userId, cutOff });
                    }
                    if (attempt.paymentId !== undefined)
                      await readPayment(attempt.paymentId, false, attempt.id, userId);
                  }
                }
                reconcileAfter = page.next;
                if (page.next === undefined) break;
              }
            } catch (error) {
              ctx.log.warn({ err: error }, "open card payments not scanned");
            } finally {
              reconciling = false;
            }
          })();
          return;
        }
        case "tellUser": {
          void messenger.tell("user", effect.userId, effect.news).then((told) => {
            if (!told.ok) ctx.log.warn({ userId: effect.userId, error: told.error }, "user not told about a payment");
          });
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
  createBehaviors: ({ services, appData, counters, log, clock }) => {
    const data = appData as PaymentAppData;
    const yoo = data.yookassa;
    const client = yoo ? new YooKassaClient({ ...yoo, fetch: platform.fetch }) : undefined;
    // Refunds and card bills asked for before this start are looked at again soon after it.
    const startedAt = clock.now();
    if (yoo) {
      // Soon after the start too: card payments a crash left half done (a notification missed meanwhile, a bill
      // whose creation the crash cut off) are looked at without waiting for the first interval.
      const reconcile = (first: boolean) =>
        void services.tell("payment", "main", { type: "reconcile", ...(first ? { startedAt } : {}) });
      const first = setTimeout(() => reconcile(true), Math.min(yoo.reconcileMs, RECONCILE_FIRST_MS));
      const timer = setInterval(() => reconcile(false), yoo.reconcileMs);
      (first as { unref?: () => void }).unref?.();
      (timer as { unref?: () => void }).unref?.();
    }
    const redeliver = setInterval(() => void services.tell("payment", "main", { type: "redeliver" }), REDELIVER_MS);
    (redeliver as { unref?: () => void }).unref?.();
    startRefundSettler(services, startedAt);
    const api = createTelegramApi(data.telegram, platform.fetch, log);
    const count: CountPayment = (provider, outcome) => counters.inc("payments_total", { provider, outcome });
    return [
      paymentBehavior(services, api, client, yoo?.returnUrl ?? "https://t.me", count),
      broadcastBehavior(services, api),
    ];
  },
};

export default app;
