/**
 * Free generations: a daily quota counted per calendar day in the
 * configured time zone, then the referral bank. A job reserves one at
 * submit; success commits it, failure releases it. Reservations are keyed
 * by job id, so each step is idempotent.
 */
import { currentDay, nextDayStart } from "./day.ts";
import type { Wallet } from "./wallet.ts";

/** The quota rules of this deployment. */
export interface FreeRules {
  readonly dailyLimit: number;
  readonly timeZone: string;
}

export type FreeRefusal =
  | { readonly code: "quota_exhausted"; readonly renewsAt: number }
  | { readonly code: "already_reserved" };

export type FreeOutcome =
  | { readonly ok: true; readonly wallet: Wallet; readonly source: "daily" | "bank" }
  | { readonly ok: false; readonly refusal: FreeRefusal };

/** The wallet's daily counter moved to today (a new day starts at zero). */
function onToday(wallet: Wallet, now: number, rules: FreeRules): Wallet {
  const day = currentDay(now, rules.timeZone);
  return wallet.free.day === day ? wallet : { ...wallet, free: { day, used: 0 } };
}

/** Free generations left today from the daily quota (reservations count as used). */
export function freeLeftToday(wallet: Wallet, now: number, rules: FreeRules): number {
  const today = onToday(wallet, now, rules);
  let reserved = 0;
  for (const reservation of Object.values(today.freeReserved)) {
    if (reservation.source === "daily" && reservation.day === today.free.day) reserved++;
  }
  return Math.max(0, rules.dailyLimit - today.free.used - reserved);
}

/** Reserves one free generation for `jobId`: today's quota first, then the bank. */
export function reserveFree(wallet: Wallet, jobId: string, now: number, rules: FreeRules): FreeOutcome {
  if (wallet.freeReserved[jobId] !== undefined) return { ok: false, refusal: { code: "already_reserved" } };
  const today = onToday(wallet, now, rules);
  const source = freeLeftToday(today, now, rules) > 0 ? "daily" : today.bank > 0 ? "bank" : undefined;
  if (source === undefined) {
    return { ok: false, refusal: { code: "quota_exhausted", renewsAt: nextDayStart(now, rules.timeZone) } };
  }
  return {
    ok: true,
    source,
    wallet: {
      ...today,
      bank: source === "bank" ? today.bank - 1 : today.bank,
      freeReserved: { ...today.freeReserved, [jobId]: { source, day: today.free.day } },
    },
  };
}

/**
 * Settles a job's reservation: `used` counts it (on the day it was
 * reserved), `released` gives it back. A job without a reservation is
 * returned unchanged, so repeats are no-ops.
 */
export function settleFree(
  wallet: Wallet,
  jobId: string,
  outcome: "used" | "released",
  now: number,
  rules: FreeRules,
): Wallet {
  const reservation = wallet.freeReserved[jobId];
  if (reservation === undefined) return wallet;
  const { [jobId]: _gone, ...freeReserved } = wallet.freeReserved;
  const today = onToday({ ...wallet, freeReserved }, now, rules);
  if (outcome === "released") {
    return reservation.source === "bank" ? { ...today, bank: today.bank + 1 } : today;
  }
  // A daily reservation counts towards its own day; yesterday's no longer limits today.
  if (reservation.source === "daily" && reservation.day === today.free.day) {
    return { ...today, free: { ...today.free, used: today.free.used + 1 } };
  }
  return today;
}
