/**
 * What people actually type, end to end: prompts with emoji, flags,
 * Cyrillic, RTL and combining marks, as long as a Telegram message allows,
 * against a Bot API that refuses what Telegram refuses. The user always
 * gets Generate, and a paid result is always shown.
 */

import type { Update } from "grammy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { historyKey, resultKey } from "../src/jobs/keys.ts";
import { splitResult } from "../src/jobs/result.ts";
import { platform } from "../src/platform/mod.ts";
import type { BotCall } from "./helpers/bot-harness.ts";
import { buttonData, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import type { FakeOutcome, FakeTask } from "./helpers/fake-kie.ts";
import { successFor } from "./helpers/fake-kie.ts";
import { FAST_JOBS, jobServer, seedUser, until, userRecords, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";
import { FakeTelegram } from "./helpers/telegram/mod.ts";

const calls: BotCall[] = [];
let outcome: (task: FakeTask) => FakeOutcome = (task) => successFor(task);
/** The strict fake Telegram of these tests: it refuses what Telegram refuses, and lists it. */
const telegram = new FakeTelegram();
/** A test's own refusals, before Telegram's rules. */
let refuseAlso: (call: BotCall) => { status: number; description: string } | undefined = () => undefined;
const { server } = jobServer(calls, {
  outcome: (task) => outcome(task),
  bot: { refuse: (call) => refuseAlso(call), telegram },
});
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const FAMILY = "👩‍👩‍👧‍👦";
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A prompt of exactly `units` UTF-16 units from a repeated piece (padded with a letter). */
const promptOf = (piece: string, units: number) => {
  const body = piece.repeat(Math.floor(units / piece.length));
  return body + "x".repeat(units - body.length);
};
const parsed = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
const refusedCalls = () => telegram.refusals.map((refusal) => `${refusal.method}: ${refusal.description}`);

describe("user text at Telegram's limits", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
    outcome = (task) => successFor(task);
    refuseAlso = () => undefined;
    telegram.reset();
  });

  async function bot(userId: number, balance = 1_000_000) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, userId, { wallet: walletWith(balance) });
    const started = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  const prompts = [
    ["4096 Cyrillic letters", promptOf("ж", 4096)],
    ["4096 units of family emoji and Arabic", promptOf(`${FAMILY}مرحبا `, 4096)],
    ["3950 units of <, & and Hebrew", promptOf("<b>&amp; שלום ", 3950)],
    ["4000 units of flags and combining marks", promptOf("🇷🇺e\u0301a\u0308 ", 4000)],
    ["4096 units of 😀", "😀".repeat(2048)],
  ] as const;

  it.each(prompts)("a prompt of %s gets its confirmation with the price and Generate", async (_name, prompt) => {
    expect(prompt.length).toBeGreaterThanOrEqual(3950);
    expect(prompt.length).toBeLessThanOrEqual(4096);
    const userId = 800;
    const { send } = await bot(userId);
    const user = userOf(userId, "en", "Bob", telegram);
    let made = await send(user.press("1|g|google/veo-3.1"), 2);
    expect(screenOf(made).text).toContain("step 1 of 1");
    made = await send(user.text(prompt));
    const confirm = screenOf(made);
    expect(refusedCalls()).toEqual([]);
    expect(confirm.text).toContain("Check your order");
    expect(confirm.text).toMatch(/Price: [\d.]+ ₽/);
    expect(confirm.text).toMatch(/Balance: .+ ₽ → .+ ₽/);
    expect(parsed(confirm.text).length).toBeLessThanOrEqual(4096);
    expect(LONE.test(confirm.text)).toBe(false);
    // The quote is the whole prompt, or its start shortened at a whole character.
    const quote = parsed(confirm.text).match(/Description: ([\s\S]*?)\n/)?.[1] ?? "";
    if (quote !== prompt) {
      expect(quote.endsWith("…")).toBe(true);
      expect(prompt.startsWith(quote.slice(0, -1))).toBe(true);
      expect(quote.length).toBeGreaterThan(3_800);
    }
    expect(buttonData(made, "Generate")).toMatch(/^1\|y\|/);
  });

  it("an emoji prompt whose 300th unit is half an emoji is charged and shown with its caption", async () => {
    const prompt = `${"a".repeat(298)}😀 a fox ${FAMILY}`;
    const userId = 801;
    const { app, send } = await bot(userId);
    const user = userOf(userId, "en", "Bob", telegram);
    await send(user.press(await typedOrder(send, user, prompt)), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    await until(() => calls.some((call) => call.method === "sendPhoto"));
    expect(refusedCalls()).toEqual([]);
    const photo = calls.find((call) => call.method === "sendPhoto");
    const caption = String(photo?.body.caption);
    expect(caption).toContain("<b>Flux");
    expect(LONE.test(caption)).toBe(false);
    expect(parsed(caption)).toContain(`${"a".repeat(298)}…`);
    const texts = calls.filter((call) => call.method === "sendMessage").map((call) => String(call.body.text));
    expect(texts.some((text) => text.includes("could not be"))).toBe(false);
    const records = await userRecords(app.kv, userId);
    expect(records.history[0]).toMatchObject({ state: "succeeded" });
    expect(records.state.wallet.balance).toBeLessThan(1_000_000);
  });

  it("a result Telegram refuses in every form is refunded, and the user is told so", async () => {
    // Every message carrying the result (the photo, then its link) is refused for its text.
    refuseAlso = (call) =>
      call.method === "sendPhoto" || (call.method === "sendMessage" && String(call.body.text).includes("https://"))
        ? { status: 400, description: "Bad Request: strings must be encoded in UTF-8" }
        : undefined;
    const userId = 803;
    const { app, send } = await bot(userId, 50_000);
    const user = userOf(userId, "en", "Bob", telegram);
    await send(user.press(await typedOrder(send, user, "a fox 🦊")), 2);
    await until(async () => (await userRecords(app.kv, userId)).open.length === 0);
    await until(() =>
      calls.some((call) => call.method === "sendMessage" && String(call.body.text).includes("money is back")),
    );
    const records = await userRecords(app.kv, userId);
    expect(records.state.wallet).toMatchObject({ balance: 50_000, holds: {} });
    // Nothing was downloaded to upload it again: the refusal was of the text, not of the file.
    expect(calls.filter((call) => call.method === "sendPhoto").every((call) => !("multipart" in call.body))).toBe(true);
  });

  it("a prompt and a negative prompt of 4096 characters each still fit the confirmation and the Parameters screen", async () => {
    const userId = 804;
    const { send } = await bot(userId);
    const user = userOf(userId, "en", "Bob", telegram);
    await send(user.press("1|g|google/imagen4"), 2);
    let made = await send(user.text(promptOf(`${FAMILY}Привет `, 4096)));
    made = await send(user.press(buttonData(made, "Parameters")), 2);
    made = await send(user.press(buttonData(made, /^Avoid/)), 2);
    made = await send(user.text(promptOf("שלום עולם e\u0301 🇷🇺 ", 4096)));
    // Back on the Parameters screen: the answer shows shortened in its button.
    const avoid = screenOf(made).buttons.find((button) => button.text.startsWith("Avoid"));
    expect(avoid?.text.length).toBeLessThan(200);
    expect(avoid?.text.endsWith("…")).toBe(true);
    made = await send(user.press(buttonData(made, "To confirmation")), 2);
    const confirm = screenOf(made);
    expect(refusedCalls()).toEqual([]);
    expect(confirm.text).toContain("Check your order");
    expect(confirm.text).toMatch(/Price: [\d.]+ ₽/);
    expect(parsed(confirm.text).length).toBeLessThanOrEqual(4096);
    expect(buttonData(made, "Generate")).toMatch(/^1\|y\|/);
  });

  it("a 40,000-character transcript is shown again as a short preview and a .txt document", async () => {
    const userId = 805;
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    await seedUser(kvPath, userId, { wallet: walletWith(0) });
    // An earlier speech-to-text job (a model since withdrawn: its history still shows) with a long transcript.
    const transcript = "Привет, мир! مرحبا 👋 שלום <ok> & e\u0301\n".repeat(1_100).slice(0, 40_000);
    const { chunks } = splitResult("j1", { urls: [], text: transcript });
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const write = kv.atomic().set(historyKey(userId, 0), {
      seq: 0,
      jobId: "j1",
      modelId: "elevenlabs/speech-to-text",
      output: "text",
      params: {},
      media: {},
      state: "succeeded",
      chargedKopecks: 275,
      free: false,
      createdAt: 1_790_000_000_000,
      finishedAt: 1_790_000_060_000,
      urls: [],
      resultChunks: chunks.length,
    });
    for (const [i, chunk] of chunks.entries()) write.set(resultKey(userId, 0, i), chunk);
    await write.commit();
    kv.close();
    const started = await startBot(kvPath, calls, FAST_JOBS, "real");
    defer(() => started.app.stop().then(() => undefined));

    await started.send(userOf(userId, "en", "Bob", telegram).press("1|r|0"), 3);
    await until(() => calls.some((call) => call.method === "sendDocument"));
    expect(refusedCalls()).toEqual([]);
    const sent = calls.filter((call) => call.method === "sendMessage" || call.method === "sendDocument");
    expect(sent.map((call) => call.method)).toEqual(["sendMessage", "sendDocument"]);
    const preview = parsed(String(sent[0]?.body.text));
    expect(preview.length).toBeLessThan(1_200);
    expect(preview).toContain("Привет, мир! مرحبا 👋 שלום <ok> &");
    const stored = telegram.messages(userId).at(-1);
    expect(stored?.kind).toBe("document");
    // The buttons after a result go under the file.
    expect(JSON.stringify(stored?.markup)).toContain("🔁 Repeat");
  });
});

/**
 * Types `prompt` into Flux Kontext's wizard as a person would and takes the
 * first value of each option up to the confirmation; returns Generate's data.
 */
async function typedOrder(
  send: (update: Update, expected?: number) => Promise<BotCall[]>,
  user: ReturnType<typeof userOf>,
  prompt: string,
): Promise<string> {
  await send(user.press("1|g|flux/kontext"), 2);
  let made = await send(user.text(prompt));
  for (let i = 0; i < 5 && !screenOf(made).buttons.some((button) => /Generate/.test(button.text)); i++) {
    made = await send(user.press(screenOf(made).buttons[0]?.callback_data ?? ""), 2);
  }
  return buttonData(made, "Generate");
}
