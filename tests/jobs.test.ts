import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canMove, isActive, type Job, type JobState, pollDelayMs, settlementOf, transition } from "../src/jobs/job.ts";
import { freeLeftToday, reserveFree, settleFree } from "../src/ledger/free-quota.ts";
import { applyEntry } from "../src/ledger/ledger.ts";
import { availableOf, emptyWallet, type Wallet } from "../src/ledger/wallet.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0);
const rules = { dailyLimit: 5, timeZone: "Europe/Moscow" };

function job(id: string, charge: Job["charge"]): Job {
  return {
    id,
    userId: 42,
    chatId: 42,
    lang: "ru",
    modelId: "z-image",
    output: "image",
    polls: 0,
    charge,
    state: "created",
    createdAt: NOW,
    updatedAt: NOW,
    deadlineAt: NOW + 300_000,
  };
}

describe("job life cycle", () => {
  it("goes created -> submitted -> succeeded -> delivered and remembers the outcome", () => {
    let current = job("a", { kind: "money", amount: 900 });
    current = transition(current, "submitted", NOW + 1, { taskId: "task_a" });
    current = transition(current, "succeeded", NOW + 2, { resultChunks: 1 });
    current = transition(current, "delivered", NOW + 3);
    expect([current.state, current.outcome, current.taskId]).toEqual(["delivered", "succeeded", "task_a"]);
  });

  it("refuses a late success after a cancel, and anything after delivery", () => {
    const canceled = transition(job("b", { kind: "money", amount: 900 }), "canceled", NOW);
    expect(canMove(canceled, "succeeded")).toBe(false);
    expect(() => transition(canceled, "succeeded", NOW)).toThrow(
      expect.objectContaining({ code: "illegal_transition" }),
    );
    const delivered = transition(canceled, "delivered", NOW);
    expect(canMove(delivered, "delivered")).toBe(false);
  });

  it("captures on success and releases on failure, timeout and cancel, each once by key", () => {
    const created = job("c", { kind: "money", amount: 900 });
    const paid = transition(created, "submitted", NOW, { taskId: "task_c" });
    expect(settlementOf(transition(paid, "succeeded", NOW))).toMatchObject({
      kind: "ledger",
      entry: { type: "capture", key: "capture:c", jobId: "c" },
    });
    for (const state of ["failed", "timed_out", "canceled"] as const) {
      expect(settlementOf(transition(paid, state, NOW))).toMatchObject({
        entry: { type: "release", key: "release:c" },
      });
    }
    expect(settlementOf(transition(job("d", { kind: "free", source: "daily" }), "failed", NOW))).toEqual({
      kind: "free",
      outcome: "released",
    });
    expect(settlementOf(created)).toBeUndefined();
    expect(settlementOf(paid)).toBeUndefined();
  });

  it("polls after 3 s, backing off to at most a minute, with jitter", () => {
    expect(pollDelayMs(0, 1)).toBe(3_000);
    expect(pollDelayMs(0, 0)).toBe(2_250);
    expect(pollDelayMs(10, 1)).toBe(60_000);
  });

  it("keeps balance = credits - captures, available >= 0, the quota within its limit and no hold without a live job", () => {
    const event = fc.record({
      kind: fc.constantFrom(
        "confirm",
        "submitted",
        "succeeded",
        "failed",
        "timed_out",
        "canceled",
        "delivered",
        "credit",
      ),
      job: fc.integer({ min: 0, max: 7 }),
      price: fc.integer({ min: 0, max: 2_000 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 120 }), (events) => {
        let wallet: Wallet = emptyWallet();
        const jobs = new Map<string, Job>();
        let credits = 0;
        let captures = 0;
        for (const { kind, job: n, price } of events) {
          const id = `j${n}`;
          if (kind === "credit") {
            const outcome = applyEntry(
              wallet,
              { type: "credit", key: `pay${credits}-${price}`, amount: price + 1, reason: "t" },
              NOW,
            );
            if (outcome.ok) {
              wallet = outcome.wallet;
              credits += price + 1;
            }
            continue;
          }
          if (kind === "confirm") {
            if (jobs.has(id)) continue; // one job per confirmation token
            if (price === 0) {
              const reserved = reserveFree(wallet, id, NOW, rules);
              if (!reserved.ok) continue;
              wallet = reserved.wallet;
              jobs.set(id, job(id, { kind: "free", source: reserved.source }));
            } else {
              const held = applyEntry(
                wallet,
                { type: "hold", key: `hold:${id}`, jobId: id, amount: price, reason: "t" },
                NOW,
              );
              if (!held.ok) continue;
              wallet = held.wallet;
              jobs.set(id, job(id, { kind: "money", amount: price }));
            }
            continue;
          }
          const current = jobs.get(id);
          if (current === undefined || !canMove(current, kind as JobState)) continue;
          const next = transition(current, kind as JobState, NOW);
          const settlement = settlementOf(next);
          if (settlement?.kind === "ledger") {
            const applied = applyEntry(wallet, settlement.entry, NOW);
            expect(applied.ok).toBe(true);
            if (applied.ok) {
              wallet = applied.wallet;
              if (settlement.entry.type === "capture") captures += applied.record.amount;
            }
          } else if (settlement?.kind === "free") {
            wallet = settleFree(wallet, id, settlement.outcome, NOW, rules);
          }
          jobs.set(id, next);
        }
        expect(wallet.balance).toBe(credits - captures);
        expect(availableOf(wallet)).toBeGreaterThanOrEqual(0);
        expect(freeLeftToday(wallet, NOW, rules)).toBeGreaterThanOrEqual(0);
        for (const jobId of [...Object.keys(wallet.holds), ...Object.keys(wallet.freeReserved)]) {
          const owner = jobs.get(jobId);
          expect(owner !== undefined && isActive(owner)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
