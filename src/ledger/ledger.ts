/**
 * The ledger core: pure functions from (wallet, entry) to the new wallet or
 * a typed refusal. The user actor applies them in its turn and writes each
 * applied entry under the user in KV with the same commit, so the running
 * totals and the entries never disagree.
 */
import { digest53 } from "../digest.ts";
import { availableOf, RECENT_KEYS, type Wallet } from "./wallet.ts";

/** A change of money, identified by `key` (the same key is applied once). */
export type LedgerEntry =
  | { readonly type: "credit"; readonly key: string; readonly amount: number; readonly reason: string }
  | {
      readonly type: "hold";
      readonly key: string;
      readonly jobId: string;
      readonly amount: number;
      readonly reason: string;
    }
  | { readonly type: "capture"; readonly key: string; readonly jobId: string; readonly reason: string }
  | { readonly type: "release"; readonly key: string; readonly jobId: string; readonly reason: string }
  | { readonly type: "refund"; readonly key: string; readonly amount: number; readonly reason: string }
  | { readonly type: "adjustment"; readonly key: string; readonly amount: number; readonly reason: string };

/** Why an entry was not applied. */
export type LedgerRefusal =
  | { readonly code: "duplicate" }
  | { readonly code: "insufficient_funds"; readonly shortfall: number }
  | { readonly code: "invalid_amount" }
  | { readonly code: "unknown_hold" }
  | { readonly code: "hold_exists" };

/** An applied entry as stored: the entry, when, and the totals after it. */
export interface LedgerRecord {
  readonly entry: LedgerEntry;
  readonly at: number;
  /** The money that moved (captures and releases carry the hold's amount). */
  readonly amount: number;
  readonly balanceAfter: number;
  readonly availableAfter: number;
}

export type LedgerOutcome =
  | { readonly ok: true; readonly wallet: Wallet; readonly record: LedgerRecord }
  | { readonly ok: false; readonly refusal: LedgerRefusal };

const refuse = (refusal: LedgerRefusal): LedgerOutcome => ({ ok: false, refusal });

/** Applies one entry at `now`; the wallet is never mutated. */
export function applyEntry(wallet: Wallet, entry: LedgerEntry, now: number): LedgerOutcome {
  if (remembersKey(wallet.recentKeys, entry.key)) return refuse({ code: "duplicate" });
  const available = availableOf(wallet);
  let next: Wallet;
  let amount: number;
  switch (entry.type) {
    case "credit": {
      if (!isPositiveKopecks(entry.amount)) return refuse({ code: "invalid_amount" });
      amount = entry.amount;
      next = { ...wallet, balance: wallet.balance + amount };
      break;
    }
    case "hold": {
      if (!isPositiveKopecks(entry.amount)) return refuse({ code: "invalid_amount" });
      if (wallet.holds[entry.jobId] !== undefined) return refuse({ code: "hold_exists" });
      if (entry.amount > available) return refuse({ code: "insufficient_funds", shortfall: entry.amount - available });
      amount = entry.amount;
      next = { ...wallet, holds: { ...wallet.holds, [entry.jobId]: { amount, at: now } } };
      break;
    }
    case "capture":
    case "release": {
      const hold = wallet.holds[entry.jobId];
      if (hold === undefined) return refuse({ code: "unknown_hold" });
      const { [entry.jobId]: _gone, ...holds } = wallet.holds;
      amount = hold.amount;
      next = { ...wallet, holds, balance: entry.type === "capture" ? wallet.balance - hold.amount : wallet.balance };
      break;
    }
    case "refund":
    case "adjustment": {
      const debit = entry.type === "refund" ? entry.amount : -entry.amount;
      if (!Number.isSafeInteger(entry.amount) || entry.amount === 0 || (entry.type === "refund" && entry.amount < 0)) {
        return refuse({ code: "invalid_amount" });
      }
      if (debit > available) return refuse({ code: "insufficient_funds", shortfall: debit - available });
      amount = -debit;
      next = { ...wallet, balance: wallet.balance - debit };
      break;
    }
  }
  next = { ...next, recentKeys: rememberKey(wallet.recentKeys, entry.key) };
  return {
    ok: true,
    wallet: next,
    record: { entry, at: now, amount, balanceAfter: next.balance, availableAfter: availableOf(next) },
  };
}

function isPositiveKopecks(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount > 0;
}

/**
 * How long a key the wallet remembers as it is: a longer one (a Stars charge
 * id runs to 256 characters) is kept as its head and a digest, so that the
 * last {@link RECENT_KEYS} keys always fit in a few KiB of the user's value.
 */
const KEPT_KEY_CHARS = 40;

/** The form in which the wallet remembers `key`. */
export function keptKey(key: string): string {
  return key.length <= KEPT_KEY_CHARS ? key : `${key.slice(0, 20)}#${digest53(key)}`;
}

/** True when `keys` (a wallet's recent keys) hold `key`. */
export function remembersKey(keys: readonly string[], key: string): boolean {
  return keys.includes(keptKey(key));
}

/** Appends a key, forgetting the oldest beyond {@link RECENT_KEYS}. */
export function rememberKey(keys: readonly string[], key: string): string[] {
  const next = [...keys, keptKey(key)];
  return next.length > RECENT_KEYS ? next.slice(next.length - RECENT_KEYS) : next;
}
