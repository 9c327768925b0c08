import { describe, expect, it } from "vitest";
import { parseConfig, secretsOf } from "../src/config.ts";
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

describe("derived forms of a secret in the logs", () => {
  // A secret with characters that URL encodings change (+ / = & ? > ~ and a space),
  // whose Basic credential has + and / (which URL-safe Base64 changes) and padding.
  const shopId = "506751";
  const secretKey = "live_s3cr+t/k=y&more x9?>~?~?x";
  const config = parseConfig(
    {
      BOT_TOKEN: token,
      KIE_API_KEY: kieKey,
      YOOKASSA_SHOP_ID: shopId,
      YOOKASSA_SECRET_KEY: secretKey,
    },
    { cpuCount: 1 },
  );
  const basic = btoa(`${shopId}:${secretKey}`);
  const forms = [
    secretKey,
    basic,
    basic.replace(/=+$/, ""),
    basic.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    encodeURIComponent(secretKey),
    new URLSearchParams({ k: secretKey }).toString().slice(2),
    encodeURIComponent(basic),
    JSON.stringify(secretKey).slice(1, -1),
  ];

  function logged(write: (log: ReturnType<typeof createLogger>) => void): string {
    const lines: string[] = [];
    write(createLogger({ level: "info", secrets: secretsOf(config) }, {}, { write: (line) => lines.push(line) }));
    expect(lines.length).toBeGreaterThan(0);
    return lines.join("\n");
  }

  it("hides YooKassa's Basic credential, URL-encoded secrets and a stringified header object", () => {
    expect(basic).toMatch(/\+.*\/.*==$/);
    const echoed = new Error(`YooKassa answered 401 for a request with Authorization: Basic ${basic}`, {
      cause: new Error(JSON.stringify({ headers: { Authorization: `Basic ${basic}`, "Idempotence-Key": "y1" } })),
    });
    const output = logged((log) => {
      log.error({ err: echoed }, "YooKassa request failed");
      log.warn({ url: `https://api.example/v3/payments?key=${encodeURIComponent(secretKey)}` }, "redirect");
      log.warn({ form: new URLSearchParams({ secret: secretKey, basic }).toString() }, "form body");
      log.info({}, `header object ${JSON.stringify({ authorization: `Basic ${basic}` })}`);
      log.info({ raw: `${shopId}:${secretKey}`, jsonInText: JSON.stringify({ secretKey }) }, "pair");
      log.info({ urlSafe: basic.replace(/\+/g, "-").replace(/\//g, "_") }, "url-safe base64");
    });
    for (const form of forms) expect(output, form).not.toContain(form);
    expect(output).not.toContain("s3cr");
    // The parts that are not secret stay readable.
    expect(output).toContain("YooKassa answered 401");
    expect(output).toContain("Idempotence-Key");
    expect(output).toContain("https://api.example/v3/payments?key=");
  });

  it("hides any Authorization header value, Basic or Bearer, whose secret the logger was never told", () => {
    const unknown = btoa("other-shop:other-secret-0123");
    const output = logged((log) => {
      log.warn({ request: `GET / HTTP/1.1\r\nAuthorization: Bearer abc.DEF-123_xyz~9\r\n` }, "echo");
      log.warn({ headers: JSON.stringify({ Authorization: `Basic ${unknown}` }) }, "echo");
      log.warn({}, `proxy-authorization=Basic ${unknown}`);
      log.warn({ body: `the server said: invalid credentials Basic ${unknown}` }, "echo");
      log.warn({ headers: { authorization: "Bearer short1", "Proxy-Authorization": "tok" } }, "header object");
    });
    expect(output).not.toContain(unknown);
    expect(output).not.toContain(unknown.replace(/=+$/, ""));
    expect(output).not.toContain("abc.DEF-123_xyz~9");
    expect(output).not.toContain("short1");
    expect(output).not.toContain('"tok"');
    expect(output).toContain('"authorization":"Bearer [redacted]"');
    expect(output).toContain("Authorization: Bearer [redacted]");
    expect(output).toContain("Basic [redacted]");
  });
});
