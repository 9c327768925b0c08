import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initialUserState } from "../src/bot/state.ts";
import { dayOf } from "../src/ledger/day.ts";
import { emptyWallet } from "../src/ledger/wallet.ts";
import { platform } from "../src/platform/mod.ts";
import {
  type BotCall,
  botApiServer,
  buttonData,
  hasScreen,
  screenOf,
  shownScreen,
  startBot,
  userOf,
} from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("the bot's screens (in-thread, msw Bot API)", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
  });

  async function bot(kvName = "kv", pace: "human" | "real" = "human") {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/${kvName}`, calls, {}, pace);
    defer(() => started.app.stop().then(() => undefined));
    return { ...started, dir };
  }

  it("registers its commands in Russian and English at start", async () => {
    await bot();
    const commands = calls.filter((call) => call.method === "setMyCommands");
    expect(commands).toHaveLength(2);
    expect(commands[0]?.body.commands).toContainEqual({ command: "paysupport", description: "Поддержка платежей" });
    expect(commands[1]?.body).toMatchObject({ language_code: "en" });
    expect(commands[1]?.body.commands as unknown[]).toHaveLength(10);
  });

  it("greets on /start with the main menu of catalog sections, the user's name escaped", async () => {
    const { send } = await bot();
    const user = userOf(42, "ru", "Анна <b>&</b>");
    const made = await send(user.text("/start ref_abc"));
    expect(made.map((call) => call.method)).toEqual(["sendMessage"]);
    const screen = screenOf(made);
    expect(screen.text).toContain("Привет, Анна &lt;b&gt;&amp;&lt;/b&gt;!");
    expect(made[0]?.body.parse_mode).toBe("HTML");
    const labels = screen.buttons.map((button) => button.text);
    expect(labels).toEqual(
      expect.arrayContaining([
        "🆓 Бесплатно",
        "Картинки из текста",
        "Оживить фото",
        "💰 Баланс",
        "🎁 Пригласить друга",
        "❓ Помощь",
        "🌐 Язык / Language",
      ]),
    );
  });

  it("walks section -> card -> wizard (photo + prompt + options) -> confirmation with the price", async () => {
    const { send } = await bot();
    const user = userOf(7, "en", "Bob");
    let made = await send(user.text("/start"));
    made = await send(user.press(buttonData(made, "Photo editing")), 2);
    expect(made[0]).toMatchObject({ method: "answerCallbackQuery" });
    expect(screenOf(made).method).toBe("editMessageText");
    // The edit section has two pages; Seedream 4.5 edit may be on either.
    let card = screenOf(made).buttons.find((button) => button.text.includes("Seedream 4.5"));
    if (card === undefined) {
      made = await send(user.press(buttonData(made, "Next")), 2);
      card = screenOf(made).buttons.find((button) => button.text.includes("Seedream 4.5"));
    }
    made = await send(user.press(card?.callback_data ?? ""), 2);
    const cardScreen = screenOf(made);
    expect(cardScreen.text).toContain("You send: a photo, text");
    expect(cardScreen.text).toContain("You get: an image");
    expect(cardScreen.text).toMatch(/Price: [\d.]+ ₽/);
    made = await send(user.press(buttonData(made, "Create")), 2);
    expect(screenOf(made).text).toContain("step 1 of 4");
    expect(screenOf(made).text).toContain("Send a photo");

    // A wrong kind of input gets an explanation and the step again.
    made = await send(user.text("hello"));
    expect(screenOf(made).text).toMatch(/^Now I need a photo\.[\s\S]*step 1 of 4/);
    made = await send(user.document("application/pdf"));
    expect(screenOf(made).text).toContain("This file does not fit");
    made = await send(user.photo(30 * 1024 * 1024));
    expect(screenOf(made).text).toContain("The file is too big: 30 MB, the limit is 10 MB.");

    made = await send(user.photo());
    expect(screenOf(made).text).toContain("Received 1 of");
    made = await send(user.press(buttonData(made, "Done")), 2);
    expect(screenOf(made).text).toContain("step 2 of 4");
    expect(screenOf(made).text).toContain("up to 3,000 characters");
    made = await send(user.text("A <b>cat</b> & a dog 🐶"));
    const aspect = screenOf(made);
    expect(aspect.text).toContain("step 3 of 4");
    // Enum buttons show the price of each option.
    expect(aspect.buttons.find((button) => button.text.startsWith("16:9"))?.text).toMatch(/^16:9 · [\d.]+ ₽$/);
    made = await send(user.press(buttonData(made, /^16:9/)), 2);
    made = await send(user.press(buttonData(made, /^high/)), 2);
    const confirm = screenOf(made);
    expect(confirm.text).toContain("Check your order");
    expect(confirm.text).toContain("Description: A &lt;b&gt;cat&lt;/b&gt; &amp; a dog 🐶");
    expect(confirm.text).toMatch(/Price: [\d.]+ ₽/);
    expect(confirm.text).toMatch(/Balance: 0 ₽ → −[\d.]+ ₽/);

    // Back returns to the last step with the answers kept; Generate with no money shows the shortfall.
    made = await send(user.press(buttonData(made, "Back")), 2);
    expect(screenOf(made).text).toContain("step 4 of 4");
    made = await send(user.press(buttonData(made, /^high/)), 2);
    const generate = buttonData(made, "Generate");
    made = await send(user.press(generate), 2);
    expect(made[0]).toMatchObject({ method: "answerCallbackQuery" });
    const shortfall = screenOf(made);
    expect(shortfall.text).toMatch(/You need [\d.]+ ₽ more for this generation \(available: 0 ₽\)/);
    expect(shortfall.buttons.map((button) => button.text)).toEqual([
      "💳 Top up",
      "⬅️ Back to the order",
      "🏠 Main menu",
    ]);

    // Back to the order, then Cancel clears the wizard and shows the menu; its old buttons are outdated now.
    made = await send(user.press(buttonData(made, "Back to the order")), 2);
    expect(screenOf(made).text).toContain("Check your order");
    made = await send(user.press(buttonData(made, "Cancel")), 2);
    expect(made[0]?.body.text).toBe("Cancelled.");
    expect(screenOf(made).text).toContain("Main menu");
    made = await send(user.press(generate), 2);
    expect(made[0]?.body.text).toBe("This button is outdated. Here is a fresh menu.");
  });

  it("continues a wizard after the bot restarts", async () => {
    const first = await bot("restart.kv");
    const user = userOf(9, "en", "Eve");
    let made = await first.send(user.text("/start"));
    made = await first.send(user.press("1|g|z-image"), 2);
    made = await first.send(user.text("A fox in the snow"));
    const option = buttonData(made, /^16:9/);
    await first.app.stop();
    const second = await startBot(`${first.dir.path}/restart.kv`, calls);
    defer(() => second.app.stop().then(() => undefined));
    made = await second.send(user.press(option), 2);
    const confirm = screenOf(made);
    expect(confirm.text).toContain("Check your order");
    expect(confirm.text).toContain("Description: A fox in the snow");
    expect(confirm.text).toContain("Price: free (5 left today)");
  });

  it("answers commands, unknown text and outdated buttons, never staying silent", async () => {
    const { send } = await bot();
    // One user per command: eleven commands in a row from one user would be flooding.
    let next = 1_100;
    for (const command of [
      "/menu",
      "/balance",
      "/topup",
      "/history",
      "/help",
      "/language",
      "/cancel",
      "/paysupport",
      "/terms",
      "/nonsense",
      "hello",
    ]) {
      const made = await send(userOf(next++, "ru").text(command));
      expect(
        made.map((call) => call.method),
        command,
      ).toEqual(["sendMessage"]);
      expect(screenOf(made).text.length, command).toBeGreaterThan(0);
    }
    const user = userOf(11, "ru");
    const sticker = await send(user.sticker());
    expect(screenOf(sticker).text).toContain("Я понимаю команды, кнопки и названия моделей");
    for (const data of ["garbage", "2|m", "1|c", "1|o|zz|1", "\u0000\u00ff", "1|c|no/such-model|0"]) {
      const made = await send(user.press(data), 2);
      expect(
        made.filter((call) => call.method === "answerCallbackQuery"),
        data,
      ).toHaveLength(1);
      // A fresh main menu (its section buttons lead on) or a screen with a way back to it; a message
      // that shows the main menu already is left as it is.
      const screen = hasScreen(made) ? screenOf(made) : shownScreen(user.id);
      expect(
        screen.buttons.some((button) => button.callback_data === "1|m" || button.callback_data.startsWith("1|s|")),
        data,
      ).toBe(true);
    }
  });

  it("switches the language in /language and keeps it", async () => {
    const { send } = await bot();
    const user = userOf(12, "ru");
    let made = await send(user.text("/language"));
    made = await send(user.press(buttonData(made, "English")), 2);
    expect(screenOf(made).text).toContain("Language: English");
    made = await send(user.text("/menu"));
    expect(screenOf(made).text).toContain("Main menu");
  });

  it("tells a flooding user once that it is too fast, then stays quiet", async () => {
    const { send } = await bot("kv", "real");
    const user = userOf(13, "en");
    const replies: string[] = [];
    for (let i = 0; i < 16; i++) {
      const made = await send(user.text("/menu"), 0);
      for (const call of made) if (call.method === "sendMessage") replies.push(String(call.body.text));
    }
    expect(replies.filter((text) => text.startsWith("Too fast"))).toHaveLength(1);
    expect(replies.length).toBeLessThan(16);
    // Presses beyond the limit are still answered (a button never spins forever).
    const presses = [];
    for (let i = 0; i < 15; i++) presses.push(await send(user.press("1|m"), 1));
    expect(presses.every((made) => made.filter((call) => call.method === "answerCallbackQuery").length === 1)).toBe(
      true,
    );
  });

  it("edits optional parameters from the Parameters screen, showing their defaults", async () => {
    const { send } = await bot();
    const user = userOf(14, "en");
    await send(user.text("/start"));
    let made = await send(user.press("1|g|elevenlabs/text-to-speech"), 2);
    made = await send(user.text("Hello there"));
    // KIE documents voices by id only; the bot leaves the voice to KIE, so the text is the last step.
    expect(screenOf(made).text).toContain("Check your order");
    made = await send(user.press(buttonData(made, "Parameters")), 2);
    expect(screenOf(made).text).toContain("Parameters");
    expect(screenOf(made).buttons.map((button) => button.text)).toEqual(
      expect.arrayContaining(["stability: 0.5", "speed: 1"]),
    );
    made = await send(user.press(buttonData(made, "speed")), 2);
    expect(screenOf(made).text).toContain("Enter a number from 0.7 to 1.2");
    made = await send(user.text("5"));
    expect(screenOf(made).text).toContain("I need a number from 0.7 to 1.2.");
    made = await send(user.text("1,1"));
    expect(screenOf(made).buttons.map((button) => button.text)).toContain("speed: 1.1");
    made = await send(user.press(buttonData(made, "To confirmation")), 2);
    const confirm = screenOf(made).text;
    expect(confirm).toContain("speed 1.1");
    // Text to speech is priced per started 1000 characters: 11 characters cost one unit.
    expect(confirm).toMatch(/Price: 4\.72 ₽/);
  });

  it("answers with an apology and the menu when a turn fails, and logs it", async () => {
    const { send, app } = await bot();
    const user = userOf(15, "en");
    await send(user.text("/start"));
    // A state no version of the bot wrote makes the actor fail on its next message.
    const stored = await app.supervisor.store.load(["user", 15]);
    await app.supervisor.store.commit({ key: ["user", 15], expected: stored.versionstamp, value: { v: 99 } });
    // Choosing a language is a durable change: its commit meets the broken state.
    const made = await send(user.press("1|l|ru"), 2);
    expect(made.map((call) => call.method)).toEqual(["answerCallbackQuery", "sendMessage"]);
    expect(screenOf(made).text).toMatch(/^Something went wrong/);
    expect(screenOf(made).buttons.some((button) => button.callback_data.startsWith("1|s|"))).toBe(true);
    const pressed = await send(user.press("1|m"), 2);
    expect(pressed.filter((call) => call.method === "answerCallbackQuery")).toHaveLength(1);
  });

  it("goes Back step by step to the card, keeping earlier answers", async () => {
    const { send } = await bot();
    const user = userOf(16, "en");
    await send(user.text("/start"));
    let made = await send(user.press("1|c|seedream/4.5-text-to-image|0"), 2);
    made = await send(user.press(buttonData(made, "Create")), 2);
    made = await send(user.text("A lighthouse at dusk"));
    made = await send(user.press(buttonData(made, /^16:9/)), 2);
    expect(screenOf(made).text).toContain("step 3 of 3");
    made = await send(user.press(buttonData(made, "Back")), 2);
    expect(screenOf(made).text).toContain("step 2 of 3");
    // Answering again from there keeps the prompt given at step 1.
    made = await send(user.press(buttonData(made, /^1:1/)), 2);
    made = await send(user.press(buttonData(made, /^basic/)), 2);
    expect(screenOf(made).text).toContain("Description: A lighthouse at dusk");
    made = await send(user.press(buttonData(made, "Back")), 2);
    made = await send(user.press(buttonData(made, "Back")), 2);
    made = await send(user.press(buttonData(made, "Back")), 2);
    expect(screenOf(made).text).toContain("step 1 of 3");
    made = await send(user.press(buttonData(made, "Back")), 2);
    expect(screenOf(made).text).toContain("Seedream 4.5");
    expect(screenOf(made).buttons.some((button) => button.text.includes("Create"))).toBe(true);
  });

  it("shows the wallet's available balance and today's free generations, and migrates a state saved without a wallet", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const today = dayOf(Date.now(), "Europe/Moscow");
    const saved = { ...initialUserState("ru"), starts: 1 };
    const wallet = {
      ...emptyWallet(),
      balance: 12_345,
      holds: { job1: { amount: 2_000, at: 0 } },
      free: { day: today, used: 2 },
    };
    await kv
      .atomic()
      .set(["user", 501], { ...saved, wallet })
      .commit();
    const { wallet: _none, ...version2 } = saved;
    await kv
      .atomic()
      .set(["user", 502], { ...version2, v: 2 })
      .commit();
    kv.close();
    const started = await startBot(kvPath, calls);
    defer(() => started.app.stop().then(() => undefined));

    const rich = screenOf(await started.send(userOf(501).text("/balance"))).text;
    expect(rich).toContain("103,45 ₽"); // 123.45 minus the 20 ₽ held for a running job
    expect(rich).toContain("Бесплатных генераций сегодня: 3 из 5.");
    const migrated = screenOf(await started.send(userOf(502).text("/balance"))).text;
    expect(migrated).toContain("0 ₽");
    expect(migrated).toContain("5 из 5");
  });
});
