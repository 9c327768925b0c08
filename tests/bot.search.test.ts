/**
 * What users see of the larger catalog: a model found by typing its name
 * at the menu, sections that say what each model is good at and mark new
 * ones, and free models that say what happens after the day's free quota.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TELEGRAM_LIMITS } from "../src/telegram/text.ts";
import { type BotCall, botApiServer, buttonData, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

/** The shipped catalog with Z-Image added today and Nano Banana charged after the free quota. */
function editedCatalog(dir: string): string {
  const path = `${dir}/catalog`;
  cpSync(new URL("../catalog/data", import.meta.url), path, { recursive: true });
  const file = `${path}/images.json`;
  const data = JSON.parse(readFileSync(file, "utf8")) as { models: Record<string, unknown>[] };
  const today = new Date().toISOString().slice(0, 10);
  for (const model of data.models) {
    if (model.id === "z-image") model.addedAt = today;
    if (model.id === "google/nano-banana") model.afterFreeQuota = "pay";
  }
  writeFileSync(file, JSON.stringify(data));
  return path;
}

describe("finding models (in-thread, msw Bot API)", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
  });

  async function bot(env: (dir: string) => Record<string, string> = () => ({})) {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls, env(dir.path));
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  it("answers a model's name typed at the menu with the models it finds, each a button to its card", async () => {
    const { send } = await bot();
    const user = userOf(8_101, "ru");
    const made = await send(user.text("клинг"));
    expect(made.map((call) => call.method)).toEqual(["sendMessage"]);
    const screen = screenOf(made);
    // More Kling models than one screen holds: the best eight, and a word that there are more.
    const total = Number(screen.text.match(/^Нашлось моделей по запросу «клинг»: (\d+)/)?.[1]);
    expect(total).toBeGreaterThan(8);
    expect(screen.buttons).toHaveLength(9);
    expect(screen.text).toContain("Здесь лучшие 8: допишите название, чтобы найти остальные.");
    const kling = screen.buttons.find((button) => button.text.includes("Kling"));
    expect(kling).toBeDefined();
    expect(screen.buttons.at(-1)?.text).toBe("🏠 Главное меню");
    const card = await send(user.press(kling?.callback_data as string), 2);
    expect(screenOf(card).text).toContain("Kling");
    expect(screenOf(card).buttons.map((button) => button.text)).toContain("✨ Создать");
  });

  it("says it found nothing for text that names no model, the text escaped and cut, within Telegram's limit", async () => {
    const { send } = await bot();
    const user = userOf(8_102, "en");
    const long = "Лиса <b>в снегу</b> 🦊‍🔥 ".repeat(300);
    const made = await send(user.text(long));
    const screen = screenOf(made);
    expect(screen.text).toMatch(/^I found no model called «Лиса &lt;b&gt;в снегу&lt;\/b&gt; 🦊/);
    expect(screen.text.length).toBeLessThan(TELEGRAM_LIMITS.messageText);
    expect(screen.buttons.map((button) => button.text)).toEqual(["🏠 Main menu"]);
    // Not text at all: the hint says names are understood too.
    const photo = await send(user.photo());
    expect(screenOf(photo).text).toContain("model names");
  });

  it("lists what each model is good at, marks one added today New and a free-only one with no price", async () => {
    const { send } = await bot((dir) => ({ CATALOG_DIR: editedCatalog(dir) }));
    const user = userOf(8_103, "en");
    let made = await send(user.text("/start"));
    made = await send(user.press(buttonData(made, "Images from text")), 2);
    let screen = screenOf(made);
    while (!screen.buttons.some((button) => button.text.includes("Z-Image"))) {
      made = await send(user.press(buttonData(made, "Next")), 2);
      screen = screenOf(made);
    }
    expect(screen.buttons.find((button) => button.text.includes("Z-Image"))?.text).toBe("🆓 🆕 Z-Image · free");
    expect(screen.text).toMatch(/• <b>Z-Image<\/b> — \S/);
    const card = await send(user.press(buttonData(made, "Z-Image")), 2);
    expect(screenOf(card).text).toContain("Price: free, 5 a day (free only");
    expect(screenOf(card).text).not.toContain("₽");
  });

  it("shows a free model charged after the quota with its price and what happens after the free ones", async () => {
    const { send } = await bot((dir) => ({ CATALOG_DIR: editedCatalog(dir) }));
    const user = userOf(8_104, "ru");
    const found = await send(user.text("nano banana"));
    const banana = screenOf(found).buttons.find((button) => button.text.startsWith("🆓 Nano Banana · текст"));
    expect(banana?.text).toMatch(/ · от \d+,\d\d ₽$/);
    const card = await send(user.press(banana?.callback_data as string), 2);
    expect(screenOf(card).text).toMatch(/Цена: \d+,\d\d ₽ \(5 в день бесплатно, дальше по этой цене\)/);
  });
});
