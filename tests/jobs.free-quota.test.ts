/**
 * What a free option does once the day's free quota is used up: a
 * free-only option waits for tomorrow and charges nothing; an option marked
 * "pay" after the quota is charged its shown price, held once by its key.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Quote } from "../catalog/quote.ts";
import { createTranslator } from "../src/bot/i18n.ts";
import { confirmOrder, type QuoteOutcome, receiveJobMessage, type UserContext } from "../src/bot/job-core.ts";
import { renderView, type ViewContext } from "../src/bot/render.ts";
import type { ViewData } from "../src/bot/render-parts.ts";
import { initialUserState, type UserState, type Wizard } from "../src/bot/state.ts";
import { dayOf } from "../src/ledger/day.ts";
import { emptyWallet } from "../src/ledger/wallet.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const USER = 5_050_001;
const NOW = Date.UTC(2026, 11, 3, 12);
const rules = testUserRules({ free: { dailyLimit: 1, timeZone: "Europe/Moscow" } });
const ctx: UserContext = { userId: USER, now: NOW, rules };
const TARGET = { chatId: USER, messageId: 91 };
const wizard = (id: string): Wizard => ({
  id,
  modelId: "google/nano-banana",
  page: 0,
  steps: [{ kind: "prompt", field: "prompt" }],
  optional: [],
  step: 1,
  values: { prompt: "Кот в космосе 🐱🚀" },
  media: {},
  inParams: false,
});

/** A user with 10 ₽ whose one free generation of the day is already used. */
function quotaUsed(id: string): UserState {
  const today = dayOf(NOW, "Europe/Moscow");
  return {
    ...initialUserState("ru"),
    wallet: { ...emptyWallet(), balance: 1_000, free: { day: today, used: 1 } },
    wizard: wizard(id),
  };
}

function order(state: UserState, quote: QuoteOutcome) {
  const w = state.wizard as Wizard;
  const pressed = confirmOrder(state, w, TARGET, ctx);
  if (typeof pressed === "string") throw new Error(`refused: ${pressed}`);
  return receiveJobMessage(pressed.state, { type: "quoted", wizardId: w.id, target: TARGET, quote }, ctx);
}

describe("a free option after the day's free quota", () => {
  it("that is free only starts no job, charges nothing and says when new ones arrive", () => {
    const turn = order(quotaUsed("w-free"), { ok: true, kopecks: 315, free: true, output: "image" });
    expect(turn.state.jobs["w-free"]).toBeUndefined();
    expect(turn.state.wallet.balance).toBe(1_000);
    expect(turn.state.wallet.holds).toEqual({});
    expect(turn.immediate?.[0]).toMatchObject({ notice: { key: "job-free-exhausted" } });
  });

  it("that is paid after the quota holds its shown price under the order's key", () => {
    const turn = order(quotaUsed("w-paid"), {
      ok: true,
      kopecks: 315,
      free: true,
      paidAfterFree: true,
      output: "image",
    });
    expect(turn.state.jobs["w-paid"]?.charge).toEqual({ kind: "money", amount: 315 });
    expect(turn.state.wallet.holds["w-paid"]).toMatchObject({ amount: 315 });
    expect(turn.writes?.find((write) => write.op === "set" && String(write.key).includes("hold:w-paid"))).toBeDefined();
  });

  it("that is paid after the quota is still free while the quota lasts", () => {
    const fresh = { ...quotaUsed("w-first"), wallet: { ...emptyWallet(), balance: 1_000 } };
    const turn = order(fresh, { ok: true, kopecks: 315, free: true, paidAfterFree: true, output: "image" });
    expect(turn.state.jobs["w-first"]?.charge).toEqual({ kind: "free", source: "daily" });
    expect(turn.state.wallet.holds).toEqual({});
  });

  it("that is paid after the quota, without the money, shows the shortfall and holds nothing", () => {
    const poor = { ...quotaUsed("w-poor"), wallet: { ...quotaUsed("w-poor").wallet, balance: 100 } };
    const turn = order(poor, { ok: true, kopecks: 315, free: true, paidAfterFree: true, output: "image" });
    expect(turn.state.jobs["w-poor"]).toBeUndefined();
    expect(turn.immediate?.[0]).toMatchObject({ view: { kind: "shortfall", shortfallKopecks: 215 } });
  });
});

describe("the confirmation of a free option says what the order will do", () => {
  const t = createTranslator({
    ru: readFileSync(new URL("../src/bot/locales/ru.ftl", import.meta.url), "utf8"),
    en: readFileSync(new URL("../src/bot/locales/en.ftl", import.meta.url), "utf8"),
  });
  const view = (freeLeft: number, freeBank: number): ViewContext => ({
    lang: "en",
    t,
    userId: USER,
    botUsername: "kie_test_bot",
    support: undefined,
    freeDailyLimit: 1,
    freeLeft,
    freeBank,
    balanceKopecks: 1_000,
    invited: 0,
    referralBonusEarned: 0,
    timeZone: "Europe/Moscow",
    starsPackages: [],
    yooPackages: [],
  });
  const data = {
    quote: { ok: true, quote: { modelId: "google/nano-banana", kopecks: 315, free: true, credits: 4 } as Quote },
    card: { name: "Nano Banana", output: "image", typicalSeconds: 20, paidAfterFree: true },
  } as unknown as ViewData;
  const confirm = (freeLeft: number, freeBank: number) =>
    renderView({ kind: "wizard", wizard: wizard("w-view") }, data, view(freeLeft, freeBank)).text;

  it("in the order the order is charged: today's quota, then friends' free generations, then the price", () => {
    expect(confirm(1, 3)).toContain("Price: free (1 left today)");
    // Today's quota is used and friends brought some: the order draws one of those, so no price is shown.
    const fromBank = confirm(0, 3);
    expect(fromBank).toContain("Price: free, from the generations your friends brought you (3 left)");
    expect(fromBank).not.toContain("3.15 ₽");
    const paid = confirm(0, 0);
    expect(paid).toContain("Today's free generations are used up, so this one is paid.");
    expect(paid).toContain("Price: 3.15 ₽");
    expect(paid).toContain("Balance: 10 ₽ → 6.85 ₽");
  });

  it("and the order does what the bank line says: a free generation from the bank, nothing held", () => {
    const state = { ...quotaUsed("w-bank"), wallet: { ...quotaUsed("w-bank").wallet, bank: 3 } };
    const turn = order(state, { ok: true, kopecks: 315, free: true, paidAfterFree: true, output: "image" });
    expect(turn.state.jobs["w-bank"]?.charge).toEqual({ kind: "free", source: "bank" });
    expect(turn.state.wallet.holds).toEqual({});
    expect(turn.state.wallet.bank).toBe(2);
  });
});
