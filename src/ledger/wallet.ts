/**
 * A user's money and free generations, kept in the user actor's state.
 * Amounts are integer kopecks. `available = balance - active holds` is never
 * negative; every change is a ledger entry with an idempotency key (see
 * `ledger.ts`, `free-quota.ts`).
 */
import { z } from "zod";

const Kopecks = z.number().int();

/** Money set aside for a job until it succeeds (capture) or not (release). */
export const Hold = z.object({ amount: Kopecks.positive(), at: z.number() });

/** A free generation reserved for a job: from today's quota or from the referral bank. */
export const FreeReservation = z.object({ source: z.enum(["daily", "bank"]), day: z.string() });

export const Wallet = z.object({
  balance: Kopecks.nonnegative(),
  holds: z.record(z.string(), Hold),
  /** Free generations used on `day` (a calendar day in the configured time zone). */
  free: z.object({ day: z.string(), used: z.number().int().nonnegative() }),
  freeReserved: z.record(z.string(), FreeReservation),
  /** Free generations earned by referrals, used after the daily quota. */
  bank: z.number().int().nonnegative(),
  /**
   * Idempotency keys of the latest entries, newest last. Entries tied to a
   * job are also guarded by the job's own record; credits by the payment's.
   */
  recentKeys: z.array(z.string()),
});
export type Wallet = z.infer<typeof Wallet>;

/** How many idempotency keys a wallet remembers. */
export const RECENT_KEYS = 200;

export function emptyWallet(): Wallet {
  return { balance: 0, holds: {}, free: { day: "", used: 0 }, freeReserved: {}, bank: 0, recentKeys: [] };
}

/** Balance minus active holds: what a new hold may take. */
export function availableOf(wallet: Wallet): number {
  let held = 0;
  for (const hold of Object.values(wallet.holds)) held += hold.amount;
  return wallet.balance - held;
}
