/**
 * Pre-checkout queries, answered beside the actors rather than in a
 * mailbox. Telegram drops a query not answered within 10 seconds, and the
 * user's mailbox can hold turns that wait on Telegram much longer (screens
 * under flood control, an inbox replayed after a restart), as can the
 * payment actor's after a restart: the crash suite found buyers unanswered
 * or refused that way. The answer changes nothing, so it needs no turn: it
 * comes from the invoice's record (this user's, unpaid, in Stars, for its
 * amount) and the user's saved state (not blocked by an admin), read from
 * KV in one go.
 */
import type { Api } from "grammy/web";
import type { Log } from "../../actors/mod.ts";
import type { Translate } from "../bot/i18n.ts";
import { langFor } from "../bot/lang.ts";
import { restoreUserState, type UserState } from "../bot/state.ts";
import type { KvStore } from "../platform/types.ts";
import { checkPreCheckout, invoiceKey, type PaymentCheck } from "./payment-core.ts";

/** A pre-checkout query as the update's schema parsed it. */
export interface PreCheckoutQuery {
  readonly id: string;
  readonly from: { readonly id: number; readonly language_code?: string | undefined };
  readonly currency: string;
  readonly total_amount: number;
  readonly invoice_payload: string;
}

export interface PreCheckoutDeps {
  readonly kv: KvStore;
  readonly api: Api;
  readonly t: Translate;
  readonly log: Log;
  readonly now: () => number;
}

type Refusal = Extract<PaymentCheck, { ok: false }>["refusal"] | "blocked" | "unavailable";

/** Answers one pre-checkout query: yes for the user's own unpaid invoice, else why not, in their language. */
export function preCheckoutAnswerer(deps: PreCheckoutDeps) {
  return async (query: PreCheckoutQuery): Promise<void> => {
    const userId = query.from.id;
    let refusal: Refusal | undefined;
    let user: UserState | undefined;
    try {
      const [invoice, saved] = await deps.kv.getMany([invoiceKey(query.invoice_payload), ["user", userId]]);
      user = saved?.value == null ? undefined : restoreUserState(saved.value);
      const check = checkPreCheckout(
        invoice?.value,
        { userId, invoiceId: query.invoice_payload, currency: query.currency, amount: query.total_amount },
        deps.now(),
      );
      refusal = user?.blocked ? "blocked" : check.ok ? undefined : check.refusal;
    } catch (error) {
      deps.log.warn({ err: error, userId }, "pre-checkout not checked");
      refusal = "unavailable";
    }
    const lang = user?.langChosen ? user.lang : langFor(query.from.language_code);
    await deps.api.raw.answerPreCheckoutQuery({
      pre_checkout_query_id: query.id,
      ok: refusal === undefined,
      ...(refusal === undefined
        ? {}
        : { error_message: deps.t(lang, `payment-refused-${refusal.replaceAll("_", "-")}`) }),
    });
  };
}
