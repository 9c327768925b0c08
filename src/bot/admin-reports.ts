/**
 * What /stats and /user show an admin, read from KV in pages (never the
 * whole keyspace at once) and rendered as plain text. Read-only: these
 * reports change nothing.
 *
 * /stats also reconciles the ledger with the payment and refund records,
 * per provider: what was paid against what was credited, what was refunded
 * against what was debited, and the first few ids that do not match.
 *
 * And it shows the margins of today and of the last 7 days, per model and
 * in total: generations, revenue (kopecks captured, less what was given
 * back), KIE's cost in credits and in rubles (credits × `KOPECKS_PER_CREDIT`)
 * and the margin, from the jobs' cost records (`src/jobs/cost.ts` says
 * which jobs count: a generation is a job that succeeded, free ones at
 * their cost with no revenue; a failed job counts nothing unless KIE
 * charged for it; canceled and timed-out ones are counted apart).
 */
import { z } from "zod";
import type { HostServices } from "../../actors/mod.ts";
import { costKopecks, type Pricing } from "../../catalog/pricing.ts";
import { eachJobCost, type JobCost, RECENT_DAYS } from "../jobs/cost.ts";
import { HistoryEntry, historyPageSeqs } from "../jobs/history.ts";
import { historyKey } from "../jobs/keys.ts";
import { dayOf } from "../ledger/day.ts";
import { availableOf } from "../ledger/wallet.ts";
import type { KvKey } from "../platform/types.ts";
import { cutText, htmlLength, TELEGRAM_LIMITS } from "../telegram/text.ts";
import type { Lang, Translate } from "./i18n.ts";
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

/** The payment providers the ledger is reconciled with. */
const PROVIDERS = ["stars", "yookassa"] as const;
type Provider = (typeof PROVIDERS)[number];

/** How many ids a mismatch list shows, and how much of each: the reply stays within Telegram's 4096 characters. */
const LISTED_IDS = 5;
const SHOWN_ID_CHARS = 40;

/** A count and the kopecks it adds up to. */
export interface Tally {
  count: number;
  kopecks: number;
}

/** The ids of a mismatch: how many, and the first few (in key order). */
export interface IdSample {
  count: number;
  first: string[];
}

/** One provider's ledger against its payment and refund records. */
export interface ProviderReconciliation {
  /** Payment records that were paid (refunded ones included: their credit stays in the ledger). */
  paid: Tally;
  /** Ledger credits `<provider>:<payment id>`. */
  credited: Tally;
  paidNotCredited: IdSample;
  /** Credits with no paid payment record, or a second credit of one payment. */
  creditedNotPaid: IdSample;
  /** Refund records `done`. */
  refundsDone: Tally;
  /** Refunds whose debits (`refund:…`, `refund:…#n`) minus reverts (`revert:…`) are not zero. */
  refundDebits: Tally;
  /** Done refunds whose net debit is not the refunded amount (a debit missing, or one too many). */
  doneNotDebited: IdSample;
  /** Net debits of refunds that are neither done nor under way (failed, or no record). */
  debitedNotDone: IdSample;
  /** Refunds `debiting` or `refunding`, and `unknown` (the provider is asked again). */
  underWay: number;
  unknown: number;
}

/** One model's (or all models') generations, revenue and KIE cost over a period. */
export interface MarginLine {
  /** Jobs that succeeded (free ones included). */
  generations: number;
  /** Kopecks captured, less kopecks given back. */
  revenue: number;
  /** KIE credits of the jobs KIE charged for. */
  credits: number;
}

/** A period's margins: per model, and the jobs KIE may or may not have charged for (not in the models). */
export interface PeriodMargins {
  models: Record<string, MarginLine>;
  unknown: { count: number; credits: number };
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
  /** Margins of today (in the bot's time zone) and of the last {@link RECENT_DAYS} days. */
  margins: { today: PeriodMargins; week: PeriodMargins };
  reconciliation: Record<Provider, ProviderReconciliation>;
}

/** The fields of a payment record the reconciliation reads (the payment actor writes more). */
const PaymentFields = z.looseObject({ kopecks: z.number().int(), status: z.string() });
/** The fields of a refund record `["refund", "refund:<provider>:<payment id>"]` the reconciliation reads. */
const RefundFields = z.looseObject({
  provider: z.enum(PROVIDERS),
  paymentId: z.string(),
  kopecks: z.number().int(),
  status: z.string(),
});
/** The fields of a ledger record the reconciliation reads: the entry's key and the signed money that moved. */
const LedgerFields = z.looseObject({ amount: z.number().int(), entry: z.looseObject({ key: z.string() }) });

const CREDIT_KEY = /^(stars|yookassa):(.+)$/s;
/** A refund attempt's debit (`#n` from the second attempt on), or the credit that gave one back. */
const REFUND_DEBIT_KEY = /^(revert:)?(refund:(stars|yookassa):.+?)(?:#\d+)?$/s;
const PAID_STATUSES = new Set(["paid", "refunded"]);
const UNDER_WAY = new Set(["debiting", "refunding"]);

const emptyTally = (): Tally => ({ count: 0, kopecks: 0 });
const emptySample = (): IdSample => ({ count: 0, first: [] });

function note(sample: IdSample, id: string): void {
  sample.count++;
  if (sample.first.length < LISTED_IDS) sample.first.push(id);
}

function add(tally: Tally, kopecks: number): void {
  tally.count++;
  tally.kopecks += kopecks;
}

/**
 * Reconciles the ledger with the payment and refund records: three paged
 * scans (payments of both providers, refunds, the ledger); it keeps one
 * entry per paid payment and per refund in memory, never a page of values.
 * Revenue (payments still `paid`) is summed into `revenue` on the way.
 */
async function reconcile(
  scan: Scan,
  revenue: Record<string, number>,
): Promise<Record<Provider, ProviderReconciliation>> {
  const report = {} as Record<Provider, ProviderReconciliation>;
  const paid = {} as Record<Provider, Map<string, { credited: boolean }>>;
  for (const provider of PROVIDERS) {
    report[provider] = {
      paid: emptyTally(),
      credited: emptyTally(),
      paidNotCredited: emptySample(),
      creditedNotPaid: emptySample(),
      refundsDone: emptyTally(),
      refundDebits: emptyTally(),
      doneNotDebited: emptySample(),
      debitedNotDone: emptySample(),
      underWay: 0,
      unknown: 0,
    };
    paid[provider] = new Map();
    // Only these two prefixes: `["payment", "yookassa-attempt", …]` and others are different records.
    await eachEntry(scan, ["payment", provider], (key, value) => {
      const record = PaymentFields.safeParse(value);
      if (key.length !== 3 || !record.success || !PAID_STATUSES.has(record.data.status)) return;
      if (record.data.status === "paid") revenue[provider] = (revenue[provider] ?? 0) + record.data.kopecks;
      add(report[provider].paid, record.data.kopecks);
      paid[provider].set(String(key[2]), { credited: false });
    });
  }
  const refunds = new Map<string, z.infer<typeof RefundFields>>();
  await eachEntry(scan, ["refund"], (key, value) => {
    const record = RefundFields.safeParse(value);
    if (record.success) refunds.set(String(key[1]), record.data);
  });
  const netDebits = new Map<string, { provider: Provider; kopecks: number }>();
  await eachEntry(scan, ["ledger"], (_key, value) => {
    const record = LedgerFields.safeParse(value);
    if (!record.success) return;
    const { amount, entry } = record.data;
    const credit = CREDIT_KEY.exec(entry.key);
    if (credit) {
      const provider = credit[1] as Provider;
      const id = credit[2] ?? "";
      add(report[provider].credited, amount);
      const payment = paid[provider].get(id);
      if (payment === undefined || payment.credited) note(report[provider].creditedNotPaid, id);
      else payment.credited = true;
      return;
    }
    const refund = REFUND_DEBIT_KEY.exec(entry.key);
    if (refund) {
      const refundKey = refund[2] ?? "";
      const net = netDebits.get(refundKey) ?? { provider: refund[3] as Provider, kopecks: 0 };
      // A debit's amount is negative, a revert's positive: both move the net debit by -amount.
      netDebits.set(refundKey, { ...net, kopecks: net.kopecks - amount });
    }
  });
  for (const provider of PROVIDERS) {
    for (const [id, payment] of paid[provider]) if (!payment.credited) note(report[provider].paidNotCredited, id);
  }
  for (const [refundKey, refund] of refunds) {
    const line = report[refund.provider];
    const net = netDebits.get(refundKey)?.kopecks ?? 0;
    if (refund.status === "done") {
      add(line.refundsDone, refund.kopecks);
      if (net !== refund.kopecks) note(line.doneNotDebited, refund.paymentId);
    } else if (UNDER_WAY.has(refund.status)) line.underWay++;
    else if (refund.status === "unknown") line.unknown++;
    else if (net !== 0) note(line.debitedNotDone, refund.paymentId);
  }
  for (const [refundKey, net] of netDebits) {
    if (net.kopecks === 0) continue;
    add(report[net.provider].refundDebits, net.kopecks);
    if (!refunds.has(refundKey)) note(report[net.provider].debitedNotDone, refundKey.replace(/^refund:[a-z]+:/, ""));
  }
  return report;
}

const emptyPeriod = (): PeriodMargins => ({ models: {}, unknown: { count: 0, credits: 0 } });

/** Adds one job's cost record to a period's margins (which jobs count: `src/jobs/cost.ts`). */
function addCost(period: PeriodMargins, cost: JobCost): void {
  if (cost.kie === "unknown") {
    period.unknown.count++;
    period.unknown.credits += cost.credits ?? 0;
    return;
  }
  const succeeded = cost.outcome === "succeeded";
  if (!succeeded && cost.kie !== "billed") return;
  const line = period.models[cost.modelId] ?? { generations: 0, revenue: 0, credits: 0 };
  period.models[cost.modelId] = line;
  if (succeeded) {
    line.generations++;
    line.revenue += cost.charged - cost.refunded;
  }
  if (cost.kie === "billed") line.credits += cost.credits ?? 0;
}

/** The margins of today and of the last {@link RECENT_DAYS} days, from the job cost records of those days. */
async function collectMargins(scan: Scan, now: number, timeZone: string): Promise<Stats["margins"]> {
  const margins = { today: emptyPeriod(), week: emptyPeriod() };
  const today = dayOf(now, timeZone);
  // A job ordered "later" than now comes from an instance whose clock is ahead: it is today's.
  await eachJobCost(scan, now - RECENT_DAYS * 86_400_000 + 1, now + 3_600_000, (cost) => {
    addCost(margins.week, cost);
    if (cost.createdAt > now || dayOf(cost.createdAt, timeZone) === today) addCost(margins.today, cost);
  });
  return margins;
}

/**
 * Counts users, generations (from the histories), revenue by provider, free
 * generations used today and the margins of today and the last 7 days, and
 * reconciles the ledger.
 */
export async function collectStats(scan: Scan, now: number, timeZone: string): Promise<Stats> {
  const stats: Omit<Stats, "reconciliation" | "margins"> = {
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
  const margins = await collectMargins(scan, now, timeZone);
  return { ...stats, margins, reconciliation: await reconcile(scan, stats.revenue) };
}

/** A mismatch list's line: its count, the first few ids (cut, escaped) and how many more there are. */
function sampleLine(t: Translate, lang: Lang, key: string, sample: IdSample): string[] {
  if (sample.count === 0) return [];
  const ids = sample.first.map((id) => escapeHtml(cutText(id, SHOWN_ID_CHARS)));
  const more = sample.count - sample.first.length;
  if (more > 0) ids.push(t(lang, "stats-more", { n: String(more) }));
  return [`  ${t(lang, key, { count: String(sample.count), ids: ids.join(", ") })}`];
}

function reconciliationLines(report: ProviderReconciliation, t: Translate, lang: Lang): string[] {
  const rub = (kopecks: number) => formatRub(kopecks, lang);
  const lists = [
    ...sampleLine(t, lang, "stats-paid-not-credited", report.paidNotCredited),
    ...sampleLine(t, lang, "stats-credited-not-paid", report.creditedNotPaid),
    ...sampleLine(t, lang, "stats-done-not-debited", report.doneNotDebited),
    ...sampleLine(t, lang, "stats-debited-not-done", report.debitedNotDone),
  ];
  return [
    `  ${t(lang, "stats-credits", {
      paid: String(report.paid.count),
      paidSum: rub(report.paid.kopecks),
      credited: String(report.credited.count),
      creditedSum: rub(report.credited.kopecks),
      difference: rub(report.paid.kopecks - report.credited.kopecks),
    })}`,
    `  ${t(lang, "stats-refunds", {
      done: String(report.refundsDone.count),
      doneSum: rub(report.refundsDone.kopecks),
      debited: String(report.refundDebits.count),
      debitedSum: rub(report.refundDebits.kopecks),
      difference: rub(report.refundsDone.kopecks - report.refundDebits.kopecks),
    })}`,
    `  ${t(lang, "stats-refunds-open", { underWay: String(report.underWay), unknown: String(report.unknown) })}`,
    ...(lists.length > 0 ? lists : [`  ${t(lang, "stats-all-match")}`]),
  ];
}

/** Models each margin section lists at most (by revenue); the rest are "N more". Fewer when the reply would not fit. */
const MARGIN_MODELS = { today: 5, week: 10 } as const;

const numberFormat = (lang: Lang, digits: number) =>
  new Intl.NumberFormat(lang === "ru" ? "ru-RU" : "en-US", { maximumFractionDigits: digits });

/** The arguments of a margin line: counts, revenue, KIE's cost in credits and rubles, and the margin. */
function marginArgs(line: MarginLine, lang: Lang, pricing: Pricing): Record<string, string> {
  const cost = Math.round(costKopecks(line.credits, pricing));
  const margin = line.revenue - cost;
  return {
    generations: String(line.generations),
    revenue: formatRub(line.revenue, lang),
    credits: numberFormat(lang, 2).format(line.credits),
    cost: formatRub(cost, lang),
    margin: formatRub(margin, lang),
    // No revenue (free generations only, or none): no share to show.
    percent: line.revenue > 0 ? percentOf(margin, line.revenue, lang) : "—",
  };
}

/** The margin's share of the revenue, one decimal, with the sign `formatRub` uses ("−12.5%"). */
function percentOf(margin: number, revenue: number, lang: Lang): string {
  const share = numberFormat(lang, 1).format(Math.abs((margin / revenue) * 100));
  return `${margin < 0 && share !== "0" ? "−" : ""}${share}%`;
}

/** Highest revenue first, then highest cost, then by id. */
function byRevenue(a: [string, MarginLine], b: [string, MarginLine]): number {
  return b[1].revenue - a[1].revenue || b[1].credits - a[1].credits || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** One period's margins: its title, the total, the first `shown` models by revenue, "N more", and the unknown jobs. */
function marginLines(
  period: PeriodMargins,
  title: string,
  shown: number,
  t: Translate,
  lang: Lang,
  pricing: Pricing,
): string[] {
  const models = Object.entries(period.models).sort(byRevenue);
  const total = models.reduce<MarginLine>(
    (sum, [, line]) => ({
      generations: sum.generations + line.generations,
      revenue: sum.revenue + line.revenue,
      credits: sum.credits + line.credits,
    }),
    { generations: 0, revenue: 0, credits: 0 },
  );
  const lines = [`<b>${t(lang, title)}</b>`, t(lang, "stats-margin-total", marginArgs(total, lang, pricing))];
  for (const [model, line] of models.slice(0, shown)) {
    const name = escapeHtml(cutText(model, SHOWN_ID_CHARS));
    lines.push(`  ${t(lang, "stats-margin-model", { model: name, ...marginArgs(line, lang, pricing) })}`);
  }
  if (models.length > shown) lines.push(`  … ${t(lang, "stats-more", { n: String(models.length - shown) })}`);
  if (period.unknown.count > 0) {
    lines.push(
      t(lang, "stats-margin-unknown", {
        count: String(period.unknown.count),
        credits: numberFormat(lang, 2).format(period.unknown.credits),
      }),
    );
  }
  return lines;
}

/**
 * /stats as text (HTML), in the admin's language. Its length is bounded: at
 * most 10 models of all time, per provider four lists of {@link LISTED_IDS}
 * ids of {@link SHOWN_ID_CHARS} characters each (tests/admin.reconciliation.test.ts
 * sends the worst case), and the margins of {@link MARGIN_MODELS} models, fewer
 * when the whole would pass Telegram's 4096 characters (tests/admin.margins.test.ts).
 */
export function statsText(
  stats: Stats,
  kieCredits: number | undefined,
  t: Translate,
  lang: Lang,
  pricing: Pricing,
): string {
  let shown: { today: number; week: number } = { ...MARGIN_MODELS };
  for (;;) {
    const text = statsLines(stats, kieCredits, t, lang, pricing, shown);
    if (htmlLength(text) <= TELEGRAM_LIMITS.messageText || shown.today + shown.week === 0) return text;
    shown = shown.week >= shown.today ? { ...shown, week: shown.week - 1 } : { ...shown, today: shown.today - 1 };
  }
}

function statsLines(
  stats: Stats,
  kieCredits: number | undefined,
  t: Translate,
  lang: Lang,
  pricing: Pricing,
  shown: { readonly today: number; readonly week: number },
): string {
  const none = t(lang, "stats-none");
  const top = Object.entries(stats.models)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([model, count]) => `  ${escapeHtml(cutText(model, SHOWN_ID_CHARS))}: ${count}`);
  const jobs = Object.entries(stats.jobs).map(([state, count]) => `${escapeHtml(state)} ${count}`);
  const revenue = Object.entries(stats.revenue).map(
    ([provider, kopecks]) => `${escapeHtml(provider)} ${formatRub(kopecks, lang)}`,
  );
  return [
    `<b>${t(lang, "stats-title")}</b>`,
    t(lang, "stats-users", {
      users: String(stats.users),
      today: String(stats.activeToday),
      week: String(stats.active7Days),
      blocked: String(stats.blocked),
    }),
    t(lang, "stats-generations", { jobs: jobs.join(", ") || none }),
    ...(top.length > 0 ? [t(lang, "stats-top-models"), ...top] : []),
    t(lang, "stats-revenue", { revenue: revenue.join(", ") || none }),
    t(lang, "stats-free-today", { n: String(stats.freeUsedToday) }),
    t(lang, "stats-kie-credits", {
      credits: kieCredits === undefined ? t(lang, "stats-unavailable") : String(kieCredits),
    }),
    "",
    ...marginLines(stats.margins.today, "stats-margin-today", shown.today, t, lang, pricing),
    "",
    ...marginLines(stats.margins.week, "stats-margin-week", shown.week, t, lang, pricing),
    "",
    `<b>${t(lang, "stats-reconciliation")}</b>`,
    ...PROVIDERS.flatMap((provider) => [
      t(lang, `stats-provider-${provider}`),
      ...reconciliationLines(stats.reconciliation[provider], t, lang),
    ]),
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
