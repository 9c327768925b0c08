/**
 * The bot's whole KV after the run, read once and grouped by user, in the
 * layout `src/` writes: user state under ["user", id] (wallet, jobs still
 * open, Stars payments not yet recorded), ledger records under ["ledger",
 * user, key], jobs under ["job", user, id], history under ["history",
 * user, n], the indexes ["open_job", user, id] and ["open_payment", user,
 * charge id], and the update inbox ["inbox", update id]. The payment
 * actor's records: its one value ["payment", "main"], Stars and YooKassa
 * payments ["payment", "stars" | "yookassa", id], card attempts
 * ["payment", "yookassa-attempt", id] and each user's open ones
 * ["payment", "yookassa-open", user], credits still owed ["payment",
 * "owed", credit key], refunds ["refund", key] and the open ones
 * ["refund-open", key]. Records with a schema in `src/` are read with it,
 * so one the bot could not read either shows up in `unreadable`.
 */
import v8 from "node:v8";
import type { z } from "zod";
import { initialUserState, restoreUserState, type UserState } from "../../src/bot/state.ts";
import { HistoryEntry } from "../../src/jobs/history.ts";
import { Job } from "../../src/jobs/job.ts";
import type { LedgerRecord } from "../../src/ledger/ledger.ts";
import { Credit, OWED_PREFIX, PaymentState } from "../../src/payments/payment-core.ts";
import { OPEN_REFUNDS_PREFIX, PaidRecord, Refund } from "../../src/payments/refund-core.ts";
import { OpenAttempts, YooAttempt } from "../../src/payments/yookassa-core.ts";
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

/** A YooKassa payment as the payment actor recorded it when it credited the payment (`attemptId` and more besides). */
export type YooPaymentRecord = z.infer<typeof PaidRecord>;

/** The payment actor's one value as KV stores it. */
export interface PaymentActorValue {
  readonly state: PaymentState;
  /** Its size as KV stores it (V8's serialization, as `tests/payments.budget.test.ts` measures it). */
  readonly bytes: number;
}

export interface KvState {
  readonly users: Map<number, UserRecords>;
  readonly starsPayments: Map<string, StarsPaymentRecord>;
  /**
   * Credits the payment actor still owes, by ledger key: its owed records,
   * and any credit still in its value (earlier versions kept them there).
   */
  readonly outbox: Record<string, unknown>;
  /** YooKassa payments the payment actor credited, by payment id. */
  readonly yookassaPayments: Map<string, YooPaymentRecord>;
  /** Card attempts, by attempt id. */
  readonly yookassaAttempts: Map<string, YooAttempt>;
  /** Each user's open card attempts (the index a press reads), by user. */
  readonly yookassaOpen: Map<number, OpenAttempts>;
  /** Refunds, by their key (`refund:<provider>:<payment id>`). */
  readonly refunds: Map<string, Refund>;
  /** The index of refunds not finished, by refund key. */
  readonly openRefunds: Map<string, unknown>;
  /** The payment actor's value (undefined when it never wrote one). */
  readonly paymentActor?: PaymentActorValue;
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
    const yookassaPayments = new Map<string, YooPaymentRecord>();
    for (const { key, value } of await listAll(kv, ["payment", "yookassa"])) {
      const record = parse(key, () => PaidRecord.parse(value));
      if (record !== undefined) yookassaPayments.set(String(key[2]), record);
    }
    const yookassaAttempts = new Map<string, YooAttempt>();
    for (const { key, value } of await listAll(kv, ["payment", "yookassa-attempt"])) {
      const attempt = parse(key, () => YooAttempt.parse(value));
      if (attempt !== undefined) yookassaAttempts.set(String(key[2]), attempt);
    }
    const yookassaOpen = new Map<number, OpenAttempts>();
    for (const { key, value } of await listAll(kv, ["payment", "yookassa-open"])) {
      const open = parse(key, () => OpenAttempts.parse(value));
      if (open !== undefined) yookassaOpen.set(Number(key[2]), open);
    }
    const refunds = new Map<string, Refund>();
    for (const { key, value } of await listAll(kv, ["refund"])) {
      const refund = parse(key, () => Refund.parse(value));
      if (refund !== undefined) refunds.set(String(key[1]), refund);
    }
    const openRefunds = new Map<string, unknown>();
    for (const { key, value } of await listAll(kv, [...OPEN_REFUNDS_PREFIX])) openRefunds.set(String(key[1]), value);

    const outbox: Record<string, unknown> = {};
    const main = await kv.get(["payment", "main"]);
    let paymentActor: PaymentActorValue | undefined;
    if (main.value !== null && main.value !== undefined) {
      const state = parse(["payment", "main"], () => PaymentState.parse(main.value));
      if (state !== undefined) {
        paymentActor = { state, bytes: v8.serialize(main.value).length };
        Object.assign(outbox, state.outbox);
      }
    }
    for (const { key, value } of await listAll(kv, OWED_PREFIX)) {
      const credit = parse(key, () => Credit.parse(value));
      outbox[String(key[2])] = credit ?? value;
    }
    const unhandledUpdates = (await listAll<{ done?: boolean }>(kv, ["inbox"]))
      .filter((entry) => entry.value.done === false)
      .map((entry) => Number(entry.key[1]));
    return {
      users,
      starsPayments,
      outbox,
      yookassaPayments,
      yookassaAttempts,
      yookassaOpen,
      refunds,
      openRefunds,
      ...(paymentActor === undefined ? {} : { paymentActor }),
      unhandledUpdates,
      unreadable,
    };
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
