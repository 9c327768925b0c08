/** Building the bot's configuration and updates for tests. */
import type { Update } from "grammy/types";
import { type Config, parseConfig } from "../../src/config.ts";

export const TEST_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

/** A configuration for tests: a temporary KV file and the given overrides. */
export function testConfig(kvPath: string, env: Record<string, string> = {}): Config {
  return parseConfig(
    {
      BOT_TOKEN: TEST_TOKEN,
      KIE_API_KEY: "kie-test-key-123",
      KV_PATH: kvPath,
      LOG_LEVEL: "silent",
      SHARDS: "2",
      // Any free port: test files run in parallel.
      PORT: "0",
      // Tests drive one chat far faster than a person: Telegram's overall limit would only slow them.
      TELEGRAM_MESSAGES_PER_SECOND: "10000",
      TELEGRAM_CHAT_MESSAGES_PER_SECOND: "10000",
      // Failing Bot API calls are what some tests are about: no waiting out retries (tests/telegram.api.test.ts covers them).
      TELEGRAM_RETRIES: "0",
      ...env,
    },
    { cpuCount: 2 },
  );
}

let nextUpdateId = 1000;

/** A private-chat text message update, as Telegram sends it. */
export function textUpdate(
  userId: number,
  text: string,
  from: Partial<{ first_name: string; language_code: string }> = {},
): Update {
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextUpdateId,
      date: 1_790_000_000,
      chat: { id: userId, type: "private", first_name: from.first_name ?? "Anna" },
      from: {
        id: userId,
        is_bot: false,
        first_name: from.first_name ?? "Anna",
        language_code: from.language_code ?? "ru",
      },
      text,
      ...(text.startsWith("/")
        ? { entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]?.length ?? 0 }] }
        : {}),
    },
  } as Update;
}
