/**
 * What /stats and /user show an admin, read from KV in pages (never the
 * whole keyspace at once) and rendered as plain text. Read-only: these
 * reports change nothing.
 */
import type { HostServices } from "../../actors/mod.ts";
import { HistoryEntry, historyPageSeqs } from "../jobs/history.ts";
import { historyKey } from "../jobs/keys.ts";
import { dayOf } from "../ledger/day.ts";
import { availableOf } from "../ledger/wallet.ts";
import type { KvKey } from "../platform/types.ts";
import { formatRub } from "./money.ts";
import { escapeHtml } from "./render-parts.ts";
import { restoreUserState, type UserState } from "./state.ts";

type Scan = HostServices["scan"];
type Load = HostServices["loadMany"];

/** Calls `visit` for every entry under `prefix`, a page at a time. */
async function eachEntry(scan: Scan, prefix: KvKey, visit: (key: KvKey, value: unknown) => void): Promise<void> {
  let after: KvKey | undefined;
  for (;;) {
    const page = await scan(prefix, { limit: 500, ...(after ? { after } : {}) });
    for (const entry of page.entries) visit(entry.key, entry.value);
    if (page.next === undefined) return;
    after = page.next;
  }
}

/** The numbers of /stats. */
export interface Stats {
  users: number;
  activeToday: number;
  active7Days: number;
  blocked: number;
  freeUsedToday: number;
  jobs: Record<string, number>;
  models: Record<string, number>;
  revenue: Record<string, number>;
}

/** Counts users, generations (from the histories), revenue by provider and free generations used today. */
export async function collectStats(scan: Scan, now: number, timeZone: string): Promise<Stats> {
  const stats: Stats = {
    users: 0,
    activeToday: 0,
    active7Days: 0,
    blocked: 0,
    freeUsedToday: 0,
    jobs: {},
    models: {},
    revenue: {},
  };
  const today = dayOf(now, timeZone);
  await eachEntry(scan, ["user"], (_key, value) => {
    let state: UserState;
    try {
      state = restoreUserState(value);
    } catch {
      return;
    }
    stats.users++;
    if (dayOf(state.lastSeenAt, timeZone) === today) stats.activeToday++;
    if (now - state.lastSeenAt < 7 * 86_400_000) stats.active7Days++;
    if (state.blocked) stats.blocked++;
    if (state.wallet.free.day === today) stats.freeUsedToday += state.wallet.free.used;
  });
  await eachEntry(scan, ["history"], (_key, value) => {
    const entry = HistoryEntry.safeParse(value);
    if (!entry.success) return;
    stats.jobs[entry.data.state] = (stats.jobs[entry.data.state] ?? 0) + 1;
    stats.models[entry.data.modelId] = (stats.models[entry.data.modelId] ?? 0) + 1;
  });
  for (const provider of ["stars", "yookassa"]) {
    await eachEntry(scan, ["payment", provider], (_key, value) => {
      const record = value as { status?: unknown; kopecks?: unknown };
      if (record.status === "paid" && typeof record.kopecks === "number") {
        stats.revenue[provider] = (stats.revenue[provider] ?? 0) + record.kopecks;
      }
    });
  }
  return stats;
}

/** /stats as text (HTML). */
export function statsText(stats: Stats, kieCredits: number | undefined): string {
  const top = Object.entries(stats.models)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([model, count]) => `  ${escapeHtml(model)}: ${count}`);
  const jobs = Object.entries(stats.jobs).map(([state, count]) => `${state} ${count}`);
  const revenue = Object.entries(stats.revenue).map(([provider, kopecks]) => `${provider} ${formatRub(kopecks, "en")}`);
  return [
    "<b>Statistics</b>",
    `Users: ${stats.users} (active today ${stats.activeToday}, 7 days ${stats.active7Days}, blocked ${stats.blocked})`,
    `Generations: ${jobs.join(", ") || "none"}`,
    ...(top.length > 0 ? ["Top models:", ...top] : []),
    `Revenue: ${revenue.join(", ") || "none"}`,
    `Free generations used today: ${stats.freeUsedToday}`,
    `KIE credits: ${kieCredits === undefined ? "unavailable" : kieCredits}`,
  ].join("\n");
}

/** The user a /user query names: an id, or an @username the bot has seen. */
export async function resolveUser(load: Load, query: string): Promise<number | undefined> {
  if (/^\d{1,15}$/.test(query)) return Number(query);
  const name = query.replace(/^@/, "").toLowerCase();
  if (!/^[a-z0-9_]{3,32}$/.test(name)) return undefined;
  const [stored] = await load([["username", name]]);
  return typeof stored?.value === "number" ? stored.value : undefined;
}

/** /user as text (HTML): balance, state, the ledger's tail, open jobs and the latest history. */
export async function userReport(services: Pick<HostServices, "scan" | "loadMany">, userId: number): Promise<string> {
  const [stored] = await services.loadMany([["user", userId]]);
  if (stored?.value === null || stored?.value === undefined) return `No user ${userId}.`;
  const state = restoreUserState(stored.value);
  const ledger: { at: number; line: string }[] = [];
  const payments: string[] = [];
  await eachEntry(services.scan, ["ledger", userId], (key, value) => {
    const record = value as { at?: number; amount?: number; entry?: { type?: string; reason?: string } };
    const key2 = String(key[2]);
    if (/^(stars|yookassa|refund):/.test(key2)) {
      payments.push(
        `  ${escapeHtml(key2)} ${formatRub(record.amount ?? 0, "en")} ${new Date(record.at ?? 0).toISOString()}`,
      );
    }
    ledger.push({
      at: record.at ?? 0,
      line: `  ${record.entry?.type ?? "?"} ${formatRub(record.amount ?? 0, "en")} ${escapeHtml(String(key[2]))}: ${escapeHtml(record.entry?.reason ?? "")}`,
    });
  });
  const seqs = historyPageSeqs(state.historySeq, 0, 5);
  const history = (await services.loadMany(seqs.map((seq) => historyKey(userId, seq)))).flatMap((entry) => {
    const parsed = HistoryEntry.safeParse(entry.value);
    return parsed.success ? [`  #${parsed.data.seq} ${escapeHtml(parsed.data.modelId)} ${parsed.data.state}`] : [];
  });
  const open = Object.values(state.jobs).map((job) => `  ${job.id} ${escapeHtml(job.modelId)} ${job.state}`);
  return [
    `<b>User ${userId}</b>${state.username ? ` (@${escapeHtml(state.username)})` : ""}${state.blocked ? " — blocked" : ""}`,
    `Balance ${formatRub(state.wallet.balance, "en")}, available ${formatRub(availableOf(state.wallet), "en")}, referral bank ${state.wallet.bank}`,
    `Invited ${state.invited}; first seen ${new Date(state.firstSeenAt).toISOString()}`,
    "Ledger (latest):",
    ...ledger
      .sort((a, b) => b.at - a.at)
      .slice(0, 10)
      .map((entry) => entry.line),
    "Payments and refunds:",
    ...(payments.length > 0 ? payments : ["  none"]),
    "Open jobs:",
    ...(open.length > 0 ? open : ["  none"]),
    "History (latest):",
    ...(history.length > 0 ? history : ["  none"]),
  ].join("\n");
}
