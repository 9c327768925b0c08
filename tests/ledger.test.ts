import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currentDay, dayOf, nextDayStart } from "../src/ledger/day.ts";
import { freeLeftToday, reserveFree, settleFree } from "../src/ledger/free-quota.ts";
import { applyEntry, type LedgerEntry } from "../src/ledger/ledger.ts";
import { availableOf, emptyWallet, type Wallet } from "../src/ledger/wallet.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0); // 15:00 in Moscow
const rules = { dailyLimit: 5, timeZone: "Europe/Moscow" };

function apply(wallet: Wallet, entry: LedgerEntry): Wallet {
  const outcome = applyEntry(wallet, entry, NOW);
  if (!outcome.ok) throw new Error(`refused: ${outcome.refusal.code}`);
  return outcome.wallet;
}

describe("ledger", () => {
  it("holds, captures and releases: available = balance - holds, capture moves the hold out of the balance", () => {
    let wallet = apply(emptyWallet(), { type: "credit", key: "pay:1", amount: 10_000, reason: "top-up" });
    wallet = apply(wallet, { type: "hold", key: "hold:a", jobId: "a", amount: 3_000, reason: "job a" });
    wallet = apply(wallet, { type: "hold", key: "hold:b", jobId: "b", amount: 2_000, reason: "job b" });
    expect([wallet.balance, availableOf(wallet)]).toEqual([10_000, 5_000]);
    wallet = apply(wallet, { type: "capture", key: "capture:a", jobId: "a", reason: "job a done" });
    wallet = apply(wallet, { type: "release", key: "release:b", jobId: "b", reason: "job b failed" });
    expect([wallet.balance, availableOf(wallet)]).toEqual([7_000, 7_000]);
  });

  it("refuses a hold beyond the available money with the shortfall, and changes nothing", () => {
    const wallet = apply(emptyWallet(), { type: "credit", key: "pay:1", amount: 1_000, reason: "top-up" });
    const outcome = applyEntry(wallet, { type: "hold", key: "hold:a", jobId: "a", amount: 1_500, reason: "job" }, NOW);
    expect(outcome).toEqual({ ok: false, refusal: { code: "insufficient_funds", shortfall: 500 } });
  });

  it("applies an idempotency key once", () => {
    const wallet = apply(emptyWallet(), { type: "credit", key: "pay:1", amount: 1_000, reason: "top-up" });
    const again = applyEntry(wallet, { type: "credit", key: "pay:1", amount: 1_000, reason: "top-up" }, NOW);
    expect(again).toEqual({ ok: false, refusal: { code: "duplicate" } });
  });

  it("remembers its last 200 keys however long (Stars charge ids of 256 characters) in a few KiB", () => {
    const key = (i: number) => `stars:${String(i).padStart(256, "ж")}`;
    let wallet = emptyWallet();
    for (let i = 0; i < 200; i++) wallet = apply(wallet, { type: "credit", key: key(i), amount: 100, reason: "Stars" });
    expect(wallet.balance).toBe(20_000);
    // The oldest of the 200 is still known: paying it again changes nothing.
    const again = applyEntry(wallet, { type: "credit", key: key(0), amount: 100, reason: "Stars" }, NOW);
    expect(again).toEqual({ ok: false, refusal: { code: "duplicate" } });
    // Two keys that differ only past the kept head are still told apart.
    const other = applyEntry(wallet, { type: "credit", key: `${key(0)}x`, amount: 100, reason: "Stars" }, NOW);
    expect(other.ok).toBe(true);
    expect(wallet.recentKeys.join("").length).toBeLessThan(200 * 40);
  });

  it("refuses fractional, zero and negative money where it makes no sense", () => {
    const wallet = emptyWallet();
    for (const entry of [
      { type: "credit", key: "c1", amount: 10.5, reason: "x" },
      { type: "credit", key: "c2", amount: 0, reason: "x" },
      { type: "credit", key: "c3", amount: -5, reason: "x" },
      { type: "refund", key: "r1", amount: -5, reason: "x" },
    ] as const) {
      expect(applyEntry(wallet, entry, NOW)).toEqual({ ok: false, refusal: { code: "invalid_amount" } });
    }
  });

  it("keeps balance = credits - captures - refunds + adjustments and available >= 0 under any sequence", () => {
    const jobs = ["a", "b", "c"];
    const entry = fc.oneof(
      fc.record({ type: fc.constant("credit"), amount: fc.integer({ min: -100, max: 5_000 }) }),
      fc.record({
        type: fc.constant("hold"),
        jobId: fc.constantFrom(...jobs),
        amount: fc.integer({ min: 1, max: 4_000 }),
      }),
      fc.record({ type: fc.constantFrom("capture", "release"), jobId: fc.constantFrom(...jobs) }),
      fc.record({ type: fc.constant("refund"), amount: fc.integer({ min: 1, max: 3_000 }) }),
      fc.record({ type: fc.constant("adjustment"), amount: fc.integer({ min: -3_000, max: 3_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, fc.integer({ min: 0, max: 30 })), { maxLength: 80 }), (steps) => {
        let wallet = emptyWallet();
        let expected = 0;
        for (const [step, keyNumber] of steps) {
          const candidate = { ...step, key: `${step.type}:${keyNumber}`, reason: "property" } as LedgerEntry;
          const outcome = applyEntry(wallet, candidate, NOW);
          if (!outcome.ok) continue;
          if (candidate.type === "credit" || candidate.type === "adjustment") expected += candidate.amount;
          if (candidate.type === "refund") expected -= candidate.amount;
          if (candidate.type === "capture") expected -= outcome.record.amount;
          wallet = outcome.wallet;
          expect(outcome.record.balanceAfter).toBe(wallet.balance);
        }
        expect(wallet.balance).toBe(expected);
        expect(availableOf(wallet)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe("days in the configured zone", () => {
  it("answers the current day from memory exactly as formatting does, across midnights and zones", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("Europe/Moscow", "America/New_York", "Asia/Kolkata"),
        fc.array(fc.integer({ min: 0, max: 3 * 86_400_000 }), { minLength: 1, maxLength: 40 }),
        (zone, steps) => {
          let now = Date.UTC(2026, 2, 27, 20);
          for (const step of steps.sort((a, b) => a - b)) {
            const at = Date.UTC(2026, 2, 27, 20) + step;
            now = Math.max(now, at);
            const formatted = new Intl.DateTimeFormat("en-CA", {
              timeZone: zone,
              year: "numeric",
              month: "2-digit",
              day: "2-digit",
            }).format(now);
            expect(currentDay(now, zone)).toBe(formatted);
            expect(dayOf(now, zone)).toBe(formatted);
          }
        },
      ),
    );
    const lastMs = nextDayStart(NOW, "Europe/Moscow") - 1;
    expect(currentDay(lastMs, "Europe/Moscow")).toBe("2026-11-25");
    expect(currentDay(lastMs + 1, "Europe/Moscow")).toBe("2026-11-26");
  });
});

describe("free quota", () => {
  it("counts days in the configured time zone and renews at its midnight", () => {
    expect(dayOf(Date.UTC(2026, 10, 25, 20, 59), "Europe/Moscow")).toBe("2026-11-25");
    expect(dayOf(Date.UTC(2026, 10, 25, 21, 0), "Europe/Moscow")).toBe("2026-11-26");
    expect(nextDayStart(NOW, "Europe/Moscow")).toBe(Date.UTC(2026, 10, 25, 21, 0));
  });

  it("reserves from the daily quota, then the bank, then refuses with the renewal time", () => {
    let wallet: Wallet = { ...emptyWallet(), bank: 1 };
    for (let i = 0; i < 5; i++) {
      const outcome = reserveFree(wallet, `job${i}`, NOW, rules);
      expect(outcome.ok && outcome.source).toBe("daily");
      if (outcome.ok) wallet = outcome.wallet;
    }
    const fromBank = reserveFree(wallet, "job5", NOW, rules);
    expect(fromBank.ok && fromBank.source).toBe("bank");
    if (fromBank.ok) wallet = fromBank.wallet;
    expect(reserveFree(wallet, "job6", NOW, rules)).toEqual({
      ok: false,
      refusal: { code: "quota_exhausted", renewsAt: Date.UTC(2026, 10, 25, 21, 0) },
    });
    // A failed job gives its generation back; the next day starts with the whole quota.
    wallet = settleFree(wallet, "job5", "released", NOW, rules);
    expect(wallet.bank).toBe(1);
    expect(freeLeftToday(wallet, NOW + 86_400_000, rules)).toBe(5);
  });

  it("never lets reservations and uses of one day exceed the limit", () => {
    const op = fc.record({
      kind: fc.constantFrom("reserve", "used", "released"),
      job: fc.integer({ min: 0, max: 12 }),
      hours: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
        let wallet = emptyWallet();
        let now = NOW;
        for (const { kind, job, hours } of ops) {
          now += hours * 3_600_000;
          if (kind === "reserve") {
            const outcome = reserveFree(wallet, `j${job}`, now, rules);
            if (outcome.ok) wallet = outcome.wallet;
          } else {
            wallet = settleFree(wallet, `j${job}`, kind, now, rules);
          }
          expect(freeLeftToday(wallet, now, rules)).toBeGreaterThanOrEqual(0);
          const today = dayOf(now, rules.timeZone);
          const reservedToday = Object.values(wallet.freeReserved).filter(
            (reservation) => reservation.source === "daily" && reservation.day === today,
          ).length;
          const usedToday = wallet.free.day === today ? wallet.free.used : 0;
          expect(usedToday + reservedToday).toBeLessThanOrEqual(rules.dailyLimit);
        }
      }),
      { numRuns: 300 },
    );
  });
});
