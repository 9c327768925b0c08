/**
 * A model's wizard starts once. Its plan comes back in a turn of its own,
 * after the press's turn, which saves nothing by itself: an instance that
 * starts while another handles the press replays it from the inbox, and its
 * plan arrived after the user had answered, starting the wizard again over
 * the prompt. Generate then ordered a prompt-less wizard and the user was
 * told the model would not accept it. The crash suite found it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InputPlan } from "../catalog/plan.ts";
import { receiveUserMessage } from "../src/bot/core.ts";
import { initialUserState, type UserState, type Wizard } from "../src/bot/state.ts";
import { type BotCall, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { FAST_JOBS, jobServer, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const calls: BotCall[] = [];
const { server, kie } = jobServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const MODEL = "qwen/text-to-image";
const PROMPT = "Ёжик в тумане 🦔 под луной";

describe("a model's wizard", () => {
  const defer = useCleanups();

  it("keeps its answers when its press is handled again: Generate orders the prompt the user wrote", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const userId = 4_060_001;
    await seedUser(kvPath, userId, { wallet: walletWith(100_000), langChosen: true, lang: "en" });
    const bot = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => bot.app.stop().then(() => undefined));
    const user = userOf(userId, "en");

    const press = user.press(`1|g|${MODEL}`);
    await bot.send(press, 2);
    const wizardScreen = screenOf(calls.slice(-1));
    const wizardId = wizardScreen.buttons
      .find((button) => button.callback_data.startsWith("1|b|"))
      ?.callback_data.slice(4);
    expect(wizardId).toBeDefined();
    const confirmation = await bot.send(user.text(PROMPT));
    expect(screenOf(confirmation).text).toContain("Check your order");

    // The same press's plan again, as an instance replaying its inbox asks the catalog for it.
    const plan = await bot.app.supervisor.ask<InputPlan>("catalog", "main", { type: "plan", modelId: MODEL });
    if (!plan.ok) throw new Error("no plan");
    const again = await bot.app.supervisor.ask("user", userId, {
      type: "plan",
      wizardId,
      modelId: MODEL,
      page: 0,
      plan: plan.value,
      target: { chatId: userId },
    });
    expect(again.ok).toBe(true);
    expect((await userRecords(bot.app.kv, userId)).state.wizard).toMatchObject({ values: { prompt: PROMPT } });

    const before = calls.length;
    await bot.send(user.press(`1|y|${wizardId}`));
    await until(() => kie.tasks.size === 1);
    expect([...kie.tasks.values()][0]?.body).toMatchObject({ input: { prompt: PROMPT } });
    const told = calls.slice(before).map((call) => String(call.body.text ?? ""));
    expect(told.some((text) => text.includes("will not accept"))).toBe(false);
  });

  it("does not start again for a late plan, also of a wizard the user has left for another", () => {
    const ctx = { userId: 4_060_002, now: Date.UTC(2026, 11, 2, 12), rules: testUserRules() };
    const plan = { modelId: MODEL, steps: [], optional: [] } satisfies InputPlan;
    const started = (state: UserState, wizardId: string) =>
      receiveUserMessage(
        state,
        { type: "plan", wizardId, modelId: MODEL, page: 0, plan, target: { chatId: ctx.userId } },
        ctx,
      ).state;
    const first = started(initialUserState("en"), "a1");
    expect(first.wizard?.id).toBe("a1");
    const answered: UserState = {
      ...first,
      wizard: { ...(first.wizard as Wizard), step: 1, values: { prompt: PROMPT } },
    };
    // A second plan of the same wizard changes nothing.
    expect(started(answered, "a1")).toBe(answered);
    // The user moved on to another model: the old wizard's late plan does not take its place.
    const moved = started(answered, "b2");
    expect(moved.wizard?.id).toBe("b2");
    expect(started(moved, "a1").wizard?.id).toBe("b2");
  });
});
