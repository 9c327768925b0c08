/**
 * The bot's whole KV after the run, read once and grouped by user, in the
 * layout `src/` writes: user state under ["user", id] (wallet, jobs still
 * open, Stars payments not yet recorded), ledger records under ["ledger",
 * user, key], jobs under ["job", user, id], history under ["history",
 * user, n], Stars payments under ["payment", "stars", charge id], the
 * payment actor under ["payment", "main"] (its outbox of credits), the
 * indexes ["open_job", user, id] and ["open_payment", user, charge id],
 * and the update inbox ["inbox", update id].
 */
import { initialUserState, restoreUserState, type UserState } from "../../src/bot/state.ts";
import { HistoryEntry } from "../../src/jobs/history.ts";
import { Job } from "../../src/jobs/job.ts";
import type { LedgerRecord } from "../../src/ledger/ledger.ts";
import { listAll, withKv } from "./kv-read.ts";

/** Everything KV holds about one user. */
export interface UserRecords {
  /** The user's state; a new user's when KV has none (`stored` false). */
  readonly state: UserState;
  readonly stored: boolean;
  readonly ledger: Map<string, LedgerRecord>;
  readonly jobs: Map<string, Job>;
  readonly history: HistoryEntry[];
  readonly openJobs: string[];
  readonly openPayments: string[];
}

/** A Stars payment as the payment actor recorded it. */
export interface StarsPaymentRecord {
  readonly chargeId: string;
  readonly userId: number;
  readonly status: string;
  readonly kopecks?: number;
  readonly invoiceId: string;
}

export interface KvState {
  readonly users: Map<number, UserRecords>;
  readonly starsPayments: Map<string, StarsPaymentRecord>;
  /** Credits the payment actor still owes (its outbox), by ledger key. */
  readonly outbox: Record<string, unknown>;
  /** Update ids recorded in the inbox but never marked handled. */
  readonly unhandledUpdates: number[];
  /** Entries that did not parse (a schema the run does not know), with the reason. */
  readonly unreadable: { key: string; problem: string }[];
}

export async function readKvState(kvPath: string): Promise<KvState> {
  return await withKv(kvPath, async (kv) => {
    const users = new Map<number, UserRecords>();
    const unreadable: KvState["unreadable"] = [];
    const recordsOf = (userId: number): UserRecords => {
      let records = users.get(userId);
      if (records === undefined) {
        records = {
          state: initialUserState("en"),
          stored: false,
          ledger: new Map(),
          jobs: new Map(),
          history: [],
          openJobs: [],
          openPayments: [],
        };
        users.set(userId, records);
      }
      return records;
    };
    const parse = <T>(key: readonly unknown[], read: () => T): T | undefined => {
      try {
        return read();
      } catch (error) {
        unreadable.push({ key: JSON.stringify(key), problem: String(error).slice(0, 300) });
        return undefined;
      }
    };

    for (const { key, value } of await listAll(kv, ["user"])) {
      const state = parse(key, () => restoreUserState(value));
      if (state !== undefined) users.set(Number(key[1]), { ...recordsOf(Number(key[1])), state, stored: true });
    }
    for (const { key, value } of await listAll<LedgerRecord>(kv, ["ledger"])) {
      recordsOf(Number(key[1])).ledger.set(String(key[2]), value);
    }
    for (const { key, value } of await listAll(kv, ["job"])) {
      const job = parse(key, () => Job.parse(value));
      if (job !== undefined) recordsOf(Number(key[1])).jobs.set(String(key[2]), job);
    }
    for (const { key, value } of await listAll(kv, ["history"])) {
      const entry = parse(key, () => HistoryEntry.parse(value));
      if (entry !== undefined) recordsOf(Number(key[1])).history.push(entry);
    }
    for (const { key } of await listAll(kv, ["open_job"])) recordsOf(Number(key[1])).openJobs.push(String(key[2]));
    for (const { key } of await listAll(kv, ["open_payment"])) {
      recordsOf(Number(key[1])).openPayments.push(String(key[2]));
    }

    const starsPayments = new Map<string, StarsPaymentRecord>();
    for (const { key, value } of await listAll<StarsPaymentRecord>(kv, ["payment", "stars"])) {
      starsPayments.set(String(key[2]), value);
    }
    const main = await kv.get<{ outbox?: Record<string, unknown> }>(["payment", "main"]);
    const unhandledUpdates = (await listAll<{ done?: boolean }>(kv, ["inbox"]))
      .filter((entry) => entry.value.done === false)
      .map((entry) => Number(entry.key[1]));
    return { users, starsPayments, outbox: main.value?.outbox ?? {}, unhandledUpdates, unreadable };
  });
}

/** The money a ledger record moved on the balance: credits, adjustments and refunds as signed, captures taken. */
export function balanceChangeOf(record: LedgerRecord): number {
  switch (record.entry.type) {
    case "credit":
    case "adjustment":
    case "refund":
      return record.amount;
    case "capture":
      return -record.amount;
    default:
      return 0;
  }
}
