/**
 * The user actor's job core under any interleaving of top-ups, confirmations,
 * submissions, successes, failures, timeouts, cancels, duplicate messages,
 * deliveries and resumes by another instance: the balance is always credits minus captures, available
 * money never goes negative, free generations never exceed the quota, and
 * each job is settled once.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KvWrite } from "../actors/mod.ts";
import { cancelJob, type JobMessage, receiveJobMessage } from "../src/bot/job-core.ts";
import { initialUserState, type UserState } from "../src/bot/state.ts";
import { DEFAULT_DEADLINES } from "../src/jobs/job.ts";
import { freeLeftToday } from "../src/ledger/free-quota.ts";
import { applyEntry } from "../src/ledger/ledger.ts";
import { availableOf } from "../src/ledger/wallet.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const RULES = testUserRules({ free: { dailyLimit: 2, timeZone: "Europe/Moscow" } });

type Step =
  | { readonly op: "credit"; readonly amount: number }
  | { readonly op: "confirm"; readonly price: number; readonly free: boolean; readonly presses: number }
  | { readonly op: "submit" | "succeed" | "fail" | "timeout" | "cancel" | "deliver" | "poll"; readonly job: number }
  | { readonly op: "tick"; readonly ms: number }
  /** Another instance starts and resumes; the one that made the jobs may still be alive. */
  | { readonly op: "restart"; readonly firstAlive: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("credit" as const), amount: fc.integer({ min: 1, max: 50_000 }) }),
  fc.record({
    op: fc.constant("confirm" as const),
    price: fc.integer({ min: 1, max: 30_000 }),
    free: fc.boolean(),
    presses: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    op: fc.constantFrom("submit", "succeed", "fail", "timeout", "cancel", "deliver", "poll"),
    job: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 1_000, max: 12 * 3_600_000 }) }),
  fc.record({ op: fc.constant("restart" as const), firstAlive: fc.boolean() }),
);

describe("job core invariants", () => {
  it("keep the money and the free quota right under any interleaving", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let state: UserState = initialUserState("en");
        let now = Date.UTC(2026, 10, 25, 9);
        let credits = 0;
        let captures = 0;
        let wizards = 0;
        const settled = new Map<string, number>();
        const ids: string[] = [];
        const apply = (message: JobMessage) => {
          const turn = receiveJobMessage(state, message, { userId: 1, now, rules: RULES });
          state = turn.state;
          for (const write of turn.writes ?? []) record(write);
        };
        const record = (write: KvWrite) => {
          if (write.op !== "set" || write.key[0] !== "ledger") return;
          const entry = (write.value as { entry: { type: string; jobId?: string }; amount: number }).entry;
          if (entry.type === "capture") captures += (write.value as { amount: number }).amount;
          if ((entry.type === "capture" || entry.type === "release") && entry.jobId) {
            settled.set(entry.jobId, (settled.get(entry.jobId) ?? 0) + 1);
          }
        };
        for (const next of steps) {
          const id =
            ids[
              next.op === "credit" || next.op === "confirm" || next.op === "tick" || next.op === "restart"
                ? 0
                : next.job % Math.max(1, ids.length)
            ];
          switch (next.op) {
            case "credit": {
              const applied = applyEntry(
                state.wallet,
                { type: "credit", key: `c${credits}-${now}`, amount: next.amount, reason: "test" },
                now,
              );
              if (applied.ok) {
                state = { ...state, wallet: applied.wallet };
                credits += next.amount;
              }
              break;
            }
            case "confirm": {
              const wizardId = `w${wizards++}`;
              // The Generate press: its order waits for the price.
              state = {
                ...state,
                ordering: wizardId,
                wizard: {
                  id: wizardId,
                  modelId: "m",
                  page: 0,
                  steps: [],
                  optional: [],
                  step: 0,
                  values: {},
                  media: {},
                  inParams: false,
                },
              };
              ids.push(wizardId);
              // Several presses of one Generate button: their quotes all arrive.
              for (let press = 0; press < next.presses; press++) {
                apply({
                  type: "quoted",
                  wizardId,
                  target: { chatId: 1 },
                  quote: { ok: true, kopecks: next.price, free: next.free, output: "image" },
                });
              }
              break;
            }
            case "tick":
              now += next.ms;
              break;
            case "restart": {
              const live = next.firstAlive ? [RULES.instanceId, "instance-b"] : ["instance-b"];
              for (let copy = 0; copy < 2; copy++) {
                const rules = { ...RULES, instanceId: "instance-b" };
                const turn = receiveJobMessage(state, { type: "resume", live }, { userId: 1, now, rules });
                state = turn.state;
                for (const write of turn.writes ?? []) record(write);
              }
              break;
            }
            default: {
              if (id === undefined) break;
              const message = messageFor(next.op, id, state.jobs[id]?.polls ?? 0);
              if (next.op === "timeout") now += DEFAULT_DEADLINES.image + 1;
              if (message === undefined) {
                // A second press of Cancel finds the job finished and does nothing.
                for (let press = 0; press < 2; press++) {
                  const turn = cancelJob(state, id, { userId: 1, now, rules: RULES });
                  if (turn === undefined) continue;
                  state = turn.state;
                  for (const write of turn.writes ?? []) record(write);
                }
              } else {
                apply(message);
                apply(message); // every message may arrive twice
              }
            }
          }
          expect(state.wallet.balance).toBe(credits - captures);
          expect(availableOf(state.wallet)).toBeGreaterThanOrEqual(0);
          expect(freeLeftToday(state.wallet, now, RULES.free)).toBeGreaterThanOrEqual(0);
          expect(state.wallet.free.used).toBeLessThanOrEqual(RULES.free.dailyLimit);
          for (const count of settled.values()) expect(count).toBe(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** The message a step sends to the core (Cancel is a button: `undefined`, handled apart). */
function messageFor(op: string, jobId: string, polls: number): JobMessage | undefined {
  switch (op) {
    case "submit":
      return { type: "submitted", jobId, taskId: `t-${jobId}`, family: "market" };
    case "succeed":
      return {
        type: "status",
        jobId,
        via: "callback",
        seq: 0,
        status: { state: "succeeded", urls: ["https://x/a.png"] },
      };
    case "fail":
      return { type: "status", jobId, via: "poll", seq: polls, status: { state: "failed", failCode: "500" } };
    case "timeout":
    case "poll":
      return { type: "poll", jobId, seq: polls };
    case "deliver":
      return { type: "delivered", jobId };
    default:
      return undefined;
  }
}
