/**
 * The shell of refunds: reads a payment's record, asks the user's actor to
 * debit the refund and asks the provider to make it, then tells the payment
 * actor how each step went.
 */
import type { Api } from "grammy/web";
import type { EffectContext, HostServices } from "../../actors/mod.ts";
import type { CountPayment } from "./app.ts";
import type { PaymentMessage } from "./payment-core.ts";
import { paymentRecordKey, type RefundEffect } from "./refund-core.ts";
import type { YooKassaClient } from "./yookassa.ts";

/** What the refund shell talks to. */
export interface RefundShellDeps {
  readonly messenger: HostServices;
  readonly api: Api;
  readonly yookassa: YooKassaClient | undefined;
  readonly count: CountPayment;
}

/** Performs one refund effect of the payment actor. */
export async function performRefundEffect(
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
        key: refund.key,
        amount: refund.kopecks,
        reason: `refund by admin ${refund.adminId}: ${refund.reason}`,
        adminId: refund.adminId,
      });
      const ok = reply.ok && (reply.value as { ok?: boolean } | undefined)?.ok === true;
      ctx.tellSelf({ type: "refundDebited", key: refund.key, ok });
      return;
    }
    case "providerRefund": {
      const { refund } = effect;
      try {
        if (refund.provider === "stars") {
          await api.raw.refundStarPayment({ user_id: refund.userId, telegram_payment_charge_id: refund.paymentId });
        } else {
          if (yookassa === undefined) throw new Error("YooKassa is not configured");
          await yookassa.createRefund({
            idempotenceKey: refund.key,
            paymentId: refund.paymentId,
            kopecks: refund.kopecks,
          });
        }
        count(refund.provider, "refunded");
        ctx.tellSelf({ type: "providerRefunded", key: refund.key });
      } catch (error) {
        const code = (error as { code?: string; description?: string }).code ?? "refused";
        ctx.log.warn({ key: refund.key, err: error }, "the provider did not refund");
        count(refund.provider, "refund_failed");
        ctx.tellSelf({ type: "providerRefundFailed", key: refund.key, code: String(code) });
      }
      return;
    }
  }
}
