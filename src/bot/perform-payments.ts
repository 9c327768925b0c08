/**
 * The shell of the user actor's payments and referrals: issues Stars
 * invoices (recorded by the payment actor before they are sent), reports
 * Stars payments to the payment actor until it has them, starts and checks
 * card payments, and asks an inviter's actor about a referral. Pre-checkout
 * queries are answered beside the actor (`payments/pre-checkout.ts`).
 */
import type { ActorId } from "../../actors/routing.ts";
import type { InvoiceCreated, PaymentCheck } from "../payments/payment-core.ts";
import type { UserMessage } from "./core.ts";
import { formatRub } from "./money.ts";
import type { BotShell } from "./perform.ts";
import { buttonsFor } from "./render-parts.ts";
import type { BotEffect } from "./views.ts";

type PaymentEffect = Extract<BotEffect, { type: "invoice" | "reportStars" | "refer" | "yooPay" | "yooCheck" }>;

/** The wait before the `retry`-th report of a Stars payment: growing, at most a minute. */
export const reportDelayMs = (retry: number) => Math.min(60_000, 500 * retry);

/** Performs one payment effect of the user actor `id`. */
export async function performPaymentEffect(
  shell: BotShell,
  effect: PaymentEffect,
  id: ActorId,
  tellSelf: (message: UserMessage) => void,
): Promise<void> {
  const userId = Number(id);
  switch (effect.type) {
    case "invoice": {
      const pack = shell.starsPackages[effect.index];
      if (pack === undefined) return;
      const created = await shell.catalog.ask("payment", "main", { type: "createStarsInvoice", userId, ...pack });
      if (!created.ok) throw new Error(`the payment actor did not record the invoice: ${created.error.code}`);
      const price = formatRub(pack.kopecks, effect.lang);
      await shell.api.raw.sendInvoice({
        chat_id: effect.chatId,
        title: shell.t(effect.lang, "invoice-title"),
        description: shell.t(effect.lang, "invoice-description", { price }),
        payload: (created.value as InvoiceCreated).invoiceId,
        currency: "XTR",
        prices: [{ label: shell.t(effect.lang, "invoice-label", { price }), amount: pack.stars }],
        // Telegram requires the Pay button first; the menu is the way back.
        reply_markup: {
          inline_keyboard: [
            [{ text: shell.t(effect.lang, "btn-pay-stars", { stars: pack.stars }), pay: true }],
            [buttonsFor(shell.t, effect.lang)("btn-menu", { a: "menu" })],
          ],
        },
      });
      return;
    }
    case "yooPay": {
      const kopecks = "kopecks" in effect.amount ? effect.amount.kopecks : shell.yooPackages[effect.amount.index];
      if (kopecks === undefined) return;
      // The payment actor records the attempt, creates the payment and tells this actor when it can be paid.
      const created = await shell.catalog.ask("payment", "main", { type: "createYooPayment", userId, kopecks });
      if (!created.ok) {
        shell.log.warn({ error: created.error }, "card payment not started");
        await shell.api.raw.sendMessage({ chat_id: effect.chatId, text: shell.t(effect.lang, "yoo-failed") });
      }
      return;
    }
    case "yooCheck": {
      const told = await shell.catalog.tell("payment", "main", {
        type: "yooCheck",
        userId,
        attemptId: effect.attemptId,
      });
      if (!told.ok) shell.log.warn({ error: told.error }, "payment check not queued");
      return;
    }
    case "refer": {
      // Detached: two new users who invited each other must not wait on each other's turns.
      void (async () => {
        const reply = await shell.catalog.ask("user", effect.inviterId, { type: "referred", inviteeId: userId });
        const accepted = reply.ok && (reply.value as { accepted?: boolean } | undefined)?.accepted === true;
        if (!reply.ok) shell.log.warn({ inviterId: effect.inviterId, error: reply.error }, "referral not answered");
        tellSelf({ type: "referralAnswered", inviterId: effect.inviterId, accepted });
      })();
      return;
    }
    case "reportStars": {
      const { type: _type, retry = 0, ...payment } = effect;
      // Detached: a report waiting for its retry must not hold up the user's other turns (a pre-checkout).
      void (async () => {
        if (retry > 0) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, reportDelayMs(retry));
            (timer as { unref?: () => void }).unref?.();
          });
        }
        const reply = await shell.catalog.ask("payment", "main", { type: "starsPaid", userId, ...payment });
        if (reply.ok) {
          const check = reply.value as PaymentCheck;
          tellSelf({
            type: "starsReported",
            chargeId: effect.chargeId,
            ...(check.ok ? {} : { refusal: check.refusal }),
          });
          return;
        }
        shell.log.warn({ chargeId: effect.chargeId, retry, error: reply.error }, "Stars payment not recorded yet");
        // The user's actor reports it again while it is still pending (and its next start does too).
        tellSelf({ type: "starsReported", chargeId: effect.chargeId, unrecorded: retry + 1 });
      })();
      return;
    }
  }
}
