/**
 * Edits Telegram would refuse are not sent: a press that asks for what its
 * message shows already is only answered ("message is not modified"), and a
 * press under a result's photo or file gets a new message instead of an edit
 * of a message that has no text.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BotCall, botApiServer, screenOf, sharedTelegram, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("edits Telegram would refuse", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
  });

  async function bot() {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls);
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  const refusals = (chatId: number) =>
    sharedTelegram.refusals.filter((refusal) => refusal.chatId === chatId).map((refusal) => refusal.description);

  it("a press of Main menu on the main menu, three hundred times, is answered each time and edits nothing", async () => {
    const { send } = await bot();
    const user = userOf(31, "ru");
    await send(user.text("/start"));
    // The greeting of /start gives way to the plain main menu once.
    await send(user.press("1|m"), 2);
    let answers = 0;
    for (let i = 0; i < 300; i++) {
      const made = await send(user.press("1|m"), 1);
      answers += made.filter((call) => call.method === "answerCallbackQuery").length;
      expect(made.some((call) => call.method === "editMessageText")).toBe(false);
    }
    expect(answers).toBe(300);
    expect(refusals(31)).toEqual([]);
  });

  it("a press delivered again (its answer may have been lost with a crash) is answered again and does nothing more", async () => {
    const { send } = await bot();
    const user = userOf(34, "en");
    await send(user.text("/start"));
    const press = user.press("1|i|balance");
    const first = await send(press, 2);
    expect(first.map((call) => call.method).sort()).toEqual(["answerCallbackQuery", "editMessageText"]);
    const again = await send(press, 1, 1_000);
    expect(again.map((call) => call.method)).toEqual(["answerCallbackQuery"]);
  });

  it("a press that changes the screen still edits it in place", async () => {
    const { send } = await bot();
    const user = userOf(32, "en");
    await send(user.text("/start"));
    const balance = await send(user.press("1|i|balance"), 2);
    expect(screenOf(balance).method).toBe("editMessageText");
    const back = await send(user.press("1|m"), 2);
    expect(screenOf(back).method).toBe("editMessageText");
    expect(refusals(32)).toEqual([]);
  });

  it("a press under a result's photo sends the screen as a new message, leaving the photo as it is", async () => {
    const { send } = await bot();
    const user = userOf(33, "en");
    await send(user.text("/start"));
    // The result of a generation, as the bot sends it: a photo with the after-result buttons.
    const photo = sharedTelegram.answer("sendPhoto", {
      chat_id: 33,
      photo: "https://tempfile.aiquickdraw.com/i/fox.png",
      caption: "Лиса 🦊",
      reply_markup: { inline_keyboard: [[{ text: "🏠 Main menu", callback_data: "1|m" }]] },
    }).body.result as { message_id: number };
    const made = await send(user.press("1|m", photo.message_id), 2);
    expect(made.map((call) => call.method).sort()).toEqual(["answerCallbackQuery", "sendMessage"]);
    expect(sharedTelegram.message(33, photo.message_id)?.text).toBe("Лиса 🦊");
    expect(refusals(33)).toEqual([]);
  });
});
