/**
 * The KIE balance alert: every admin is told once when KIE's balance falls
 * below `KIE_BALANCE_ALERT_DAYS` days of recent spend (the KIE credits of
 * the last 7 days' jobs, over 7: see `recentKieCredits`), and told again
 * only after the balance has recovered and falls once more.
 *
 * The balance is read on a timer, the way the card-payment reconciliation
 * and the refund settler run (a first check soon after the start, then one
 * every `KIE_BALANCE_CHECK_SECONDS`; the timers do not keep the process
 * alive). Every instance checks; KV decides. Whether the balance is low,
 * and which crossing below the threshold this is, is one record
 * (`KIE_BALANCE_ALERT`) moved only by an atomic commit that checks it did
 * not change meanwhile, so two instances that see the same fall make one
 * crossing. Each admin's message of a crossing has a record of its own
 * (`kieBalanceNoticeKey`: the idempotency key of that message), claimed by
 * an atomic commit before the message is sent and marked sent after it: a
 * restart, a second instance or the next check never send it again. A
 * message that failed (Telegram down) is tried again at the next checks, up
 * to {@link MAX_ATTEMPTS} times; one whose sender died between sending and
 * marking it is sent again once its claim is {@link CLAIM_MS} old (at least
 * once, never silence).
 */
import { z } from "zod";
import type { Log } from "../../actors/mod.ts";
import { RECENT_DAYS, recentKieCredits, type ScanPages } from "../jobs/cost.ts";
import { KIE_BALANCE_ALERT, KIE_BALANCE_NOTICE_TTL_MS, kieBalanceNoticeKey } from "../jobs/keys.ts";
import type { KvStore } from "../platform/types.ts";
import type { Lang, Translate } from "./i18n.ts";
import { restoreUserState } from "./state.ts";

/** What the watch needs. */
export interface KieBalanceWatchOptions {
  readonly kv: KvStore;
  /** Pages of a KV prefix (the store's scan): the job cost records of the last days. */
  readonly scan: ScanPages;
  /** KIE's balance in credits (`KieClient.credits`). */
  readonly balance: () => Promise<number>;
  /** Sends an admin a plain text message. */
  readonly send: (chatId: number, text: string) => Promise<void>;
  readonly t: Translate;
  readonly adminIds: readonly number[];
  /** Days of recent spend the balance must cover (0: no alert). */
  readonly days: number;
  /** How often the balance is read. */
  readonly everyMs: number;
  readonly now: () => number;
  readonly log: Log;
}

/** How soon after the start the first check runs. */
const FIRST_CHECK_MS = 5_000;

/** A balance counts as recovered only this far above the threshold: one that hovers at it does not alert at every check. */
export const RECOVERY_FACTOR = 1.1;

/** Tries of one admin's message of a crossing (an admin who blocked the bot is not asked for ever). */
export const MAX_ATTEMPTS = 5;

/** How long a claimed message counts as being sent by whoever claimed it. */
export const CLAIM_MS = 5 * 60_000;

/** The record under `KIE_BALANCE_ALERT`. */
const AlertState = z.object({
  low: z.boolean(),
  /** Crossings below the threshold so far; each one's messages are keyed by it. */
  crossing: z.number().int().nonnegative(),
  at: z.number(),
  balance: z.number(),
  threshold: z.number(),
});
type AlertState = z.infer<typeof AlertState>;

/** The record of one admin's message of a crossing. */
const AlertNotice = z.object({
  status: z.enum(["sending", "sent", "failed"]),
  at: z.number(),
  attempts: z.number().int().positive(),
});

/** What one check found. */
export interface BalanceReading {
  readonly balance: number;
  /** Credits a day over the last 7 days. */
  readonly daily: number;
  readonly threshold: number;
}

/**
 * Reads the recent spend and the balance once, moves the alert's record
 * when the balance crossed the threshold, and sends the messages of a
 * crossing that are not sent yet. Returns what it read (undefined when
 * the alert is off; the balance NaN when nothing was spent lately and KIE
 * was not asked).
 */
export async function checkKieBalance(options: KieBalanceWatchOptions): Promise<BalanceReading | undefined> {
  const { kv, days, log } = options;
  if (days <= 0 || options.adminIds.length === 0) return undefined;
  const now = options.now();
  const daily = (await recentKieCredits(options.scan, now)) / RECENT_DAYS;
  const threshold = daily * days;
  const entry = await kv.get(KIE_BALANCE_ALERT);
  const stored = AlertState.safeParse(entry.value);
  const state: AlertState = stored.success ? stored.data : { low: false, crossing: 0, at: 0, balance: 0, threshold: 0 };
  // Nothing spent lately and no alert standing: no balance is below that, and KIE is not asked.
  if (threshold === 0 && !state.low) return { balance: Number.NaN, daily, threshold };
  const balance = await options.balance();
  const reading = { balance, daily, threshold };
  const low = balance < threshold;
  if (!state.low && low) {
    const next: AlertState = {
      low: true,
      crossing: state.crossing + 1,
      at: now,
      balance,
      threshold: reading.threshold,
    };
    const moved = await kv
      .atomic()
      .check({ key: KIE_BALANCE_ALERT, versionstamp: entry.versionstamp })
      .set(KIE_BALANCE_ALERT, next)
      .commit();
    // Another instance recorded the fall first: the messages are its crossing's, sent by whoever claims them.
    if (!moved.ok) return reading;
    log.warn(
      { balance, threshold: reading.threshold, crossing: next.crossing },
      "the KIE balance fell below its alert",
    );
    await notifyAdmins(options, next.crossing, reading);
    return reading;
  }
  if (state.low && balance >= reading.threshold * RECOVERY_FACTOR) {
    const next: AlertState = { ...state, low: false, at: now, balance, threshold: reading.threshold };
    const moved = await kv
      .atomic()
      .check({ key: KIE_BALANCE_ALERT, versionstamp: entry.versionstamp })
      .set(KIE_BALANCE_ALERT, next)
      .commit();
    if (moved.ok) log.info({ balance, threshold: reading.threshold }, "the KIE balance recovered above its alert");
    return reading;
  }
  // Still low: the crossing's messages that did not go out yet (a send that failed, a sender that died).
  if (state.low) await notifyAdmins(options, state.crossing, reading);
  return reading;
}

/** Sends every admin the crossing's message, once each (see the module's comment). */
async function notifyAdmins(options: KieBalanceWatchOptions, crossing: number, reading: BalanceReading): Promise<void> {
  const { kv, log } = options;
  for (const adminId of options.adminIds) {
    const key = kieBalanceNoticeKey(crossing, adminId);
    const entry = await kv.get(key);
    const parsed = AlertNotice.safeParse(entry.value);
    const now = options.now();
    if (parsed.success) {
      const notice = parsed.data;
      if (notice.status === "sent") continue;
      if (notice.status === "sending" && now - notice.at < CLAIM_MS) continue;
      if (notice.attempts >= MAX_ATTEMPTS) continue;
    }
    const attempts = (parsed.success ? parsed.data.attempts : 0) + 1;
    const claimed = await kv
      .atomic()
      .check({ key, versionstamp: entry.versionstamp })
      .set(key, { status: "sending", at: now, attempts }, { expireIn: KIE_BALANCE_NOTICE_TTL_MS })
      .commit();
    if (!claimed.ok) continue;
    try {
      const lang = await adminLang(kv, adminId);
      await options.send(adminId, alertText(options.t, lang, options.days, reading));
      await kv
        .atomic()
        .set(key, { status: "sent", at: options.now(), attempts }, { expireIn: KIE_BALANCE_NOTICE_TTL_MS })
        .commit();
    } catch (error) {
      log.warn({ adminId, crossing, attempts, err: error }, "an admin was not told the KIE balance is low");
      await kv
        .atomic()
        .set(key, { status: "failed", at: options.now(), attempts }, { expireIn: KIE_BALANCE_NOTICE_TTL_MS })
        .commit();
    }
  }
}

/** The admin's language, as their user record has it (Russian, the bot's default, without one). */
async function adminLang(kv: KvStore, adminId: number): Promise<Lang> {
  const stored = await kv.get(["user", adminId]);
  if (stored.value === null) return "ru";
  try {
    return restoreUserState(stored.value).lang;
  } catch {
    return "ru";
  }
}

function alertText(t: Translate, lang: Lang, days: number, reading: BalanceReading): string {
  const format = new Intl.NumberFormat(lang === "ru" ? "ru-RU" : "en-US", { maximumFractionDigits: 2 });
  return t(lang, "kie-balance-low", {
    balance: format.format(reading.balance),
    days: format.format(days),
    daily: format.format(reading.daily),
    threshold: format.format(reading.threshold),
  });
}

/**
 * Checks the balance soon after the start and then every `everyMs`, one
 * check at a time, until `stop` (which waits for a check under way). Does
 * nothing when the alert is off.
 */
export function startKieBalanceWatch(options: KieBalanceWatchOptions): { stop(): Promise<void> } {
  if (options.days <= 0 || options.adminIds.length === 0) return { stop: async () => {} };
  let running: Promise<void> | undefined;
  let stopped = false;
  const check = () => {
    if (running !== undefined || stopped) return;
    running = checkKieBalance(options)
      .then(() => undefined)
      .catch((error: unknown) => options.log.warn({ err: error }, "the KIE balance was not checked"))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(check, Math.min(options.everyMs, FIRST_CHECK_MS));
  const every = setInterval(check, options.everyMs);
  (first as { unref?: () => void }).unref?.();
  (every as { unref?: () => void }).unref?.();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
