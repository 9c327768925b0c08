/**
 * The shell of refunds: reads a payment's record, asks the user's actor to
 * debit a refund, asks the provider to make it (or how an earlier ask
 * went), and finds the refunds not finished; then tells the payment actor
 * how each step went. Every step runs detached from the actor's turn: one
 * slow provider must not hold up every buyer's pre-checkout.
 */
import { type Api, GrammyError } from "grammy/web";
import type { EffectContext, HostServices, Messenger } from "../../actors/mod.ts";
import type { KvKey } from "../platform/types.ts";
import type { CountPayment } from "./app.ts";
import type { PaymentMessage } from "./payment-core.ts";
import {
  OPEN_REFUNDS_PREFIX,
  type ProviderAnswer,
  paymentRecordKey,
  type Refund,
  type RefundEffect,
} from "./refund-core.ts";
import { type YooKassaClient, YooKassaError } from "./yookassa.ts";

/** What the refund shell talks to. */
export interface RefundShellDeps {
  readonly messenger: HostServices;
  readonly api: Api;
  readonly yookassa: YooKassaClient | undefined;
  readonly count: CountPayment;
}

/** How often refunds not finished are looked at. */
export const REFUND_SETTLE_MS = 30_000;
/** The longest a Stars refund call may take before its answer counts as unknown. */
export const STARS_REFUND_TIMEOUT_MS = 20_000;
/** Open refunds looked at per sweep (the rest wait for the next one). */
const SWEEP_LIMIT = 1_000;

/**
 * Tells the payment actor to settle refunds not finished: soon after the
 * start (refunds a restart interrupted) and every `everyMs`. The timers do
 * not keep the process alive. Returns the way to stop them.
 */
export function startRefundSettler(services: Messenger, startedAt: number, everyMs = REFUND_SETTLE_MS): () => void {
  const settle = (message: { readonly type: "settleRefunds"; readonly startedAt?: number }) => {
    void services.tell("payment", "main", message).catch(() => undefined);
  };
  const first = setTimeout(() => settle({ type: "settleRefunds", startedAt }), Math.min(everyMs, 1_000));
  const every = setInterval(() => settle({ type: "settleRefunds" }), everyMs);
  (first as { unref?: () => void }).unref?.();
  (every as { unref?: () => void }).unref?.();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}

/** Performs one refund effect of the payment actor (detached: it returns at once). */
export async function performRefundEffect(
  effect: RefundEffect,
  ctx: EffectContext<PaymentMessage>,
  deps: RefundShellDeps,
): Promise<void> {
  void detached(effect, ctx, deps).catch((error: unknown) =>
    ctx.log.error({ err: error, effect: effect.type }, "a refund step failed in the shell"),
  );
}

async function detached(
  effect: RefundEffect,
  ctx: EffectContext<PaymentMessage>,
  { messenger, api, yookassa, count }: RefundShellDeps,
): Promise<void> {
  switch (effect.type) {
    case "loadPaymentRecord": {
      const { request } = effect;
      const [stored] = await messenger.loadMany([paymentRecordKey(request.provider, request.paymentId)]);
      ctx.tellSelf({ type: "paymentRecordLoaded", request, record: stored?.value ?? null });
      return;
    }
    case "refundDebit": {
      const { refund } = effect;
      const reply = await messenger.ask("user", refund.userId, {
        type: "refundDebit",
        key: refund.debitKey,
        amount: refund.kopecks,
        reason: `refund by admin ${refund.adminId}: ${refund.reason}`,
        adminId: refund.adminId,
      });
      const outcome = !reply.ok
        ? "unknown"
        : (reply.value as { ok?: boolean } | undefined)?.ok === true
          ? "ok"
          : "refused";
      if (!reply.ok) ctx.log.warn({ key: refund.debitKey, error: reply.error }, "refund debit not answered");
      ctx.tellSelf({ type: "refundDebited", key: refund.key, attempt: refund.attempt, outcome });
      return;
    }
    case "providerRefund": {
      const { refund, check } = effect;
      const answer =
        refund.provider === "stars"
          ? await refundStars(api, refund)
          : await refundYooKassa(yookassa, refund, effect.listRefunds);
      count(refund.provider, answer.kind === "refunded" ? "refunded" : `refund_${answer.kind}`);
      if (answer.kind !== "refunded")
        ctx.log.warn({ key: refund.key, attempt: refund.attempt, check, answer }, "the provider did not refund");
      ctx.tellSelf({ type: "providerAnswered", key: refund.key, attempt: refund.attempt, answer });
      return;
    }
    case "findOpenRefunds": {
      let after: KvKey | undefined;
      for (let found = 0; found < SWEEP_LIMIT; ) {
        const page = await messenger.scan([...OPEN_REFUNDS_PREFIX], { limit: 100, ...(after ? { after } : {}) });
        for (const entry of page.entries) {
          const key = entry.key[1];
          if (typeof key === "string") ctx.tellSelf({ type: "settleRefund", key, startedAt: effect.startedAt });
        }
        found += page.entries.length;
        if (page.next === undefined) return;
        after = page.next;
      }
      return;
    }
  }
}

/**
 * Asks Telegram to refund a Stars payment. Asking again is also how an
 * ambiguous answer is checked: `CHARGE_ALREADY_REFUNDED` means the Stars
 * went back. Any other 4xx is a definite refusal; 5xx, a timeout or no
 * answer leave it unknown.
 */
async function refundStars(api: Api, refund: Refund): Promise<ProviderAnswer> {
  try {
    await api.raw.refundStarPayment(
      { user_id: refund.userId, telegram_payment_charge_id: refund.paymentId },
      AbortSignal.timeout(STARS_REFUND_TIMEOUT_MS) as never, // typed with node's polyfill; the web build takes the web one
    );
    return { kind: "refunded" };
  } catch (error) {
    if (error instanceof GrammyError) {
      if (/CHARGE_ALREADY_REFUNDED/.test(error.description)) return { kind: "refunded" };
      const definite = error.error_code >= 400 && error.error_code < 500 && error.error_code !== 429;
      return { kind: definite ? "refused" : "unknown", code: error.description.slice(0, 120) };
    }
    return { kind: "unknown", code: "no_answer" };
  }
}

/**
 * Asks YooKassa to refund a payment, with the attempt's debit key as the
 * Idempotence-Key: a check within a day repeats the same request (YooKassa
 * answers the refund it made, or makes it now). With `listRefunds` (a
 * check after YooKassa forgot the key) the payment's refunds are listed.
 */
async function refundYooKassa(
  yookassa: YooKassaClient | undefined,
  refund: Refund,
  listRefunds: boolean,
): Promise<ProviderAnswer> {
  if (yookassa === undefined) return { kind: "refused", code: "not_configured" };
  try {
    if (listRefunds) {
      const refunds = await yookassa.listRefunds(refund.paymentId);
      const made = refunds.some((each) => each.status === "succeeded" || each.status === "pending");
      return made ? { kind: "refunded" } : { kind: "refused", code: "no_refund_at_provider" };
    }
    // Pending refunds are completed by YooKassa; canceled ones are refused by the client.
    await yookassa.createRefund({
      idempotenceKey: refund.debitKey,
      paymentId: refund.paymentId,
      kopecks: refund.kopecks,
    });
    return { kind: "refunded" };
  } catch (error) {
    if (error instanceof YooKassaError) {
      return { kind: error.ambiguous ? "unknown" : "refused", code: error.code };
    }
    return { kind: "unknown", code: "no_answer" };
  }
}
