/**
 * The money invariants checked once the bot has drained and stopped, over
 * the whole KV and against what the providers say happened (the fake
 * YooKassa's payments and refunds, the Stars charges Telegram refunded):
 * each card payment credited once when it succeeded and never when it did
 * not, each refund the provider made debited once and none it did not make,
 * no refund left open, money conserved over the whole ledger, open card
 * attempts within the cap, pre-checkouts answered in time, and the payment
 * actor's value within its budget. Stars credits are checked in
 * `invariants.ts` (`payment_credited_once` and the rest), and so are
 * credits still owed (`credit_outbox_empty`, fed from the owed records).
 */

import type { LedgerRecord } from "../../src/ledger/ledger.ts";
import { PAYMENT_STATE_BUDGET } from "../../src/payments/payment-core.ts";
import { type RefundProvider, refundKey, revertKeyOf } from "../../src/payments/refund-core.ts";
import { ATTEMPT_TTL_MS, MAX_OPEN_ATTEMPTS, yooCreditKey } from "../../src/payments/yookassa-core.ts";
import { type FakeYooKassaCore, kopecksOfValue } from "../../tests/helpers/fake-yookassa-core.ts";
import type { Violation } from "./invariants.ts";
import { balanceChangeOf, type KvState } from "./kv-state.ts";
import type { ReportedPayment } from "./load.ts";

export interface MoneyInputs {
  readonly kv: KvState;
  /** Stars payments Telegram reported and the bot answered 200 (`load.payments`). */
  readonly starsPaid: ReadonlyMap<string, ReportedPayment>;
  /** Stars charges Telegram refunded (`fakeBot.telegram.refundedCharges()`). */
  readonly starsRefunded: ReadonlySet<string>;
  /** The fake YooKassa's truth: payments (succeeded, canceled, pending, with their amount) and refunds made. */
  readonly yookassa: FakeYooKassaCore;
  /** Pre-checkout queries the bot took (webhook answered 200), by query id: when sent, when answered (undefined: never), wall-clock ms. */
  readonly preCheckouts: ReadonlyMap<
    string,
    { readonly userId: number; readonly sentAt: number; readonly answeredAt?: number }
  >;
  /** When each SIGKILL was sent (wall-clock ms): a pre-checkout taken just before a kill may be answered late. */
  readonly kills: readonly number[];
  /** Wall-clock ms of the check (default `Date.now()`): card attempts past their day no longer count as open. */
  readonly now?: number;
}

type Add = (violation: Violation) => void;

/** Telegram gives up on a pre-checkout unanswered for 10 s: the buyer's payment fails. */
export const PRE_CHECKOUT_LIMIT_MS = 10_000;
/**
 * How near a SIGKILL a pre-checkout may have been taken and its answer lost
 * with the process (either side: the load notes the time once the webhook's
 * 200 is back, and the kill may fall in between).
 */
export const PRE_CHECKOUT_KILL_WINDOW_MS = 1_000;

export function checkMoneyInvariants(inputs: MoneyInputs, add: Add): void {
  checkYooKassaCredits(inputs, add);
  checkStarsCredits(inputs, add);
  checkRefunds(inputs, add);
  checkConservation(inputs.kv, add);
  checkOpenAttempts(inputs, add);
  checkPreCheckouts(inputs, add);
  checkPaymentActor(inputs.kv, add);
}

/** A ledger record with the user it belongs to. */
interface Owned {
  readonly userId: number;
  readonly key: string;
  readonly record: LedgerRecord;
}

function ledgerOf(kv: KvState): Owned[] {
  const all: Owned[] = [];
  for (const [userId, records] of kv.users) {
    for (const [key, record] of records.ledger) all.push({ userId, key, record });
  }
  return all;
}

const brief = ({ userId, key, record }: Owned) => ({ userId, key, type: record.entry.type, amount: record.amount });

/**
 * Each YooKassa payment id credited at most once; exactly once, to the user
 * its metadata names, with its amount, when YooKassa says it succeeded; and
 * never (no credit, no paid record) when it did not.
 */
function checkYooKassaCredits({ kv, yookassa }: MoneyInputs, add: Add): void {
  const prefix = yooCreditKey("");
  const credits = new Map<string, Owned[]>();
  for (const owned of ledgerOf(kv)) {
    if (!owned.key.startsWith(prefix)) continue;
    const paymentId = owned.key.slice(prefix.length);
    credits.set(paymentId, [...(credits.get(paymentId) ?? []), owned]);
  }
  for (const [paymentId, found] of credits) {
    if (found.length > 1) {
      add({ invariant: "yookassa_credited_once", details: { paymentId, credits: found.map(brief) } });
    }
  }
  for (const payment of yookassa.payments.values()) {
    if (payment.status !== "succeeded") continue;
    const kopecks = kopecksOfValue(payment.amount.value);
    const userId = Number(payment.metadata.userId);
    const found = credits.get(payment.id) ?? [];
    const record = kv.yookassaPayments.get(payment.id);
    const right =
      found.length === 1 &&
      found[0]?.userId === userId &&
      found[0].record.amount === kopecks &&
      found[0].record.entry.type === "credit" &&
      record?.userId === userId &&
      record.kopecks === kopecks;
    if (!right) {
      add({
        invariant: "yookassa_success_credited",
        userId: Number.isSafeInteger(userId) ? userId : undefined,
        details: {
          paymentId: payment.id,
          kopecks,
          metadata: payment.metadata,
          credits: found.map(brief),
          record,
          attempt: kv.yookassaAttempts.get(payment.metadata.attemptId ?? ""),
        },
      });
    }
  }
  const succeeded = (paymentId: string) => yookassa.payments.get(paymentId)?.status === "succeeded";
  for (const [paymentId, found] of credits) {
    if (!succeeded(paymentId)) {
      add({
        invariant: "yookassa_credit_has_success",
        userId: found[0]?.userId,
        details: { paymentId, status: yookassa.payments.get(paymentId)?.status, credits: found.map(brief) },
      });
    }
  }
  for (const [paymentId, record] of kv.yookassaPayments) {
    if (!succeeded(paymentId) && !credits.has(paymentId)) {
      add({
        invariant: "yookassa_credit_has_success",
        userId: record.userId,
        details: { paymentId, status: yookassa.payments.get(paymentId)?.status, record },
      });
    }
  }
}

/**
 * Each Stars credit is of a charge Telegram reported, to its payer, with
 * its package's amount (`invariants.ts` checks the other way: each reported
 * charge recorded and credited once).
 */
function checkStarsCredits({ kv, starsPaid }: MoneyInputs, add: Add): void {
  for (const owned of ledgerOf(kv)) {
    if (!owned.key.startsWith("stars:") || owned.record.entry.type !== "credit") continue;
    const chargeId = owned.key.slice("stars:".length);
    const reported = starsPaid.get(chargeId);
    if (reported?.userId !== owned.userId || reported.kopecks !== owned.record.amount) {
      add({
        invariant: "stars_credit_was_paid",
        userId: owned.userId,
        details: { chargeId, credit: brief(owned), reported },
      });
    }
  }
}

/** A refund key's debits and reverts in the ledger. */
interface RefundMoney {
  readonly debits: Owned[];
  readonly reverts: Owned[];
}

/** A refund attempt's debit (`#n` from the second attempt on), or the credit that gave one back. */
const REFUND_LEDGER_KEY = /^(revert:)?(refund:(stars|yookassa):.+?)(?:#\d+)?$/s;

/** What a provider says it refunded of a payment: kopecks (0: nothing), and how many refunds. */
interface ProviderRefund {
  readonly kopecks: number;
  readonly count: number;
}

/**
 * Refunds against the providers' truth: one the provider made has exactly
 * one net debit (a debit without its revert) of its amount on the payer;
 * one it did not make has none; every revert gives back a debit that
 * exists; no refund is left open; a record says done exactly when the
 * provider refunded.
 */
function checkRefunds({ kv, yookassa, starsRefunded }: MoneyInputs, add: Add): void {
  const money = new Map<string, RefundMoney>();
  const moneyOf = (key: string) => {
    let found = money.get(key);
    if (found === undefined) {
      found = { debits: [], reverts: [] };
      money.set(key, found);
    }
    return found;
  };
  const ledgerKeys = new Set<string>();
  for (const owned of ledgerOf(kv)) {
    ledgerKeys.add(owned.key);
    const match = REFUND_LEDGER_KEY.exec(owned.key);
    if (match === null) continue;
    const refundOf = match[2] ?? "";
    if (match[1] === undefined) {
      if (owned.record.entry.type === "refund") moneyOf(refundOf).debits.push(owned);
    } else if (owned.record.entry.type === "credit") {
      moneyOf(refundOf).reverts.push(owned);
    }
  }
  for (const { reverts } of money.values()) {
    for (const revert of reverts) {
      const debitKey = revert.key.slice(revertKeyOf("").length);
      if (!ledgerKeys.has(debitKey)) {
        add({ invariant: "revert_has_its_debit", userId: revert.userId, details: { revert: brief(revert) } });
      }
    }
  }

  const provided = (provider: RefundProvider, paymentId: string): ProviderRefund => {
    if (provider === "yookassa") {
      return { kopecks: yookassa.refundedKopecks(paymentId), count: yookassa.refundsOf(paymentId).length };
    }
    if (!starsRefunded.has(paymentId)) return { kopecks: 0, count: 0 };
    return { kopecks: kv.starsPayments.get(paymentId)?.kopecks ?? 0, count: 1 };
  };
  const payerOf = (provider: RefundProvider, paymentId: string): number | undefined =>
    provider === "yookassa"
      ? (kv.yookassaPayments.get(paymentId)?.userId ?? numberOr(yookassa.payments.get(paymentId)?.metadata.userId))
      : kv.starsPayments.get(paymentId)?.userId;

  const payments = new Map<string, { provider: RefundProvider; paymentId: string }>();
  const note = (provider: RefundProvider, paymentId: string) =>
    payments.set(refundKey(provider, paymentId), { provider, paymentId });
  for (const refund of yookassa.refunds.values()) note("yookassa", refund.payment_id);
  for (const chargeId of starsRefunded) note("stars", chargeId);
  for (const refund of kv.refunds.values()) note(refund.provider, refund.paymentId);
  for (const key of money.keys()) {
    const [, provider, ...rest] = key.split(":");
    if (provider === "stars" || provider === "yookassa") note(provider, rest.join(":"));
  }

  for (const [key, { provider, paymentId }] of payments) {
    const truth = provided(provider, paymentId);
    const found = money.get(key) ?? { debits: [], reverts: [] };
    const reverted = new Set(found.reverts.map((revert) => revert.key));
    const net = found.debits.filter((debit) => !reverted.has(revertKeyOf(debit.key)));
    const record = kv.refunds.get(key);
    const payer = payerOf(provider, paymentId);
    const evidence = {
      provider,
      paymentId,
      payer,
      providerRefunded: truth,
      netDebits: net.map(brief),
      debits: found.debits.map(brief),
      reverts: found.reverts.map(brief),
      record,
    };
    if (truth.count > 0) {
      const right = net.length === 1 && net[0]?.userId === payer && -(net[0]?.record.amount ?? 0) === truth.kopecks;
      if (!right) add({ invariant: "refund_made_is_debited", userId: payer, details: evidence });
      if (record?.status !== "done" || record.kopecks !== truth.kopecks) {
        add({ invariant: "refund_record_matches_provider", userId: payer, details: evidence });
      }
      if (truth.count > 1) add({ invariant: "provider_refunded_once", userId: payer, details: evidence });
    } else {
      if (net.length > 0) add({ invariant: "refund_not_made_not_debited", userId: payer, details: evidence });
      if (record?.status === "done") {
        add({ invariant: "refund_record_matches_provider", userId: payer, details: evidence });
      }
    }
  }

  for (const [key, record] of kv.refunds) {
    if (record.status !== "done" && record.status !== "failed") {
      add({ invariant: "no_refund_left_open", userId: record.userId, details: { key, record } });
    }
  }
  for (const [key, entry] of kv.openRefunds) {
    add({ invariant: "no_refund_left_open", details: { key, index: entry, record: kv.refunds.get(key) } });
  }
}

/** Where money on the balances came from and went to, by kind of ledger entry. */
function kindOf({ key, record }: Owned): string | undefined {
  const { type } = record.entry;
  if (type === "hold" || type === "release") return "none";
  if (type === "capture") return "captures";
  if (type === "refund") return key.startsWith("refund:") ? "refunds" : undefined;
  if (type === "credit") {
    if (key.startsWith("stars:")) return "stars";
    if (key.startsWith("yookassa:")) return "yookassa";
    if (key.startsWith("revert:refund:")) return "refundsGivenBack";
    if (key === "welcome") return "welcomeGifts";
    return undefined;
  }
  if (key.startsWith("admin:")) return record.amount >= 0 ? "adminCredits" : "adminDebits";
  if (key.startsWith("undeliverable:")) return "undeliverableGivenBack";
  return undefined;
}

/**
 * Money in (payments, gifts, admin credits, debits given back) minus money
 * out (captures, refunds, admin debits) is the sum of the balances, every
 * entry of a kind the bot makes; the holds on the wallets are the holds the
 * ledger has not captured or released.
 */
function checkConservation(kv: KvState, add: Add): void {
  const moved: Record<string, number> = {};
  let balances = 0;
  let walletHolds = 0;
  for (const records of kv.users.values()) {
    balances += records.state.wallet.balance;
    for (const hold of Object.values(records.state.wallet.holds)) walletHolds += hold.amount;
  }
  let moneyIn = 0;
  let moneyOut = 0;
  const settled = new Set<string>();
  const holds: Owned[] = [];
  for (const owned of ledgerOf(kv)) {
    const kind = kindOf(owned);
    if (kind === undefined) {
      add({ invariant: "ledger_entry_of_known_kind", userId: owned.userId, details: brief(owned) });
    }
    const name = kind ?? "unknown";
    const change = balanceChangeOf(owned.record);
    moved[name] = (moved[name] ?? 0) + change;
    if (change > 0) moneyIn += change;
    else moneyOut -= change;
    const entry = owned.record.entry;
    if (entry.type === "capture" || entry.type === "release") settled.add(`${owned.userId}:${entry.jobId}`);
    if (entry.type === "hold") holds.push(owned);
  }
  if (moneyIn - moneyOut !== balances) {
    add({ invariant: "money_conserved", details: { moneyIn, moneyOut, balances, byKind: moved } });
  }
  const ledgerHolds = holds
    .filter(({ userId, record }) => record.entry.type === "hold" && !settled.has(`${userId}:${record.entry.jobId}`))
    .reduce((sum, { record }) => sum + record.amount, 0);
  if (ledgerHolds !== walletHolds) add({ invariant: "holds_conserved", details: { walletHolds, ledgerHolds } });
}

/** No user has more open card attempts than the cap: in the index, or as records still open and within their day. */
function checkOpenAttempts({ kv, now = Date.now() }: MoneyInputs, add: Add): void {
  const open = new Map<number, Set<string>>();
  const openOf = (userId: number) => {
    let ids = open.get(userId);
    if (ids === undefined) {
      ids = new Set();
      open.set(userId, ids);
    }
    return ids;
  };
  for (const [userId, index] of kv.yookassaOpen) {
    for (const attempt of index.attempts) if (now - attempt.createdAt < ATTEMPT_TTL_MS) openOf(userId).add(attempt.id);
  }
  for (const attempt of kv.yookassaAttempts.values()) {
    const live = attempt.status === "creating" || attempt.status === "pending";
    if (live && now - attempt.createdAt < ATTEMPT_TTL_MS) openOf(attempt.userId).add(attempt.id);
  }
  for (const [userId, ids] of open) {
    if (ids.size > MAX_OPEN_ATTEMPTS) {
      add({
        invariant: "open_attempts_within_cap",
        userId,
        details: {
          cap: MAX_OPEN_ATTEMPTS,
          open: [...ids],
          index: kv.yookassaOpen.get(userId)?.attempts.map((attempt) => attempt.id) ?? [],
          records: [...ids].map((id) => kv.yookassaAttempts.get(id)?.status ?? "missing"),
        },
      });
    }
  }
}

/**
 * Every pre-checkout answered within Telegram's 10 s. A SIGKILL while its
 * answer was pending (from a second before the webhook's 200 came back) may
 * take the answer along: the update was already acknowledged, so it is
 * answered late or never, Telegram tells the buyer the payment failed, and
 * no money moves (the payment invariants check that).
 */
function checkPreCheckouts({ preCheckouts, kills }: MoneyInputs, add: Add): void {
  for (const [queryId, query] of preCheckouts) {
    const tookMs = query.answeredAt === undefined ? undefined : query.answeredAt - query.sentAt;
    if (tookMs !== undefined && tookMs <= PRE_CHECKOUT_LIMIT_MS) continue;
    const pendingUntil = query.answeredAt ?? query.sentAt + PRE_CHECKOUT_LIMIT_MS;
    const killedMeanwhile = kills.some(
      (kill) => kill >= query.sentAt - PRE_CHECKOUT_KILL_WINDOW_MS && kill <= pendingUntil,
    );
    if (killedMeanwhile) continue;
    const details = { queryId, ...query, tookMs };
    add({
      invariant: query.answeredAt === undefined ? "pre_checkout_answered" : "pre_checkout_answered_in_time",
      userId: query.userId,
      details,
    });
  }
}

/** The payment actor's value stays within its budget whatever users did. */
function checkPaymentActor(kv: KvState, add: Add): void {
  const actor = kv.paymentActor;
  if (actor !== undefined && actor.bytes > PAYMENT_STATE_BUDGET) {
    add({
      invariant: "payment_state_within_budget",
      details: { bytes: actor.bytes, budget: PAYMENT_STATE_BUDGET, seq: actor.state.seq },
    });
  }
}

function numberOr(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) ? n : undefined;
}
