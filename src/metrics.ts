/**
 * Prometheus metrics of the main thread (`/metrics`): updates by type and
 * outcome and how long handing one to its actor took, counted as they
 * happen; actors, mailboxes, KV commit latency and open jobs, read from the
 * runtime when scraped, and the counters of the workers (KIE calls, jobs,
 * payments), summed over the workers that count them. prom-client does the
 * exposition format.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CounterSample } from "../actors/mod.ts";

/** What a scrape reads of one host. */
interface HostProbe {
  readonly resident: number;
  readonly queued: number;
  readonly failures: number;
  readonly counters: readonly CounterSample[];
}

/** The workers' counters that `/metrics` exposes, with their labels. */
const WORKER_COUNTERS = {
  kie_calls_total: {
    help: "KIE API calls by endpoint and outcome (ok or the error code)",
    labels: ["endpoint", "outcome"],
  },
  jobs_total: { help: "Jobs by the state they reached (created, then a final state)", labels: ["state"] },
  payments_total: { help: "Payment events by provider and outcome", labels: ["provider", "outcome"] },
} as const;

/** What a scrape reads from the runtime. */
export interface RuntimeProbe {
  /** Per worker group: resident actors, queued messages, failures and counters of each host. */
  hosts(): Promise<Record<string, readonly HostProbe[]>>;
  /** Latency of the store's atomic commits, in milliseconds. */
  commitLatency(): { p50: number; p99: number; max: number };
  /** The store's counts: actor saves committed, and the atomic commits (batches) that carried them. */
  commits(): { readonly commits: number; readonly batches: number; readonly conflicts: number; readonly inbox: number };
  /** Jobs not yet delivered. */
  openJobs(): Promise<number>;
}

/** The bot's metrics. */
export class BotMetrics {
  readonly registry = new Registry();
  readonly #updates = new Counter({
    name: "bot_updates_total",
    help: "Telegram updates by type and outcome (accepted, skipped, retry)",
    labelNames: ["type", "outcome"],
    registers: [this.registry],
  });
  readonly #handling = new Histogram({
    name: "bot_update_handover_seconds",
    help: "Time to hand an update to its user's actor",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  constructor(probe: RuntimeProbe) {
    const resident = new Gauge({
      name: "actors_resident",
      help: "Actors in memory",
      labelNames: ["group"],
      registers: [this.registry],
    });
    const queued = new Gauge({
      name: "mailbox_depth",
      help: "Messages waiting in mailboxes",
      labelNames: ["group"],
      registers: [this.registry],
    });
    const failures = new Gauge({
      name: "actor_failures",
      help: "Turns that failed since start",
      labelNames: ["group"],
      registers: [this.registry],
    });
    const commit = new Gauge({
      name: "kv_commit_latency_seconds",
      help: "Latency of recent KV commits",
      labelNames: ["quantile"],
      registers: [this.registry],
    });
    const jobs = new Gauge({ name: "jobs_open", help: "Jobs not yet delivered", registers: [this.registry] });
    const kvCommits = new Counter({
      name: "kv_commits_total",
      help: "Actor saves committed (save), the KV atomic commits that carried them (batch) or lost a check (conflict), and the update inbox's commits (inbox)",
      labelNames: ["kind"],
      registers: [this.registry],
    });
    const counters = new Map(
      Object.entries(WORKER_COUNTERS).map(([name, { help, labels }]) => [
        name,
        new Counter({ name, help, labelNames: labels, registers: [this.registry] }),
      ]),
    );
    this.#collect = async () => {
      const hosts = await probe.hosts();
      for (const counter of counters.values()) counter.reset();
      for (const sample of Object.values(hosts).flatMap((stats) => stats.flatMap((host) => host.counters))) {
        counters.get(sample.name)?.inc(sample.labels, sample.value);
      }
      for (const [group, stats] of Object.entries(hosts)) {
        resident.set(
          { group },
          stats.reduce((sum, host) => sum + host.resident, 0),
        );
        queued.set(
          { group },
          stats.reduce((sum, host) => sum + host.queued, 0),
        );
        failures.set(
          { group },
          stats.reduce((sum, host) => sum + host.failures, 0),
        );
      }
      const latency = probe.commitLatency();
      commit.set({ quantile: "0.5" }, latency.p50 / 1000);
      commit.set({ quantile: "0.99" }, latency.p99 / 1000);
      commit.set({ quantile: "1" }, latency.max / 1000);
      jobs.set(await probe.openJobs());
      const store = probe.commits();
      kvCommits.reset();
      kvCommits.inc({ kind: "save" }, store.commits);
      kvCommits.inc({ kind: "batch" }, store.batches);
      kvCommits.inc({ kind: "conflict" }, store.conflicts);
      kvCommits.inc({ kind: "inbox" }, store.inbox);
    };
  }

  readonly #collect: () => Promise<void>;

  /** Counts an update and how long its handover took. */
  update(type: string, outcome: string, seconds: number): void {
    this.#updates.inc({ type, outcome });
    this.#handling.observe(seconds);
  }

  /** The exposition text, with the runtime read now. */
  async render(): Promise<string> {
    await this.#collect();
    return await this.registry.metrics();
  }
}
