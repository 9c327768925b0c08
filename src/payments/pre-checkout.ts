/**
 * Pre-checkout queries, answered beside the user's actor rather than in its
 * mailbox. Telegram drops a query not answered within 10 seconds, and a
 * user's mailbox can hold turns that wait much longer on Telegram: screens
 * under flood control, or an inbox replayed after a restart (the crash suite
 * found buyers refused that way). The answer needs nothing a turn of the
 * user's would change: whether the invoice is this user's and unpaid (the
 * payment actor's to say) and whether an admin blocked the user (their
 * saved state).
 */
import type { Api } from "grammy/web";
import type { Log, Result } from "../../actors/mod.ts";
import type { Translate } from "../bot/i18n.ts";
import { langFor } from "../bot/lang.ts";
import { restoreUserState, type UserState } from "../bot/state.ts";
import type { KvStore } from "../platform/types.ts";
import type { PaymentCheck } from "./payment-core.ts";

/**
 * How long a pre-checkout waits for the payment actor: the answer call
 * itself, with its retries, needs the rest of Telegram's 10 seconds.
 */
export const PRE_CHECKOUT_ASK_MS = 4_000;

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
  readonly ask: (kind: string, id: string, message: unknown, deadlineMs: number) => Promise<Result<unknown>>;
  readonly api: Api;
  readonly t: Translate;
  readonly log: Log;
}

type Refusal = Extract<PaymentCheck, { ok: false }>["refusal"] | "blocked" | "unavailable";

/** Answers one pre-checkout query: yes for the user's own unpaid invoice, else why not, in their language. */
export function preCheckoutAnswerer(deps: PreCheckoutDeps) {
  return async (query: PreCheckoutQuery): Promise<void> => {
    const userId = query.from.id;
    const user = await savedUser(deps.kv, userId);
    const lang = user?.langChosen ? user.lang : langFor(query.from.language_code);
    let refusal: Refusal | undefined;
    if (user?.blocked) {
      refusal = "blocked";
    } else {
      const check = { type: "checkStarsInvoice", userId, invoiceId: query.invoice_payload };
      const reply = await deps.ask(
        "payment",
        "main",
        { ...check, currency: query.currency, amount: query.total_amount },
        PRE_CHECKOUT_ASK_MS,
      );
      if (!reply.ok) deps.log.warn({ userId, error: reply.error }, "pre-checkout not checked in time");
      const answer = reply.ok ? (reply.value as PaymentCheck) : ({ ok: false, refusal: "unavailable" } as const);
      refusal = answer.ok ? undefined : answer.refusal;
    }
    await deps.api.raw.answerPreCheckoutQuery({
      pre_checkout_query_id: query.id,
      ok: refusal === undefined,
      ...(refusal === undefined
        ? {}
        : { error_message: deps.t(lang, `payment-refused-${refusal.replaceAll("_", "-")}`) }),
    });
  };
}

/** The user's saved state, if there is one that loads (a user the bot never met has none). */
async function savedUser(kv: KvStore, userId: number): Promise<UserState | undefined> {
  try {
    const stored = await kv.get(["user", userId]);
    return stored.value === null ? undefined : restoreUserState(stored.value);
  } catch {
    return undefined;
  }
}
