/**
 * A dialogue typed in one message, end to end: the step says how to write
 * it and which voices the speakers get, too many speakers get a clear reply
 * and the step again, and a dialogue in Russian with emoji reaches KIE as
 * its turns, each with its speaker's voice, priced by its spoken text.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KOPECKS_PER_CREDIT } from "../catalog/pricing.ts";
import type { BotCall } from "./helpers/bot-harness.ts";
import { buttonData, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { FAST_JOBS, jobServer, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const { server, kie } = jobServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const MODEL = "elevenlabs/text-to-dialogue-v3";
const BRIAN = "nPczCjzI2devNBz1zQrb";
const LAURA = "FGY2WhTYpPnrIDTdsKH5";

describe("a dialogue model (in-thread, msw Bot API and KIE)", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    kie.tasks.clear();
    kie.refused.length = 0;
  });

  async function bot(userId: number, balance: number) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, userId, { wallet: walletWith(balance) });
    const started = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  it("asks for lines as «Name: text», names the voices, and refuses a fifth speaker with the step again", async () => {
    const userId = 9_301;
    const { send } = await bot(userId, 100_000);
    const user = userOf(userId, "ru");
    let made = await send(user.press(`1|g|${MODEL}`), 2);
    const step = screenOf(made).text;
    expect(step).toContain("«Имя: текст»");
    expect(step).toContain("Говорящих — до 4");
    expect(step).toContain("Брайан (муж.), Лора (жен.), Каллум (муж.), Лиам (муж.)");
    made = await send(
      user.text(["Аня: Привет", "Борис: Привет", "Вера: Привет", "Гоша: Привет", "Даша: Пока"].join("\n")),
    );
    expect(screenOf(made).text).toContain("В диалоге 5 говорящих, а голосов только 4");
    expect(screenOf(made).text).toContain("«Имя: текст»");
    made = await send(user.text("Аня:\nБорис:"));
    expect(screenOf(made).text).toContain("Одни имена без реплик");
    expect(kie.tasks.size).toBe(0);
  });

  it("sends the turns with their voices, charges for the spoken text only, and delivers the audio", async () => {
    const userId = 9_302;
    const { app, send } = await bot(userId, 100_000);
    const user = userOf(userId, "en", "Bob");
    await send(user.press(`1|g|${MODEL}`), 2);
    // 997 spoken characters, 1,018 typed with the names: one thousand characters are billed, not two.
    const line = "Привет 🦊 ".repeat(54).trim();
    const script = `Аня: ${line}\nБорис: ${line}\nпродолжение в 10:30\nАня:  Пока! 👋`;
    let made = await send(user.text(script));
    for (let i = 0; i < 3 && !screenOf(made).buttons.some((button) => /Generate/.test(button.text)); i++) {
      made = await send(user.press(screenOf(made).buttons[0]?.callback_data ?? ""), 2);
    }
    const spoken = [...line].length * 2 + [..."\nпродолжение в 10:30"].length + [..."Пока! 👋"].length;
    expect(spoken).toBe(997);
    expect([...script].length).toBeGreaterThan(1_000);
    const price = Math.ceil(14 * DEFAULT_KOPECKS_PER_CREDIT);
    const confirm = screenOf(made).text;
    expect(confirm).toContain(`Price: ${price / 100} ₽`);
    expect(confirm).toContain("Description: Аня: Привет 🦊");
    expect(confirm).not.toContain("Parameters");
    await send(user.press(buttonData(made, "Generate")), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    await until(() => calls.some((call) => call.method === "sendAudio"));
    const [task] = [...kie.tasks.values()];
    expect(kie.refused).toEqual([]);
    expect(task?.body).toMatchObject({
      model: MODEL,
      input: {
        dialogue: [
          { text: line, voice: BRIAN },
          { text: `${line}\nпродолжение в 10:30`, voice: LAURA },
          { text: "Пока! 👋", voice: BRIAN },
        ],
      },
    });
    expect((await userRecords(app.kv, userId)).state.wallet).toMatchObject({ balance: 100_000 - price, holds: {} });
  });
});
