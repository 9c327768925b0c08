import { GrammyError } from "grammy/web";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resultCaption } from "../src/bot/render-jobs.ts";
import { type ResultToSend, ResultUndeliverable, refusalOf, sendResult } from "../src/delivery/send-result.ts";
import { createTelegramApi } from "../src/telegram/api.ts";
import { checkCall } from "./helpers/telegram/rules.ts";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const CHAT = 42;
const RESULTS = "https://tempfile.aiquickdraw.com";

interface Upload {
  readonly name: string;
  readonly bytes: number[];
}

interface Call {
  readonly method: string;
  readonly body: Record<string, unknown>;
  readonly uploads: Upload[];
}

/** A Telegram answer to override the default success for one call. */
type Refusal = { readonly status: number; readonly description: string } | undefined;

/** Delivery only sends: no message is edited, so the rules need not know any. */
const NO_EDITS = { message: () => undefined };

let calls: Call[] = [];
let requested: string[] = [];
let refuse: (call: Call) => Refusal = () => undefined;
let nextMessageId = 100;

const server = setupServer(
  http.post(`https://api.telegram.org/bot${TOKEN}/:method`, async ({ request, params }) => {
    const call = await recordCall(String(params.method), request);
    calls.push(call);
    // The test's own refusal first, then whatever Telegram itself would refuse.
    const refusal = refuse(call) ?? checkCall(call.method, call.body, NO_EDITS);
    if (refusal !== undefined) {
      return HttpResponse.json(
        { ok: false, error_code: refusal.status, description: refusal.description },
        { status: refusal.status },
      );
    }
    const message = () => ({ message_id: ++nextMessageId, date: 0, chat: { id: CHAT, type: "private" } });
    if (call.method === "sendMediaGroup") {
      return HttpResponse.json({ ok: true, result: (call.body.media as unknown[]).map(message) });
    }
    return HttpResponse.json({ ok: true, result: message() });
  }),
);

async function recordCall(method: string, request: Request): Promise<Call> {
  const boundary = (request.headers.get("content-type") ?? "").match(/^multipart\/form-data; boundary=(.+)$/)?.[1];
  if (boundary === undefined) return { method, body: (await request.json()) as Record<string, unknown>, uploads: [] };
  const body: Record<string, unknown> = {};
  const uploads: Upload[] = [];
  for (const part of multipartParts(Buffer.from(await request.arrayBuffer()), boundary)) {
    if (part.fileName === undefined) body[part.name] = parseField(part.content.toString("utf8"));
    else uploads.push({ name: part.fileName, bytes: [...part.content] });
  }
  return { method, body, uploads };
}

/**
 * grammY writes multipart headers tersely (`content-disposition:form-data;name="x";filename=y`),
 * which Node 20's `Request.formData()` rejects, so the parts are split here.
 */
function multipartParts(raw: Buffer, boundary: string) {
  const text = raw.toString("latin1");
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((chunk) => {
      const headEnd = chunk.indexOf("\r\n\r\n");
      const head = chunk.slice(0, headEnd);
      return {
        name: head.match(/name="([^"]*)"/)?.[1] ?? "",
        fileName: head.match(/filename="?([^";\r\n]*)"?/)?.[1],
        content: Buffer.from(chunk.slice(headEnd + 4, -2), "latin1"),
      };
    });
}

function parseField(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

beforeAll(() => {
  server.listen({ onUnhandledRequest: "error" });
  server.events.on("request:start", ({ request }) => requested.push(request.url));
});
afterEach(() => {
  server.resetHandlers();
  calls = [];
  requested = [];
  refuse = () => undefined;
});
afterAll(() => server.close());

const KEYBOARD = [[{ text: "Again", callback_data: "again" }], [{ text: "Menu", callback_data: "menu" }]];
const CAPTION = "<b>Flux &amp; Co</b>\n<i>a cat</i>";

function deps(overrides: { maxBytes?: number } = {}) {
  return {
    api: createTelegramApi({ botToken: TOKEN, apiRoot: "https://api.telegram.org" }, (input, init) =>
      fetch(input, init),
    ),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
    allowedHosts: ["aiquickdraw.com"],
    maxBytes: overrides.maxBytes ?? 1_000,
    timeoutMs: 500,
  };
}

function result(output: ResultToSend["output"], urls: string[], extra: Partial<ResultToSend> = {}): ResultToSend {
  return { chatId: CHAT, output, urls, caption: CAPTION, keyboard: KEYBOARD, ...extra };
}

function serveResult(path: string, bytes: number[]) {
  server.use(
    http.get(`${RESULTS}${path}`, () =>
      HttpResponse.arrayBuffer(new Uint8Array(bytes).buffer, { headers: { "content-type": "image/png" } }),
    ),
  );
}

/** What a user sees of the bot's HTML (parsed independently of the code under test). */
const parsed = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");

const keyboardOf = (call: Call | undefined) =>
  (call?.body.reply_markup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard;
const urlRefused = (call: Call): Refusal =>
  call.uploads.length === 0 && call.method !== "sendMessage"
    ? { status: 400, description: "Bad Request: failed to get HTTP URL content" }
    : undefined;

describe("sending by URL", () => {
  it("sends one image as a photo with the caption and the keyboard", async () => {
    const outcome = await sendResult(deps(), result("image", [`${RESULTS}/r/a.png`]));
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto"]);
    expect(calls[0]?.body).toMatchObject({
      chat_id: CHAT,
      photo: `${RESULTS}/r/a.png`,
      caption: CAPTION,
      parse_mode: "HTML",
    });
    expect(keyboardOf(calls[0])).toEqual(KEYBOARD);
    expect(outcome).toEqual({ via: ["url"], messageIds: [nextMessageId] });
    expect(requested.filter((url) => url.startsWith(RESULTS))).toEqual([]);
  });

  it("sends several images as an album, then the keyboard in a message", async () => {
    const urls = [1, 2, 3].map((n) => `${RESULTS}/r/${n}.png`);
    const outcome = await sendResult(deps(), result("image", urls));
    expect(calls.map((c) => c.method)).toEqual(["sendMediaGroup", "sendMessage"]);
    const media = calls[0]?.body.media as { type: string; media: string; caption?: string }[];
    expect(media.map((m) => [m.type, m.media])).toEqual(urls.map((url) => ["photo", url]));
    expect(media[0]?.caption).toBe(CAPTION);
    expect(media.slice(1).every((m) => m.caption === undefined)).toBe(true);
    expect(calls[1]?.body.text).toBe(CAPTION);
    expect(keyboardOf(calls[1])).toEqual(KEYBOARD);
    expect(outcome.via).toEqual(["url", "url", "url"]);
    expect(outcome.messageIds).toHaveLength(4);
  });

  it("sends ten of more than ten images as an album, and every link in one .txt file with the keyboard", async () => {
    const urls = Array.from({ length: 12 }, (_, n) => `${RESULTS}/r/${n}.png`);
    const outcome = await sendResult(deps(), result("image", urls));
    expect(calls.map((c) => c.method)).toEqual(["sendMediaGroup", "sendDocument"]);
    const album = calls[0]?.body.media as { media: string; caption?: string }[];
    expect(album.map((item) => item.media)).toEqual(urls.slice(0, 10));
    expect(album[0]?.caption).toBe(CAPTION);
    expect(keyboardOf(calls[1])).toEqual(KEYBOARD);
    expect(calls[1]?.uploads[0]?.name).toBe("result-links.txt");
    expect(
      Buffer.from(calls[1]?.uploads[0]?.bytes ?? [])
        .toString("utf8")
        .trim()
        .split("\n"),
    ).toEqual(urls);
    expect(outcome.via).toEqual([...urls.slice(0, 10).map(() => "url"), "document"]);
  });

  it("sends the links in plain messages when Telegram refuses the link file", async () => {
    const urls = Array.from({ length: 300 }, (_, n) => `${RESULTS}/r/${n}-${"x".repeat(40)}.png`);
    refuse = (call) =>
      call.method === "sendDocument"
        ? { status: 400, description: "Bad Request: wrong file identifier/HTTP URL specified" }
        : undefined;
    await sendResult(deps(), result("image", urls));
    const messages = calls.filter((c) => c.method === "sendMessage");
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((c) => String(c.body.text).length <= 4096)).toBe(true);
    expect(messages.flatMap((c) => String(c.body.text).trim().split("\n"))).toEqual(urls);
    expect(keyboardOf(messages.at(-1))).toEqual(KEYBOARD);
  });

  it("sends a video", async () => {
    const outcome = await sendResult(deps(), result("video", [`${RESULTS}/v/clip.mp4`]));
    expect(calls.map((c) => c.method)).toEqual(["sendVideo"]);
    expect(calls[0]?.body).toMatchObject({ video: `${RESULTS}/v/clip.mp4`, caption: CAPTION });
    expect(keyboardOf(calls[0])).toEqual(KEYBOARD);
    expect(outcome.via).toEqual(["url"]);
  });

  it("sends two audio tracks: the caption on the first, the keyboard on the last", async () => {
    const outcome = await sendResult(deps(), result("audio", [`${RESULTS}/a/1.mp3`, `${RESULTS}/a/2.mp3`]));
    expect(calls.map((c) => [c.method, c.body.audio])).toEqual([
      ["sendAudio", `${RESULTS}/a/1.mp3`],
      ["sendAudio", `${RESULTS}/a/2.mp3`],
    ]);
    expect(calls.map((c) => c.body.caption)).toEqual([CAPTION, undefined]);
    expect(calls.map(keyboardOf)).toEqual([undefined, KEYBOARD]);
    expect(outcome).toEqual({ via: ["url", "url"], messageIds: [nextMessageId - 1, nextMessageId] });
  });

  it.each([
    ["its 300th unit is half an emoji", `${"a".repeat(298)}😀 and a fox`],
    ["a family emoji at the cut", `${"ж".repeat(295)}👩‍👩‍👧‍👦 and more`],
    ["flags, RTL and combining marks", "🇷🇺 مرحبا שלום e\u0301 <b>&amp; ".repeat(40)],
  ])("sends the caption of a prompt where %s, accepted at once", async (_name, prompt) => {
    const caption = resultCaption("Flux <Kontext>", { prompt, aspect_ratio: "1:1" });
    const outcome = await sendResult(deps(), result("image", [`${RESULTS}/r/a.png`], { caption }));
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto"]);
    expect(String(calls[0]?.body.caption)).toMatch(/^<b>Flux &lt;Kontext&gt;<\/b>\n<i>[\s\S]*…<\/i>$/);
    expect(outcome.via).toEqual(["url"]);
  });

  it("cuts a long caption to 1024 characters without breaking tags or entities", async () => {
    const caption = `<b>Model</b>\n<i>${"a &amp; b ".repeat(200)}</i>`;
    await sendResult(deps(), result("image", [`${RESULTS}/r/a.png`], { caption }));
    const sent = String(calls[0]?.body.caption);
    const parsed = sent.replace(/<[^>]+>/g, "").replace(/&[a-z]+;/g, "&");
    expect(parsed.length).toBeLessThanOrEqual(1024);
    expect(parsed.length).toBeGreaterThan(1000);
    expect(sent).toMatch(/…<\/i>$/);
    expect(sent).not.toMatch(/&[a-z]*…/);
  });
});

describe("text results", () => {
  it("sends a text that fits one message with the caption, escaped, the keyboard under it", async () => {
    const text = "<tag> & слова مرحبا 👩‍👩‍👧‍👦\n".repeat(100);
    const outcome = await sendResult(deps(), result("text", [], { text }));
    expect(calls.map((c) => c.method)).toEqual(["sendMessage"]);
    const sent = String(calls[0]?.body.text);
    expect(sent.startsWith(`${CAPTION}\n\n&lt;tag&gt; &amp; слова`)).toBe(true);
    expect(parsed(sent.slice(CAPTION.length + 2))).toBe(text);
    expect(keyboardOf(calls[0])).toEqual(KEYBOARD);
    expect(outcome).toEqual({ via: [], messageIds: [nextMessageId] });
  });

  it("sends a 40,000-character transcript as a .txt document after a short preview", async () => {
    const text = "Привет, мир! <b>&amp;</b> مرحبا 👋 שלום e\u0301\n".repeat(1_000).slice(0, 40_000);
    const outcome = await sendResult(deps(), result("text", [], { text }));
    expect(calls.map((c) => c.method)).toEqual(["sendMessage", "sendDocument"]);
    const preview = String(calls[0]?.body.text);
    expect(preview.startsWith(`${CAPTION}\n\nПривет, мир! &lt;b&gt;&amp;amp;`)).toBe(true);
    expect(parsed(preview).length).toBeLessThanOrEqual(1_100);
    expect(preview.endsWith("…")).toBe(true);
    expect(keyboardOf(calls[0])).toBeUndefined();
    const [file] = calls[1]?.uploads ?? [];
    expect(file?.name).toBe("result.txt");
    expect(Buffer.from(file?.bytes ?? []).toString("utf8")).toBe(text);
    expect(keyboardOf(calls[1])).toEqual(KEYBOARD);
    expect(outcome.messageIds).toHaveLength(2);
  });

  it("sends the transcript in messages of at most 4096 characters when Telegram refuses the file", async () => {
    const text = "<tag> & words that go on 😀\n".repeat(400);
    refuse = (call) =>
      call.method === "sendDocument" ? { status: 413, description: "Request Entity Too Large" } : undefined;
    const outcome = await sendResult(deps(), result("text", [], { text }));
    expect(calls.map((c) => c.method)).toEqual([
      "sendMessage",
      "sendDocument",
      "sendMessage",
      "sendMessage",
      "sendMessage",
    ]);
    const pieces = calls.slice(2).map((c) => String(c.body.text));
    for (const piece of pieces) expect(parsed(piece).length).toBeLessThanOrEqual(4096);
    expect(pieces.map(parsed).join("")).toBe(text);
    expect(calls.slice(2).map(keyboardOf)).toEqual([undefined, undefined, KEYBOARD]);
    expect(outcome.messageIds).toHaveLength(4);
  });

  it("sends the files of a text result without text as documents", async () => {
    const outcome = await sendResult(deps(), result("text", [`${RESULTS}/t/out.txt`]));
    expect(calls.map((c) => [c.method, c.body.document])).toEqual([["sendDocument", `${RESULTS}/t/out.txt`]]);
    expect(outcome.via).toEqual(["url"]);
  });
});

describe("a refused text is not a refused file", () => {
  const entities = {
    status: 400,
    description: `Bad Request: can't parse entities: Unsupported start tag "x" at byte offset 3`,
  };
  const longCaption = { status: 400, description: "Bad Request: message caption is too long" };

  it("sends the photo again by URL with the caption as plain text, and downloads nothing", async () => {
    refuse = (call) => (call.method === "sendPhoto" && call.body.parse_mode === "HTML" ? entities : undefined);
    const outcome = await sendResult(deps(), result("image", [`${RESULTS}/r/a.png`]));
    expect(calls.map((c) => [c.method, c.body.photo, c.body.parse_mode])).toEqual([
      ["sendPhoto", `${RESULTS}/r/a.png`, "HTML"],
      ["sendPhoto", `${RESULTS}/r/a.png`, undefined],
    ]);
    expect(calls[1]?.body.caption).toBe("Flux & Co\na cat");
    expect(keyboardOf(calls[1])).toEqual(KEYBOARD);
    expect(requested.filter((url) => url.startsWith(RESULTS))).toEqual([]);
    expect(outcome.via).toEqual(["url"]);
  });

  it("sends the video without a caption when every caption is refused", async () => {
    refuse = (call) => (call.body.caption !== undefined ? longCaption : undefined);
    const outcome = await sendResult(deps(), result("video", [`${RESULTS}/v/clip.mp4`]));
    expect(calls.map((c) => c.method)).toEqual(["sendVideo", "sendVideo", "sendVideo"]);
    expect(calls[2]?.body.caption).toBeUndefined();
    expect(keyboardOf(calls[2])).toEqual(KEYBOARD);
    expect(requested.filter((url) => url.startsWith(RESULTS))).toEqual([]);
    expect(outcome.via).toEqual(["url"]);
  });

  it("resends an album whose caption is refused with a plain one, not photo by photo", async () => {
    refuse = (call) =>
      call.method === "sendMediaGroup" && (call.body.media as { parse_mode?: string }[])[0]?.parse_mode === "HTML"
        ? longCaption
        : undefined;
    const urls = [1, 2].map((n) => `${RESULTS}/r/${n}.png`);
    const outcome = await sendResult(deps(), result("image", urls));
    expect(calls.map((c) => c.method)).toEqual(["sendMediaGroup", "sendMediaGroup", "sendMessage"]);
    expect((calls[1]?.body.media as { caption?: string }[] | undefined)?.[0]?.caption).toBe("Flux & Co\na cat");
    expect(outcome.via).toEqual(["url", "url"]);
  });

  it("links the file when even the bare photo is refused for its text", async () => {
    refuse = (call) => (call.method === "sendPhoto" ? entities : undefined);
    const outcome = await sendResult(deps(), result("image", [`${RESULTS}/r/a.png`]));
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto", "sendPhoto", "sendPhoto", "sendPhoto", "sendMessage"]);
    expect(String(calls[4]?.body.text)).toContain(`<a href="${RESULTS}/r/a.png">`);
    expect(requested.filter((url) => url.startsWith(RESULTS))).toEqual([]);
    expect(outcome.via).toEqual(["link"]);
  });

  it("sends the link as plain text when its HTML is refused", async () => {
    refuse = (call) => (call.body.parse_mode === "HTML" ? entities : undefined);
    const outcome = await sendResult(deps(), result("image", ["https://evil.example/a.png"]));
    expect(calls.map((c) => [c.method, c.body.parse_mode])).toEqual([
      ["sendMessage", "HTML"],
      ["sendMessage", undefined],
    ]);
    expect(calls[1]?.body.text).toBe("Flux & Co\na cat\n\nhttps://evil.example/a.png");
    expect(keyboardOf(calls[1])).toEqual(KEYBOARD);
    expect(outcome.via).toEqual(["link"]);
  });

  it("fails as undeliverable (the caller refunds) when Telegram refuses every form of every message", async () => {
    refuse = () => ({ status: 400, description: "Bad Request: text must be encoded in UTF-8" });
    const failed = sendResult(deps(), result("image", [`${RESULTS}/r/a.png`]));
    await expect(failed).rejects.toBeInstanceOf(ResultUndeliverable);
    expect(requested.filter((url) => url.startsWith(RESULTS))).toEqual([]);
    const text = sendResult(deps(), result("text", [], { text: "hello" }));
    await expect(text).rejects.toBeInstanceOf(ResultUndeliverable);
  });

  it("stops at a chat Telegram does not know: nothing downloaded, nothing else tried, undeliverable", async () => {
    refuse = () => ({ status: 400, description: "Bad Request: chat not found" });
    const failed = sendResult(deps(), result("image", [`${RESULTS}/r/a.png`, "https://evil.example/b.png"]));
    await expect(failed).rejects.toBeInstanceOf(ResultUndeliverable);
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto"]);
    expect(requested.filter((url) => url.startsWith(RESULTS))).toEqual([]);
  });

  it("after part of the result went out, a refusal is reported as such, not as undeliverable", async () => {
    refuse = (call) => (call.method === "sendMessage" ? entities : undefined);
    const failed = sendResult(deps(), result("image", [`${RESULTS}/r/a.png`, "https://evil.example/b.png"]));
    await expect(failed).rejects.toBeInstanceOf(GrammyError);
    expect(calls.filter((c) => c.method === "sendPhoto")).toHaveLength(1);
  });

  it("tells refusals of the text from refusals of the file by Telegram's description", () => {
    const of = (description: string, code = 400) =>
      refusalOf(new GrammyError("refused", { ok: false, error_code: code, description }, "sendPhoto", {}));
    for (const description of [
      "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
      "Bad Request: message caption is too long",
      "Bad Request: message is too long",
      "Bad Request: MESSAGE_TOO_LONG",
      "Bad Request: message text is empty",
      "Bad Request: text must be non-empty",
      "Bad Request: strings must be encoded in UTF-8",
      "Bad Request: BUTTON_DATA_INVALID",
    ])
      expect([description, of(description)]).toEqual([description, "text"]);
    for (const description of [
      "Bad Request: wrong file identifier/HTTP URL specified",
      "Bad Request: failed to get HTTP URL content",
      "Bad Request: wrong type of the web page content",
      "Bad Request: PHOTO_INVALID_DIMENSIONS",
      "Bad Request: IMAGE_PROCESS_FAILED",
    ])
      expect([description, of(description)]).toEqual([description, "file"]);
    expect(of("Bad Request: chat not found")).toBe("chat");
    expect(of("Request Entity Too Large", 413)).toBe("file");
    expect(of("Internal Server Error", 500)).toBeUndefined();
    expect(of("Too Many Requests: retry after 5", 429)).toBeUndefined();
  });
});

describe("fallbacks", () => {
  it("downloads and uploads a file Telegram could not fetch", async () => {
    serveResult("/r/pic.png", [1, 2, 3, 4]);
    refuse = urlRefused;
    const outcome = await sendResult(deps(), result("image", [`${RESULTS}/r/pic.png`]));
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto", "sendPhoto"]);
    expect(calls[1]?.uploads).toEqual([{ name: "pic.png", bytes: [1, 2, 3, 4] }]);
    expect(calls[1]?.body).toMatchObject({ chat_id: CHAT, caption: CAPTION, parse_mode: "HTML" });
    expect(keyboardOf(calls[1])).toEqual(KEYBOARD);
    expect(requested).toContain(`${RESULTS}/r/pic.png`);
    expect(outcome.via).toEqual(["upload"]);
  });

  it("sends a photo Telegram refuses to take as a document", async () => {
    serveResult("/r/huge.png", [9, 9]);
    refuse = (call) =>
      call.method === "sendPhoto"
        ? {
            status: 400,
            description: call.uploads.length > 0 ? "Bad Request: PHOTO_INVALID_DIMENSIONS" : "Bad Request: wrong type",
          }
        : undefined;
    const outcome = await sendResult(deps(), result("image", [`${RESULTS}/r/huge.png`]));
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto", "sendPhoto", "sendDocument"]);
    expect(calls[2]?.uploads).toEqual([{ name: "huge.png", bytes: [9, 9] }]);
    expect(outcome.via).toEqual(["document"]);
  });

  it("falls back per photo when an album is refused", async () => {
    serveResult("/r/2.png", [2]);
    refuse = (call) =>
      call.method === "sendMediaGroup" || call.body.photo === `${RESULTS}/r/2.png`
        ? { status: 400, description: "Bad Request: wrong file identifier/HTTP URL specified" }
        : undefined;
    const urls = [1, 2, 3].map((n) => `${RESULTS}/r/${n}.png`);
    const outcome = await sendResult(deps(), result("image", urls));
    expect(calls.map((c) => c.method)).toEqual(["sendMediaGroup", "sendPhoto", "sendPhoto", "sendPhoto", "sendPhoto"]);
    expect(calls.map((c) => c.body.caption)).toEqual([undefined, CAPTION, undefined, undefined, undefined]);
    expect(calls.map(keyboardOf)).toEqual([undefined, undefined, undefined, undefined, KEYBOARD]);
    expect(outcome.via).toEqual(["url", "upload", "url"]);
  });

  it("links a result on a host that is not allowed, without fetching it", async () => {
    const url = "https://evil.example/r/a.png?x=1&y=<2>";
    const outcome = await sendResult(deps(), result("image", [url]));
    expect(calls.map((c) => c.method)).toEqual(["sendMessage"]);
    const text = String(calls[0]?.body.text);
    expect(text).toContain('<a href="https://evil.example/r/a.png?x=1&amp;y=%3C2%3E">');
    expect(text.startsWith(CAPTION)).toBe(true);
    expect(keyboardOf(calls[0])).toEqual(KEYBOARD);
    expect(requested.some((u) => u.includes("evil.example"))).toBe(false);
    expect(outcome.via).toEqual(["link"]);
  });

  it("never fetches private addresses", async () => {
    const outcome = await sendResult(deps(), result("image", ["https://127.0.0.1/x.png", "https://[::1]/x"]));
    expect(calls.map((c) => c.method)).toEqual(["sendMessage", "sendMessage"]);
    expect(requested.filter((u) => !u.startsWith("https://api.telegram.org/"))).toEqual([]);
    expect(calls.map(keyboardOf)).toEqual([undefined, KEYBOARD]);
    expect(outcome.via).toEqual(["link", "link"]);
  });

  it("links a file too large to download", async () => {
    serveResult(
      "/v/big.mp4",
      Array.from({ length: 5_000 }, () => 7),
    );
    refuse = urlRefused;
    const outcome = await sendResult(deps({ maxBytes: 1_000 }), result("video", [`${RESULTS}/v/big.mp4`]));
    expect(calls.map((c) => c.method)).toEqual(["sendVideo", "sendMessage"]);
    expect(String(calls[1]?.body.text)).toContain(`<a href="${RESULTS}/v/big.mp4">`);
    expect(outcome.via).toEqual(["link"]);
  });

  it("skips URLs that cannot even be linked and fails when none is left", async () => {
    const undeliverable = sendResult(
      deps(),
      result("image", ["http://tempfile.aiquickdraw.com/a.png", "javascript:alert(1)"]),
    );
    await expect(undeliverable).rejects.toBeInstanceOf(ResultUndeliverable);
    await expect(undeliverable).rejects.toMatchObject({ code: "result_undeliverable" });
    await expect(sendResult(deps(), result("text", [], { text: "  " }))).rejects.toBeInstanceOf(ResultUndeliverable);
    expect(calls).toEqual([]);
    expect(requested).toEqual([]);

    const outcome = await sendResult(deps(), result("image", ["http://x.example/a.png", `${RESULTS}/r/a.png`]));
    expect(calls.map((c) => [c.method, c.body.photo])).toEqual([["sendPhoto", `${RESULTS}/r/a.png`]]);
    expect(outcome.via).toEqual(["url"]);
  });

  it("lets other Telegram errors propagate", async () => {
    refuse = () => ({ status: 500, description: "Internal Server Error" });
    const failed = sendResult(deps(), result("image", [`${RESULTS}/r/a.png`]));
    await expect(failed).rejects.toBeInstanceOf(GrammyError);
    await expect(failed).rejects.toMatchObject({ error_code: 500 });
    expect(calls.map((c) => c.method)).toEqual(["sendPhoto"]);
    expect(requested.filter((u) => u.startsWith(RESULTS))).toEqual([]);
  });
});
