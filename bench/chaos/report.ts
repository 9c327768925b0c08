/**
 * The run's results: written to `bench/results/chaos.json` (the short run:
 * `chaos.short.json`) and summed up on standard output. Violations are listed in full (with their evidence) in
 * the file and by invariant on the console.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import type { BadInputOutcome } from "./bad-inputs.ts";
import type { Violation } from "./invariants.ts";
import type { KvState } from "./kv-state.ts";
import type { ChaosSettings } from "./settings.ts";

export interface ChaosResults {
  readonly settings: ChaosSettings;
  readonly seconds: Record<string, number>;
  readonly cycles: {
    readonly run: number;
    readonly secondProcessRuns: number;
    readonly restartMs: readonly number[];
    /** When each SIGKILL was sent (wall-clock ms), to place the evidence of a violation. */
    readonly killedAt: readonly number[];
    /** When the second process was killed, or stopped at the end of the load. */
    readonly secondEndedAt: readonly number[];
  };
  readonly operations: Record<string, unknown>;
  readonly faults: Record<string, unknown>;
  readonly outcomes: Record<string, unknown>;
  readonly badInputs: readonly BadInputOutcome[];
  readonly violations: readonly Violation[];
  readonly botLog: Record<string, number>;
}

/** Final states of every job in KV (`delivered` split by what the user was told). */
export function jobOutcomes(kv: KvState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const records of kv.users.values()) {
    for (const job of records.jobs.values()) {
      const key = job.state === "delivered" ? `delivered_${job.outcome}` : job.state;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** Jobs that failed, by their failure code (what the faults turned into). */
export function failureCodes(kv: KvState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const records of kv.users.values()) {
    for (const job of records.jobs.values()) {
      if (job.failure === undefined) continue;
      counts[job.failure.code] = (counts[job.failure.code] ?? 0) + 1;
    }
  }
  return counts;
}

/** Ledger entries by type, over every user. */
export function ledgerEntries(kv: KvState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const records of kv.users.values()) {
    for (const key of records.ledger.keys()) {
      const kind = key.split(":")[0] ?? key;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  }
  return counts;
}

export function writeResults(results: ChaosResults): string {
  const byInvariant: Record<string, number> = {};
  for (const violation of results.violations) {
    byInvariant[violation.invariant] = (byInvariant[violation.invariant] ?? 0) + 1;
  }
  const badFailed = results.badInputs.filter((item) => !item.pass);
  const document = {
    benchmark: "chaos",
    date: new Date().toISOString(),
    machine: { runtime: `node ${process.version}`, cpus: cpus().length },
    mode: results.settings.short ? "short" : "full",
    seed: results.settings.seed,
    cycles: results.cycles,
    seconds: results.seconds,
    operations: results.operations,
    faultsInjected: results.faults,
    outcomes: results.outcomes,
    invariantViolations: { count: results.violations.length, byInvariant, list: results.violations },
    badInputs: {
      checked: results.badInputs.length,
      failed: badFailed.length,
      byKind: results.badInputs,
    },
    botLogWarnOrWorse: results.botLog,
    settings: results.settings,
  };
  mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
  // The short (CI) run keeps its own file: the full run's results stay as they were.
  const file = document.mode === "short" ? "chaos.short.json" : "chaos.json";
  writeFileSync(new URL(`../results/${file}`, import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
  return [
    `chaos (${document.mode}, seed ${results.settings.seed}): ${results.cycles.run} SIGKILL cycles, ${results.settings.users} users, ${Math.round(results.seconds.total ?? 0)} s`,
    `operations: ${JSON.stringify(results.operations)}`,
    `faults injected: ${JSON.stringify(results.faults)}`,
    `outcomes: ${JSON.stringify(results.outcomes)}`,
    `bad inputs: ${results.badInputs.length - badFailed.length}/${results.badInputs.length} passed${
      badFailed.length > 0
        ? `; failed: ${badFailed.map((item) => `${item.kind} (${item.problems.join("; ")})`).join(", ")}`
        : ""
    }`,
    `invariant violations: ${results.violations.length} ${JSON.stringify(byInvariant)}`,
    `written to bench/results/${file}`,
  ].join("\n");
}
