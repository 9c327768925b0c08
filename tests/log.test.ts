import { describe, expect, it } from "vitest";
import { createLogger, redactSecrets } from "../src/log.ts";
import { createTelegramApi } from "../src/telegram/api.ts";

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const kieKey = "kie-secret-key-0123456789";

describe("logging", () => {
  it("removes the bot token and API keys from messages, fields, URLs and errors", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", secrets: [token, kieKey] }, {}, { write: (line) => lines.push(line) });
    const error = new Error(`request to https://api.telegram.org/bot${token}/getMe failed`, {
      cause: new Error(`Authorization: Bearer ${kieKey}`),
    });
    log.error(
      { err: error, url: `https://api.telegram.org/bot${token}/sendMessage`, nested: { key: kieKey } },
      `token ${token}`,
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? "";
    expect(line).not.toContain(token);
    expect(line).not.toContain(kieKey);
    expect(line).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
    const parsed = JSON.parse(line);
    expect(parsed.url).toBe("https://api.telegram.org/bot[redacted]/sendMessage");
    expect(parsed.err.message).toContain("/bot[redacted]/getMe");
    expect(parsed.err.stack).toContain("Authorization: Bearer [redacted]");
  });

  it("redacts anything shaped like a bot token even when it is not configured", () => {
    expect(redactSecrets(`/bot${token}/x`, [])).toBe("/bot[redacted]/x");
  });
});

describe("a failing Bot API call in the logs", () => {
  it("never shows the token, whatever grammY and fetch put in the error", async () => {
    const failing: typeof fetch = async (input) => {
      throw new TypeError(`fetch failed: ${String(input)}`, {
        cause: new Error(`connect ECONNREFUSED ${String(input)}`),
      });
    };
    const api = createTelegramApi({ botToken: token, apiRoot: "https://api.telegram.org", retries: 0 }, failing);
    const lines: string[] = [];
    const log = createLogger({ level: "info", secrets: [token] }, {}, { write: (line) => lines.push(line) });
    const error = await api.sendMessage(1, "hi").catch((failure: unknown) => failure);
    expect(String((error as Error).message)).toContain("sendMessage");
    log.error({ err: error }, "effect failed after commit");
    expect(lines.join("\n")).not.toContain(token.split(":")[1]);
    expect(lines.join("\n")).toContain("Network request for 'sendMessage' failed!");
  });
});
