/**
 * Driving generations end to end: the in-thread bot with msw for the Bot
 * API and KIE, users with money, orders brought to their confirmation, and
 * reads of what ended up in KV.
 */
import { setupServer } from "msw/node";
import type { InputPlan } from "../../catalog/plan.ts";
import { initialUserState, restoreUserState, type UserState } from "../../src/bot/state.ts";
import type { Prefill } from "../../src/bot/views.ts";
import { HistoryEntry } from "../../src/jobs/history.ts";
import { Job } from "../../src/jobs/job.ts";
import { ResultChunk } from "../../src/jobs/result.ts";
import { emptyWallet } from "../../src/ledger/wallet.ts";
import { platform } from "../../src/platform/mod.ts";
import type { KvStore } from "../../src/platform/types.ts";
import { type BotApiHooks, type BotCall, botApiHandlers, type startBot } from "./bot-harness.ts";
import { type FakeOutcome, type FakeTask, fakeKie } from "./fake-kie.ts";

/** Settings that keep job tests quick: polls every few tens of milliseconds. */
export const FAST_JOBS = { JOB_POLL_FIRST_SECONDS: "0.02" };

/** msw for the Bot API and KIE together. */
export function jobServer(
  calls: BotCall[],
  options: { outcome?: (task: FakeTask) => FakeOutcome; createDelayMs?: number; bot?: BotApiHooks } = {},
) {
  const kie = fakeKie(options);
  const server = setupServer(...botApiHandlers(calls, options.bot), ...kie.handlers);
  return { server, kie };
}

/** Writes a user's state before the bot starts (a user who topped up earlier). */
export async function seedUser(kvPath: string, userId: number, state: Partial<UserState>): Promise<void> {
  const kv = await platform.openKv({ kind: "file", path: kvPath });
  try {
    await kv
      .atomic()
      .set(["user", userId], { ...initialUserState("en"), starts: 1, ...state })
      .commit();
  } finally {
    kv.close();
  }
}

/** A wallet with `balance` kopecks and nothing held. */
export function walletWith(balance: number) {
  return { ...emptyWallet(), balance };
}

let nextWizard = 1;

/**
 * Brings a user to the confirmation of `modelId` with these answers, the
 * way Repeat does, and returns the Generate button's callback data.
 */
export async function orderFor(
  bot: Awaited<ReturnType<typeof startBot>>,
  userId: number,
  modelId: string,
  values: Prefill["values"],
  media: Prefill["media"] = {},
): Promise<string> {
  const plan = await bot.app.supervisor.ask<InputPlan>("catalog", "main", { type: "plan", modelId });
  if (!plan.ok) throw new Error(`no plan for ${modelId}`);
  const wizardId = `t${(nextWizard++).toString(36)}`;
  const prefill: Prefill = { values, media, at: "confirm" };
  const told = await bot.app.supervisor.ask("user", userId, {
    type: "plan",
    wizardId,
    modelId,
    page: 0,
    plan: plan.value,
    target: { chatId: userId },
    prefill,
  });
  if (!told.ok) throw new Error(`the order did not open: ${told.error.code} ${told.error.message}`);
  return `1|y|${wizardId}`;
}

/** The quote of an order, from the catalog actor (what the user is charged). */
export async function priceOf(
  bot: Awaited<ReturnType<typeof startBot>>,
  modelId: string,
  params: Record<string, unknown>,
): Promise<number> {
  const quote = await bot.app.supervisor.ask<{ ok: boolean; quote: { kopecks: number } }>("catalog", "main", {
    type: "quote",
    modelId,
    params,
  });
  if (!quote.ok || !quote.value.ok) throw new Error(`no price for ${modelId}`);
  return quote.value.quote.kopecks;
}

/** Waits until `check` holds (the bot works asynchronously after a press), up to `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the bot");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What KV holds for a user: state, jobs, history, result records and ledger entries. */
export async function userRecords(kv: KvStore, userId: number) {
  const stored = await kv.get(["user", userId]);
  const state = stored.value === null ? initialUserState() : restoreUserState(stored.value);
  const list = async (prefix: (string | number)[]) => {
    const out: { key: readonly unknown[]; value: unknown }[] = [];
    for await (const entry of kv.list({ prefix })) out.push({ key: entry.key, value: entry.value });
    return out;
  };
  const jobs = (await list(["job", userId])).map((entry) => Job.parse(entry.value));
  const history = (await list(["history", userId])).map((entry) => HistoryEntry.parse(entry.value));
  const ledger = (await list(["ledger", userId])).map(
    (entry) => entry.value as { entry: { type: string; key: string } },
  );
  const open = await list(["open_job", userId]);
  const results = (await list(["result", userId])).map((entry) => ({
    seq: Number(entry.key[2]),
    chunk: Number(entry.key[3]),
    ...ResultChunk.parse(entry.value),
  }));
  return { state, jobs, history, ledger, open, results };
}
