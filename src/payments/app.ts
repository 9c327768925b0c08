/**
 * The payment worker's app: hosts the payment actor. Its shell delivers
 * credits to users' actors and retries, with backoff, until each one is
 * acknowledged.
 */
import type { ActorBehavior, HostApp, Messenger } from "../../actors/mod.ts";
import {
  initialPaymentState,
  type PaymentEffect,
  type PaymentMessage,
  PaymentState,
  receivePayment,
} from "./payment-core.ts";

/** Longest wait between two attempts to deliver a credit. */
const MAX_RETRY_MS = 60_000;

/** The payment actor; `messenger` reaches the users' actors. */
export function paymentBehavior(
  messenger: Messenger,
): ActorBehavior<PaymentState, PaymentMessage, unknown, PaymentEffect> {
  const attempts = new Map<string, number>();
  return {
    kind: "payment",
    persistent: true,
    initialState: () => initialPaymentState(),
    restoreState: (stored) => PaymentState.parse(stored),
    receive: (state, message, ctx) => receivePayment(state, message, ctx.now),
    describe: (message) => ({ message: message.type }),
    async perform(effect, ctx) {
      const { credit } = effect;
      const told = await messenger.ask("user", credit.userId, { type: "credit", ...credit });
      if (told.ok) {
        attempts.delete(credit.key);
        ctx.tellSelf({ type: "creditAcked", key: credit.key });
        return;
      }
      const attempt = (attempts.get(credit.key) ?? 0) + 1;
      attempts.set(credit.key, attempt);
      ctx.log.warn(
        { key: credit.key, userId: credit.userId, attempt, error: told.error },
        "credit not acknowledged yet",
      );
      // The credit stays in the outbox: ask again later (the actor ignores keys it already applied).
      setTimeout(() => ctx.tellSelf({ type: "resume" }), Math.min(MAX_RETRY_MS, 500 * 2 ** attempt));
    },
  };
}

const app: HostApp = {
  createBehaviors: ({ services }) => [paymentBehavior(services)],
};

export default app;
