/**
 * A Generate press whose price never came back is asked again by its
 * queued look, and the look is queued again with each question, since a
 * second crash can take that question too; an order that can no longer be
 * placed is given up and the user told, never left in silence. The crash
 * suite found presses that made no job and told the user nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confirmOrder,
  MAX_ORDER_LOOKS,
  ORDER_CHECK_MS,
  type QuoteOutcome,
  receiveJobMessage,
  type UserContext,
  withOrderIndex,
} from "../src/bot/job-core.ts";
import { initialUserState, type UserState, type Wizard } from "../src/bot/state.ts";
import type { UserTurn } from "../src/bot/turn-parts.ts";
import { QueueMessage } from "../src/jobs/keys.ts";
import { emptyWallet } from "../src/ledger/wallet.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, sharedTelegram, startBot } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { FAST_JOBS, jobServer, orderFor, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const USER = 4_050_001;
const NOW = Date.UTC(2026, 11, 2, 12);
const ctx: UserContext = { userId: USER, now: NOW, rules: testUserRules() };
const TARGET = { chatId: USER, messageId: 78 };
const WIZARD: Wizard = {
  id: "w7q",
  modelId: "qwen/text-to-image",
  page: 0,
  steps: [{ kind: "prompt", field: "prompt" }],
  optional: [],
  step: 1,
  values: { prompt: "a fox in the snow" },
  media: {},
  inParams: false,
};
const PRICED: QuoteOutcome = { ok: true, kopecks: 314, free: false, output: "image" };
const atConfirmation: UserState = {
  ...initialUserState("en"),
  wallet: { ...emptyWallet(), balance: 100_000 },
  wizard: WIZARD,
};

function press(state: UserState = atConfirmation): UserTurn {
  const turn = confirmOrder(state, WIZARD, TARGET, ctx);
  if (typeof turn === "string") throw new Error(`refused: ${turn}`);
  return turn;
}

/** The order looks a turn queues, as the KV queue hands them back. */
function looksQueued(turn: UserTurn) {
  return (turn.writes ?? []).flatMap((write) => {
    if (write.op !== "enqueue") return [];
    const due = QueueMessage.parse(write.value);
    return due.t === "order" ? [{ due, delay: write.delay }] : [];
  });
}

/** The look the KV queue delivers for a queued one (as `listenForPolls` turns it into a message). */
function lookOf(queued: ReturnType<typeof looksQueued>[number]) {
  const { due } = queued;
  const target =
    due.messageId === undefined ? { chatId: due.chatId } : { chatId: due.chatId, messageId: due.messageId };
  return { type: "orderDue" as const, wizardId: due.wizardId, target, look: due.look ?? 0 };
}

describe("an order whose price never came back", () => {
  it("is asked for again at every look, and each look queues the next: a second crash loses nothing", () => {
    let state = press().state;
    let queued = looksQueued(press());
    for (let look = 0; look < 3; look++) {
      expect(queued).toHaveLength(1);
      // The price is lost to a crash each time: the look asks again, and queues the next look with it.
      const turn = receiveJobMessage(state, lookOf(queued[0]!), ctx);
      expect(turn.effects).toEqual([{ type: "quote", target: TARGET, lang: "en", wizard: WIZARD }]);
      expect(turn.state.ordering).toBe(WIZARD.id);
      queued = looksQueued(turn);
      expect(queued).toEqual([
        {
          due: { t: "order", userId: USER, wizardId: WIZARD.id, chatId: USER, messageId: 78, look: look + 1 },
          delay: ORDER_CHECK_MS,
        },
      ]);
      state = turn.state;
    }
    // The price comes back at last: one job, and the next look finds nothing to do.
    const quoted = receiveJobMessage(
      state,
      { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED },
      ctx,
    );
    expect(Object.keys(quoted.state.jobs)).toEqual([WIZARD.id]);
    const after = receiveJobMessage(quoted.state, lookOf(queued[0]!), ctx);
    expect(after.effects ?? []).toEqual([]);
    expect(looksQueued(after)).toEqual([]);
  });

  it("is given up at the last look, and the user told so on the order's screen, which stays to press again", () => {
    let state = press().state;
    let turn: UserTurn = press();
    for (let look = 0; look < MAX_ORDER_LOOKS; look++) {
      const queued = looksQueued(turn);
      expect(queued).toHaveLength(1);
      turn = receiveJobMessage(state, lookOf(queued[0]!), ctx);
      state = turn.state;
    }
    // Told before the commit that ends the order: a crash in between leaves it to the next look.
    expect(turn.effects ?? []).toEqual([]);
    expect(turn.immediate).toEqual([
      {
        type: "show",
        target: TARGET,
        lang: "en",
        view: { kind: "wizard", wizard: WIZARD },
        notice: { key: "order-not-placed" },
      },
    ]);
    expect(looksQueued(turn)).toEqual([]);
    expect(turn.state.ordering).toBeUndefined();
    expect(turn.state.wizard).toEqual(WIZARD);
    expect(turn.state.wallet).toEqual(atConfirmation.wallet);
  });

  it("refused when its price comes (too little money) tells the user before the commit that ends the order", () => {
    const poor = press({ ...atConfirmation, wallet: { ...emptyWallet(), balance: 100 } }).state;
    const refused = receiveJobMessage(
      poor,
      { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED },
      ctx,
    );
    expect(refused.state.ordering).toBeUndefined();
    expect(refused.state.jobs).toEqual({});
    // Before the commit: a crash between the two leaves `ordering` for the next look, which tells the user again.
    expect(refused.effects ?? []).toEqual([]);
    expect(refused.immediate).toEqual([
      {
        type: "show",
        target: TARGET,
        lang: "en",
        view: { kind: "shortfall", wizardId: WIZARD.id, shortfallKopecks: 214 },
      },
    ]);
  });

  it("that comes back after it was given up places nothing: the user was told nothing was charged", () => {
    let state = press().state;
    let turn: UserTurn = press();
    for (let look = 0; look < MAX_ORDER_LOOKS; look++) {
      turn = receiveJobMessage(state, lookOf(looksQueued(turn)[0]!), ctx);
      state = turn.state;
    }
    const late = receiveJobMessage(state, { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED }, ctx);
    expect(late.state.jobs).toEqual({});
    expect(late.state.wallet).toEqual(atConfirmation.wallet);
    expect(late.effects ?? []).toEqual([]);
  });

  it("replaced by a new order before its price came is not placed, and the user is told", () => {
    const waiting = { ...press().state, wizard: { ...WIZARD, id: "w8r" } };
    const next = confirmOrder(waiting, { ...WIZARD, id: "w8r" }, TARGET, ctx);
    if (typeof next === "string") throw new Error(`refused: ${next}`);
    expect(next.state.ordering).toBe("w8r");
    expect(next.effects?.[0]).toEqual({
      type: "show",
      target: { chatId: USER },
      lang: "en",
      view: { kind: "notice" },
      notice: { key: "order-not-placed" },
    });
    // The first order's price, when it comes, places nothing.
    const late = receiveJobMessage(
      next.state,
      { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED },
      ctx,
    );
    expect(late.state.jobs).toEqual({});
  });

  it("that comes back after the user left the wizard is not placed, and the user is told", () => {
    const left = { ...press().state, wizard: { ...WIZARD, id: "other" } };
    const quoted = receiveJobMessage(left, { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED }, ctx);
    expect(quoted.state.jobs).toEqual({});
    expect(quoted.state.ordering).toBeUndefined();
    expect(quoted.effects ?? []).toEqual([]);
    expect(quoted.immediate).toEqual([
      {
        type: "show",
        target: { chatId: USER },
        lang: "en",
        view: { kind: "notice" },
        notice: { key: "order-not-placed" },
      },
    ]);
  });

  it("is listed among the open jobs while it waits for its price, and unlisted when it ends without a job", () => {
    const indexWrites = (before: UserState, turn: UserTurn) =>
      (withOrderIndex(before, turn, USER).writes ?? []).filter(
        (write) => write.op !== "enqueue" && write.key[0] === "open_job",
      );
    const pressed = press();
    expect(indexWrites(atConfirmation, pressed)).toEqual([
      { op: "set", key: ["open_job", USER, WIZARD.id], value: true },
    ]);
    // Placed: the entry stays, the job's (the job writes it too, and removes it when it finishes).
    const placed = receiveJobMessage(
      pressed.state,
      { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED },
      ctx,
    );
    expect(indexWrites(pressed.state, placed)).toEqual([
      { op: "set", key: ["open_job", USER, WIZARD.id], value: true },
    ]);
    // Refused: the entry goes.
    const poor = { ...pressed.state, wallet: emptyWallet() };
    const refused = receiveJobMessage(
      poor,
      { type: "quoted", wizardId: WIZARD.id, target: TARGET, quote: PRICED },
      ctx,
    );
    expect(indexWrites(poor, refused)).toEqual([{ op: "delete", key: ["open_job", USER, WIZARD.id] }]);
  });

  it("still waiting at a resume (its looks may have been dropped) is looked at again", () => {
    const resumed = receiveJobMessage(press().state, { type: "resume", live: [] }, ctx);
    expect(looksQueued(resumed).map((queued) => queued.due)).toEqual([
      { t: "order", userId: USER, wizardId: WIZARD.id, chatId: USER },
    ]);
  });

  it("asked for twice (a slow price, not a lost one) still makes one job and one hold", () => {
    const pressed = press();
    const looked = receiveJobMessage(pressed.state, lookOf(looksQueued(pressed)[0]!), ctx);
    const message = { type: "quoted" as const, wizardId: WIZARD.id, target: TARGET, quote: PRICED };
    const first = receiveJobMessage(looked.state, message, ctx);
    const second = receiveJobMessage(first.state, message, ctx);
    expect(Object.keys(second.state.jobs)).toEqual([WIZARD.id]);
    expect(second.state.wallet.holds).toEqual({ [WIZARD.id]: expect.objectContaining({ amount: 314 }) });
    expect(second.effects ?? []).toEqual([]);
  });
});

describe("an order's look after a crash, in the running bot", () => {
  const calls: BotCall[] = [];
  const { server } = jobServer(calls);
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());
  const defer = useCleanups();

  /**
   * The user at the confirmation of `first` when the process stopped right
   * after the press's commit (its `ordering` and its look in KV, the price
   * never asked); `moveOn` opens another wizard before that.
   */
  async function crashedAfterPress(kvPath: string, userId: number, moveOn: boolean): Promise<string> {
    await seedUser(kvPath, userId, { wallet: walletWith(100_000) });
    const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
    const first = (await orderFor(bot, userId, "flux/kontext", { prompt: "a fox" })).split("|")[2] ?? "";
    if (moveOn) await orderFor(bot, userId, "flux/kontext", { prompt: "an owl" });
    await bot.app.stop();
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    try {
      const user = await kv.get(["user", userId]);
      await kv
        .atomic()
        .set(["user", userId], { ...(user.value as object), ordering: first })
        .enqueue({ t: "order", userId, wizardId: first, chatId: userId }, { delay: 50 })
        .commit();
    } finally {
      kv.close();
    }
    return first;
  }

  it("places the order, once", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const userId = 81;
    const wizardId = await crashedAfterPress(kvPath, userId, false);
    const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => bot.app.stop().then(() => undefined));
    await until(async () => (await userRecords(bot.app.kv, userId)).jobs.some((job) => job.state === "delivered"));
    const records = await userRecords(bot.app.kv, userId);
    expect(records.jobs.map((job) => job.id)).toEqual([wizardId]);
    expect(records.state.ordering).toBeUndefined();
  });

  it("whose looks KV dropped (too many failed deliveries) is placed at the next start, once", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const userId = 83;
    await seedUser(kvPath, userId, { wallet: walletWith(100_000) });
    const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
    const wizardId = (await orderFor(bot, userId, "flux/kontext", { prompt: "a lynx" })).split("|")[2] ?? "";
    await bot.app.stop();
    // The press's commit (the order, listed among the open jobs) and nothing queued: every look was dropped.
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    try {
      const user = await kv.get(["user", userId]);
      await kv
        .atomic()
        .set(["user", userId], { ...(user.value as object), ordering: wizardId })
        .set(["open_job", userId, wizardId], true)
        .commit();
    } finally {
      kv.close();
    }
    const again = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => again.app.stop().then(() => undefined));
    await until(async () => (await userRecords(again.app.kv, userId)).jobs.some((job) => job.state === "delivered"));
    const records = await userRecords(again.app.kv, userId);
    expect(records.jobs.map((job) => job.id)).toEqual([wizardId]);
    expect(records.state.ordering).toBeUndefined();
  });

  it("of a wizard the user has left tells them the order was not placed", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const userId = 82;
    await crashedAfterPress(kvPath, userId, true);
    const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => bot.app.stop().then(() => undefined));
    await until(() =>
      sharedTelegram.messages(userId).some((message) => message.text.includes("Your order was not placed")),
    );
    const records = await userRecords(bot.app.kv, userId);
    expect(records.jobs).toEqual([]);
    expect(records.state.ordering).toBeUndefined();
    expect(records.state.wallet).toMatchObject({ balance: 100_000, holds: {} });
  });
});
