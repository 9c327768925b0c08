import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type BotCall,
  botApiServer,
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

/** HTML that Telegram accepts from this bot: only <b> tags, and escaped &, <, >. */
function isValidHtml(text: string): boolean {
  const withoutTags = text.replaceAll("<b>", "").replaceAll("</b>", "");
  if (/[<>]/.test(withoutTags)) return false;
  return !/&(?!amp;|lt;|gt;)/.test(withoutTags);
}

/** Every message the bot sent or edited is non-empty, valid HTML with buttons of at most 64 bytes. */
function checkScreens(made: readonly BotCall[]): void {
  for (const call of made) {
    if (call.method !== "sendMessage" && call.method !== "editMessageText") continue;
    const text = String(call.body.text ?? "");
    expect(text.trim().length).toBeGreaterThan(0);
    expect(isValidHtml(text), text).toBe(true);
    const rows = (call.body.reply_markup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard;
    for (const button of rows.flat())
      expect(new TextEncoder().encode(button.callback_data).length).toBeLessThanOrEqual(64);
  }
}

describe("every button", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
  });

  it("is answered once and leads to a screen with a way back (breadth-first from /start)", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const { app, send } = await startBot(`${dir.path}/kv`, calls);
    defer(() => app.stop().then(() => undefined));
    const user = userOf(21, "ru");
    const start = await send(user.text("/start"));
    checkScreens(start);
    const seen = new Set<string>();
    const queue = screenOf(start).buttons.map((button) => button.callback_data);
    let presses = 0;
    while (queue.length > 0 && presses < 150) {
      const data = queue.shift() ?? "";
      if (seen.has(data)) continue;
      seen.add(data);
      presses++;
      // An answer and a screen, or only the answer when the message shows what the press asks for already.
      const made = await send(user.press(data), 2, 1_000);
      const answers = made.filter((call) => call.method === "answerCallbackQuery");
      expect(answers, data).toHaveLength(1);
      checkScreens(made);
      // A press that asks for what its message shows already is answered without an edit.
      const screen = hasScreen(made) ? screenOf(made) : shownScreen(user.id);
      const wayBack = screen.buttons.some((button) => /^1\|(m|b|s|x)(\||$)/.test(button.callback_data));
      expect(wayBack, `${data} -> ${screen.text}`).toBe(true);
      for (const button of screen.buttons) if (!seen.has(button.callback_data)) queue.push(button.callback_data);
    }
    expect(presses).toBeGreaterThan(40);
  }, 60_000);
});

describe("random use (property)", () => {
  it("never leaves a button unanswered, never fails, never sends an empty or broken message", async () => {
    const dir = tempDir();
    const { app, send } = await startBot(`${dir.path}/kv`, calls);
    const known = [
      "1|m",
      "1|s|images|0",
      "1|s|edit|1",
      "1|c|z-image|0",
      "1|g|z-image",
      "1|g|seedream/4.5-edit",
      "1|g|elevenlabs/text-to-speech",
      "1|i|help",
      "1|i|language",
      "1|l|en",
      "1|x",
    ];
    const action = fc.oneof(
      fc
        .constantFrom(
          "/start",
          "/menu",
          "/cancel",
          "/help",
          "/balance",
          "/language",
          "/terms",
          "/topup",
          "/history",
          "/paysupport",
        )
        .map((text) => ({ kind: "text" as const, text })),
      fc.string({ maxLength: 300 }).map((text) => ({ kind: "text" as const, text })),
      fc.constant({ kind: "photo" as const }),
      fc.constant({ kind: "voice" as const }),
      fc.constantFrom(...known).map((data) => ({ kind: "press" as const, data })),
      fc.string({ maxLength: 64 }).map((data) => ({ kind: "press" as const, data })),
      fc.nat(9).map((i) => ({ kind: "option" as const, i })),
    );
    let userId = 30_000;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), async (actions) => {
          const user = userOf(userId++, "ru");
          let lastButtons: string[] = [];
          for (const step of actions) {
            const before = calls.length;
            const update =
              step.kind === "text"
                ? user.text(step.text)
                : step.kind === "photo"
                  ? user.photo()
                  : step.kind === "voice"
                    ? user.voice()
                    : step.kind === "press"
                      ? user.press(step.data)
                      : user.press(lastButtons[step.i % Math.max(1, lastButtons.length)] ?? "1|m");
            const made = await send(update, update.callback_query ? 2 : 1);
            const outcome = await Promise.resolve(made);
            checkScreens(outcome);
            if (update.callback_query) {
              const answers = calls
                .slice(before)
                .filter(
                  (call) =>
                    call.method === "answerCallbackQuery" && call.body.callback_query_id === update.callback_query?.id,
                );
              expect(answers).toHaveLength(1);
            }
            const screens = outcome.filter(
              (call) => call.method === "sendMessage" || call.method === "editMessageText",
            );
            if (screens.length > 0) lastButtons = screenOf(outcome).buttons.map((button) => button.callback_data);
          }
          const failures = Object.values(await app.supervisor.stats())
            .flat()
            .reduce((sum, host) => sum + host.failures, 0);
          expect(failures).toBe(0);
        }),
        { numRuns: 40, seed: 20_261_125 },
      );
    } finally {
      await app.stop();
      dir.remove();
      calls.length = 0;
    }
  }, 120_000);
});
