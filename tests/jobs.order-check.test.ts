/**
 * A Generate press asks for the price after the press is durable, and the
 * job comes in a later turn: a crash in between must not lose the order.
 * The press remembers its order and queues a look at it; the look asks for
 * the price again only for an order that never got it.
 */
import { describe, expect, it } from "vitest";
import { confirmOrder, ORDER_CHECK_MS, receiveJobMessage, type UserContext } from "../src/bot/job-core.ts";
import { initialUserState, restoreUserState, type UserState, type Wizard } from "../src/bot/state.ts";
import { QueueMessage } from "../src/jobs/keys.ts";
import { emptyWallet } from "../src/ledger/wallet.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const USER = 4_040_001;
const NOW = Date.UTC(2026, 11, 2, 12);
const ctx: UserContext = { userId: USER, now: NOW, rules: testUserRules() };
const TARGET = { chatId: USER, messageId: 77 };
const WIZARD: Wizard = {
  id: "w9k",
  modelId: "qwen/text-to-image",
  page: 0,
  steps: [{ kind: "prompt", field: "prompt" }],
  optional: [],
  step: 1,
  values: { prompt: "Лиса в снегу 🦊" },
  media: {},
  inParams: false,
};
const atConfirmation: UserState = {
  ...initialUserState("ru"),
  wallet: { ...emptyWallet(), balance: 100_000 },
  wizard: WIZARD,
};

function pressed(): UserState {
  const turn = confirmOrder(atConfirmation, WIZARD, TARGET, ctx);
  if (typeof turn === "string") throw new Error(`refused: ${turn}`);
  return turn.state;
}

describe("a Generate press's order", () => {
  it("is remembered and a look at it is queued with the press, before the price is asked", () => {
    const turn = confirmOrder(atConfirmation, WIZARD, TARGET, ctx);
    if (typeof turn === "string") throw new Error(`refused: ${turn}`);
    expect(turn.state.ordering).toBe("w9k");
    expect(turn.effects?.map((effect) => effect.type)).toEqual(["quote"]);
    const queued = turn.writes?.find((write) => write.op === "enqueue");
    expect(queued).toMatchObject({ delay: ORDER_CHECK_MS });
    expect(QueueMessage.parse(queued?.op === "enqueue" ? queued.value : undefined)).toEqual({
      t: "order",
      userId: USER,
      wizardId: "w9k",
      chatId: USER,
      messageId: 77,
    });
    // What the press saves loads again (after the crash this is about).
    expect(restoreUserState(structuredClone(turn.state)).ordering).toBe("w9k");
  });

  it("whose price never came back (a crash in between) asks for it again at the look, on the same message", () => {
    const look = receiveJobMessage(pressed(), { type: "orderDue", wizardId: "w9k", target: TARGET }, ctx);
    expect(look.effects).toEqual([{ type: "quote", target: TARGET, lang: "ru", wizard: WIZARD }]);
  });

  it("that got its price, a job or a refusal, is left alone by the look: no second job, no second notice", () => {
    for (const quote of [
      { ok: true as const, kopecks: 314, free: false, output: "image" as const },
      { ok: false as const, code: "price_unresolved" as const },
    ]) {
      const quoted = receiveJobMessage(pressed(), { type: "quoted", wizardId: "w9k", target: TARGET, quote }, ctx);
      expect(quoted.state.ordering).toBeUndefined();
      const look = receiveJobMessage(quoted.state, { type: "orderDue", wizardId: "w9k", target: TARGET }, ctx);
      expect(look.effects ?? []).toEqual([]);
      expect(look.state).toBe(quoted.state);
    }
  });

  it("of a wizard the user has left is given up by the look, and the user told so in a message of its own", () => {
    const left = { ...pressed(), wizard: { ...WIZARD, id: "other" } };
    const look = receiveJobMessage(left, { type: "orderDue", wizardId: "w9k", target: TARGET }, ctx);
    expect(look.effects ?? []).toEqual([]);
    expect(look.immediate).toEqual([
      {
        type: "show",
        target: { chatId: USER },
        lang: "ru",
        view: { kind: "notice" },
        notice: { key: "order-not-placed" },
      },
    ]);
    expect(look.state.ordering).toBeUndefined();
  });
});
