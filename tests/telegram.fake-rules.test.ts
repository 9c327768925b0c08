/**
 * The fake Telegram is as strict as the real one: each documented limit is
 * accepted at the limit and refused one past it, with Telegram's own
 * answer, through the pure rules and through both fake Bot APIs.
 */
import { Api, GrammyError, HttpError, InputFile } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TOKEN } from "./helpers/app.ts";
import { type BotCall, botApiServer, userOf } from "./helpers/bot-harness.ts";
import { startFakeBotApi } from "./helpers/fake-bot-api.ts";
import {
  checkCall,
  DESCRIPTIONS,
  FakeTelegram,
  PRE_CHECKOUT_ANSWER_MS,
  parseTelegramHtml,
  type Refusal,
  type StoredMessage,
} from "./helpers/telegram/mod.ts";

const CHAT = 42;
const noMessages = { message: () => undefined };
const check = (method: string, payload: Record<string, unknown>) =>
  checkCall(method, { chat_id: CHAT, ...payload }, noMessages);
const refusedWith = (description: string): Refusal => ({ status: 400, description });
const send = (text: string, extra: Record<string, unknown> = {}) => check("sendMessage", { text, ...extra });
const html = (text: string) => send(text, { parse_mode: "HTML" });
const parseError = (error: string) => refusedWith(DESCRIPTIONS.parseEntities(error));
const keyboard = (...buttons: Record<string, unknown>[]) => ({ inline_keyboard: [buttons] });

describe("message text: 1-4096 characters after entity parsing, counted in UTF-16 code units", () => {
  it("accepts 4096 Cyrillic letters and refuses 4097", () => {
    expect(send("я".repeat(4096))).toBeUndefined();
    expect(send("я".repeat(4097))).toEqual(refusedWith("Bad Request: message is too long"));
  });

  it("counts an emoji outside the BMP as 2: 2048 emoji fit, one more letter does not", () => {
    expect(send("😀".repeat(2048))).toBeUndefined();
    expect(send(`${"😀".repeat(2048)}a`)).toEqual(refusedWith(DESCRIPTIONS.textTooLong));
  });

  it("counts a combining mark and RTL letters one unit each", () => {
    const accented = "е\u0301"; // 2 units
    expect(send(accented.repeat(2048))).toBeUndefined();
    expect(send(`${accented.repeat(2048)}م`)).toEqual(refusedWith(DESCRIPTIONS.textTooLong));
    expect(send(`${"مرحبا".repeat(819)}م`)).toBeUndefined();
  });

  it("measures after parsing: tags cost nothing, an entity is one character", () => {
    expect(html(`<b>${"Ж".repeat(4096)}</b>`)).toBeUndefined();
    expect(html("&lt;".repeat(4096))).toBeUndefined();
    expect(html("&lt;".repeat(4097))).toEqual(refusedWith(DESCRIPTIONS.textTooLong));
  });

  it("refuses an empty text, one that parses to nothing and one of white space only", () => {
    expect(send("")).toEqual(refusedWith("Bad Request: message text is empty"));
    expect(check("sendMessage", {})).toEqual(refusedWith(DESCRIPTIONS.textEmpty));
    expect(html("<b></b>")).toEqual(refusedWith(DESCRIPTIONS.textEmpty));
    expect(send(" \n\t ")).toEqual(refusedWith(DESCRIPTIONS.textEmpty));
  });

  it("refuses a text over 32 KiB before parsing it", () => {
    expect(html(`<b>${"я".repeat(16_384)}</b>`)).toEqual(refusedWith("Bad Request: text is too long"));
  });
});

describe("captions: up to 1024 characters after entity parsing", () => {
  for (const method of ["sendPhoto", "sendVideo", "sendAudio", "sendDocument"]) {
    it(`${method}: 1024 accepted, 1025 refused with Telegram's caption error`, () => {
      const base = { photo: "p", video: "v", audio: "a", document: "d", parse_mode: "HTML" };
      expect(check(method, { ...base, caption: `<i>${"ё".repeat(1024)}</i>` })).toBeUndefined();
      expect(check(method, { ...base, caption: "😀".repeat(512) })).toBeUndefined();
      expect(check(method, { ...base, caption: `${"😀".repeat(512)}!` })).toEqual(
        refusedWith("Bad Request: message caption is too long"),
      );
      expect(check(method, base)).toBeUndefined();
    });
  }

  it("editMessageCaption: the same limit, on a media message only", () => {
    const telegram = new FakeTelegram();
    const sent = telegram.answer("sendPhoto", { chat_id: CHAT, photo: "p" });
    const id = (sent.body.result as { message_id: number }).message_id;
    const edit = (caption: string) => telegram.answer("editMessageCaption", { chat_id: CHAT, message_id: id, caption });
    expect(edit("ы".repeat(1024)).status).toBe(200);
    expect(edit("ы".repeat(1025)).body.description).toBe(DESCRIPTIONS.captionTooLong);
    const text = telegram.answer("sendMessage", { chat_id: CHAT, text: "текст" });
    const textId = (text.body.result as { message_id: number }).message_id;
    expect(
      telegram.answer("editMessageCaption", { chat_id: CHAT, message_id: textId, caption: "x" }).body,
    ).toMatchObject({
      ok: false,
      error_code: 400,
      description: "Bad Request: there is no caption in the message to edit",
    });
  });
});

describe("parse_mode HTML, parsed by Telegram's rules", () => {
  it("accepts every supported tag and attribute form", () => {
    const text = [
      "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>",
      '<span class="tg-spoiler">sp</span><tg-spoiler>sp</tg-spoiler><a href="https://kie.ai/a?b=1&amp;c=2">a</a>',
      '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code><pre>p</pre>',
      '<pre><code class="language-ts">x</code></pre><blockquote>q</blockquote><blockquote expandable>q</blockquote>',
      "<B>upper</B><b><i><u>nested</u></i></b>",
    ].join("\n");
    expect(html(text)).toBeUndefined();
  });

  it("refuses an unsupported tag, naming it and its byte offset (Cyrillic is 2 bytes a letter)", () => {
    expect(html("<p>x</p>")).toEqual(parseError('Unsupported start tag "p" at byte offset 0'));
    expect(html("Привет <br> мир")).toEqual(parseError('Unsupported start tag "br" at byte offset 13'));
    expect(html("Цена < 100 ₽")).toEqual(parseError('Unsupported start tag "" at byte offset 9'));
  });

  it("refuses unclosed, unexpected and misnested tags", () => {
    expect(html("<b>жирный")).toEqual(parseError(`Can't find end tag corresponding to start tag "b"`));
    expect(html("текст</b>")).toEqual(parseError("Unexpected end tag at byte offset 10"));
    expect(html("<b><i>x</b></i>")).toEqual(
      parseError('Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    );
    expect(html("<b")).toEqual(parseError("Unclosed start tag at byte offset 0"));
    expect(html('<a href="x>y')).toEqual(parseError("Unclosed start tag at byte offset 0"));
  });

  it("refuses a span without the spoiler class and a custom emoji without a numeric id", () => {
    expect(html("<span>x</span>")).toEqual(parseError('Tag "span" must have class "tg-spoiler" at byte offset 0'));
    expect(html('<tg-emoji emoji-id="abc">👍</tg-emoji>')).toEqual(
      parseError("Invalid custom emoji identifier specified"),
    );
  });

  it("decodes &lt; &gt; &amp; &quot; and numeric entities, and leaves any other &name literal", () => {
    const parsed = parseTelegramHtml("&lt;b&gt; &amp; &quot;q&quot; &#1046; &#x1F600; &nbsp; AT&T");
    expect(parsed).toEqual({ ok: true, text: '<b> & "q" Ж 😀 &nbsp; AT&T', entities: [] });
  });

  it("refuses a numeric entity that decodes to a lone surrogate", () => {
    expect(html("&#55357;")).toEqual(
      parseError(
        "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units",
      ),
    );
  });

  it("reports entities with UTF-16 offsets", () => {
    expect(parseTelegramHtml("<b>Ж</b>😀<i>x</i>")).toEqual({
      ok: true,
      text: "Ж😀x",
      entities: [
        { type: "bold", offset: 0, length: 1 },
        { type: "italic", offset: 3, length: 1 },
      ],
    });
  });
});

describe("strings must be valid UTF-8: a lone UTF-16 surrogate is refused", () => {
  it("in a message text, a button, a callback answer and an invoice", () => {
    expect(send("обрыв \uD83D")).toEqual(refusedWith("Bad Request: text must be encoded in UTF-8"));
    expect(send("ok", { reply_markup: keyboard({ text: "\uDE00", callback_data: "1" }) })).toEqual(
      refusedWith("Bad Request: inline keyboard button text must be encoded in UTF-8"),
    );
    expect(check("answerCallbackQuery", { callback_query_id: "1", text: "a\uD800" })).toEqual(
      refusedWith("Bad Request: strings must be encoded in UTF-8"),
    );
    expect(check("sendInvoice", { ...INVOICE, title: "Звёзды \uD83C" })).toEqual(
      refusedWith("Bad Request: invoice title must be encoded in UTF-8"),
    );
  });

  it("arriving as a \\udXXX escape in the JSON body the bot sends", async () => {
    const fake = await startFakeBotApi({ telegram: new FakeTelegram() });
    try {
      const response = await fetch(`${fake.apiRoot}/bot${TEST_TOKEN}/sendMessage`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ chat_id: CHAT, text: "Привет \uD83D" }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        ok: false,
        error_code: 400,
        description: DESCRIPTIONS.textNotUtf8,
      });
      expect(fake.calls).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});

describe("inline keyboards", () => {
  const withButton = (button: Record<string, unknown>) => send("меню", { reply_markup: keyboard(button) });

  it("callback_data: 1-64 bytes (a Cyrillic letter is 2, an emoji 4)", () => {
    expect(withButton({ text: "a", callback_data: "x".repeat(64) })).toBeUndefined();
    expect(withButton({ text: "a", callback_data: "x".repeat(65) })).toEqual(
      refusedWith("Bad Request: BUTTON_DATA_INVALID"),
    );
    expect(withButton({ text: "a", callback_data: "ж".repeat(32) })).toBeUndefined();
    expect(withButton({ text: "a", callback_data: `${"ж".repeat(32)}1` })).toEqual(
      refusedWith(DESCRIPTIONS.buttonDataInvalid),
    );
    expect(withButton({ text: "a", callback_data: "😀".repeat(16) })).toBeUndefined();
    expect(withButton({ text: "a", callback_data: "" })).toEqual(
      refusedWith("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"),
    );
  });

  it("button text must be non-empty and a url button must carry a URL", () => {
    expect(withButton({ text: "", callback_data: "1" })).toEqual(
      refusedWith("Bad Request: inline keyboard button text must be non-empty"),
    );
    expect(withButton({ text: "Сайт", url: "https://kie.ai/market" })).toBeUndefined();
    expect(withButton({ text: "Сайт", url: "kie ai" })).toEqual(refusedWith("Bad Request: BUTTON_URL_INVALID"));
    expect(withButton({ text: "Оплатить", pay: true })).toBeUndefined();
  });

  it("refuses a keyboard that is not an array of rows", () => {
    expect(send("x", { reply_markup: { inline_keyboard: [{ text: "a", callback_data: "1" }] } })).toEqual(
      refusedWith(DESCRIPTIONS.keyboardNotArrays),
    );
  });
});

describe("answerCallbackQuery: text up to 200 characters", () => {
  it("accepts 200 Cyrillic letters and refuses 201", () => {
    expect(check("answerCallbackQuery", { callback_query_id: "7", text: "щ".repeat(200) })).toBeUndefined();
    expect(check("answerCallbackQuery", { callback_query_id: "7", text: "щ".repeat(201) })).toEqual(
      refusedWith("Bad Request: MESSAGE_TOO_LONG"),
    );
  });
});

describe("a callback query is answered once", () => {
  it("refuses a second answer to the same query", () => {
    const telegram = new FakeTelegram();
    expect(telegram.answer("answerCallbackQuery", { callback_query_id: "5001" }).status).toBe(200);
    expect(telegram.answer("answerCallbackQuery", { callback_query_id: "5001", text: "ещё" }).body.description).toBe(
      "Bad Request: query is too old and response timeout expired or query ID is invalid",
    );
    expect(telegram.answer("answerCallbackQuery", { callback_query_id: "5002" }).status).toBe(200);
  });
});

describe("sendMediaGroup: 2-10 items, each caption up to 1024", () => {
  const photos = (count: number, caption?: string) =>
    check("sendMediaGroup", {
      media: Array.from({ length: count }, (_, i) => ({ type: "photo", media: `https://kie.ai/${i}.png`, caption })),
    });

  it("accepts 2 and 10 and refuses 1 and 11", () => {
    expect(photos(2)).toBeUndefined();
    expect(photos(10)).toBeUndefined();
    expect(photos(1)).toEqual(refusedWith(DESCRIPTIONS.mediaGroupTooSmall));
    expect(photos(11)).toEqual(refusedWith("Bad Request: too many messages to send as an album"));
  });

  it("checks each item's caption, refuses audio mixed with photos and an empty album", () => {
    expect(photos(3, "к".repeat(1024))).toBeUndefined();
    expect(photos(3, "к".repeat(1025))).toEqual(refusedWith(DESCRIPTIONS.captionTooLong));
    const mixed = check("sendMediaGroup", {
      media: [
        { type: "photo", media: "a" },
        { type: "audio", media: "b" },
      ],
    });
    expect(mixed).toEqual(refusedWith("Bad Request: audio can't be mixed with other media types"));
    expect(check("sendMediaGroup", { media: [] })).toEqual(refusedWith("Bad Request: there are no messages to send"));
  });
});

const INVOICE = {
  title: "Пополнение",
  description: "100 ₽ на баланс",
  payload: "inv-1",
  currency: "XTR",
  prices: [{ label: "100 ₽", amount: 50 }],
};

describe("sendInvoice: title 1-32, description 1-255, payload 1-128 bytes, currency and prices", () => {
  const invoice = (fields: Record<string, unknown>) => check("sendInvoice", { ...INVOICE, ...fields });

  it("title: 32 accepted (emoji count 2), 33 and empty refused", () => {
    expect(invoice({ title: "Ж".repeat(32) })).toBeUndefined();
    expect(invoice({ title: "⭐".repeat(32) })).toBeUndefined();
    expect(invoice({ title: "Ж".repeat(33) })).toEqual(refusedWith(DESCRIPTIONS.invoiceTitleInvalid));
    expect(invoice({ title: "" })).toEqual(refusedWith('Bad Request: parameter "title" is required'));
  });

  it("description: 255 accepted, 256 and empty refused", () => {
    expect(invoice({ description: "д".repeat(255) })).toBeUndefined();
    expect(invoice({ description: "д".repeat(256) })).toEqual(refusedWith(DESCRIPTIONS.invoiceDescriptionInvalid));
    expect(invoice({ description: "" })).toEqual(refusedWith(DESCRIPTIONS.parameterRequired("description")));
  });

  it("payload: 128 bytes accepted (64 Cyrillic letters), 129 and empty refused", () => {
    expect(invoice({ payload: "п".repeat(64) })).toBeUndefined();
    expect(invoice({ payload: `${"п".repeat(64)}1` })).toEqual(refusedWith(DESCRIPTIONS.invoicePayloadInvalid));
    expect(invoice({ payload: "" })).toEqual(refusedWith(DESCRIPTIONS.parameterRequired("payload")));
  });

  it("currency and prices: a Stars invoice has one price and no provider token; amounts are positive integers", () => {
    expect(invoice({ currency: "rub" })).toEqual(refusedWith(DESCRIPTIONS.currencyInvalid));
    expect(invoice({ prices: [] })).toEqual(refusedWith(DESCRIPTIONS.pricesEmpty));
    expect(invoice({ prices: [{ label: "", amount: 5 }] })).toEqual(refusedWith(DESCRIPTIONS.priceLabelEmpty));
    expect(invoice({ prices: [{ label: "a", amount: 1.5 }] })).toEqual(refusedWith(DESCRIPTIONS.priceAmountInvalid));
    expect(invoice({ prices: [...INVOICE.prices, { label: "b", amount: 1 }] })).toEqual(
      refusedWith(DESCRIPTIONS.starsInvoiceInvalid),
    );
    expect(invoice({ provider_token: "tok" })).toEqual(refusedWith(DESCRIPTIONS.starsInvoiceInvalid));
    expect(invoice({ prices: [{ label: "a", amount: 0 }] })).toEqual(refusedWith(DESCRIPTIONS.currencyTotalInvalid));
    expect(
      invoice({
        currency: "RUB",
        provider_token: "tok",
        prices: [
          { label: "a", amount: 10000 },
          { label: "b", amount: 1 },
        ],
      }),
    ).toBeUndefined();
  });
});

describe("message state: edits answer as Telegram does", () => {
  const idOf = (answer: { body: Record<string, unknown> }) => (answer.body.result as { message_id: number }).message_id;
  const menu = keyboard({ text: "Назад", callback_data: "1|m" });

  it("refuses an edit of a message it never sent and of a message without text", () => {
    const telegram = new FakeTelegram();
    const edit = (message_id: number) =>
      telegram.answer("editMessageText", { chat_id: CHAT, message_id, text: "новый", parse_mode: "HTML" });
    expect(edit(99).body.description).toBe("Bad Request: message to edit not found");
    const photo = idOf(telegram.answer("sendPhoto", { chat_id: CHAT, photo: "p", caption: "фото" }));
    expect(edit(photo).body.description).toBe("Bad Request: there is no text in the message to edit");
    expect(edit(0).body.description).toBe(DESCRIPTIONS.messageIdInvalid);
  });

  it("refuses an edit that changes nothing (text after parsing and keyboard), accepts one that changes either", () => {
    const telegram = new FakeTelegram();
    const id = idOf(
      telegram.answer("sendMessage", { chat_id: CHAT, text: "<b>Баланс</b>", parse_mode: "HTML", reply_markup: menu }),
    );
    const edit = (text: string, reply_markup?: unknown) =>
      telegram.answer("editMessageText", { chat_id: CHAT, message_id: id, text, parse_mode: "HTML", reply_markup });
    const notModified = edit("<strong>Баланс</strong>", menu);
    expect(notModified.status).toBe(400);
    expect(notModified.body.description).toBe(
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
    );
    expect(edit("<i>Баланс</i>", menu).status).toBe(200);
    // Without reply_markup the keyboard goes: a change; the same again is not.
    expect(edit("<i>Баланс</i>").status).toBe(200);
    expect(edit("<i>Баланс</i>").body.description).toBe(DESCRIPTIONS.notModified);
    expect(telegram.message(CHAT, id)).toMatchObject({ text: "Баланс", markup: undefined });
  });

  it("compares entities given without a parse mode too", () => {
    const telegram = new FakeTelegram();
    const bold = [{ type: "bold", offset: 0, length: 6 }];
    const id = idOf(telegram.answer("sendMessage", { chat_id: CHAT, text: "Баланс", entities: bold }));
    const edit = (entities?: unknown) =>
      telegram.answer("editMessageText", { chat_id: CHAT, message_id: id, text: "Баланс", entities });
    expect(edit(bold).body.description).toBe(DESCRIPTIONS.notModified);
    expect(edit().status).toBe(200);
  });

  it("editMessageReplyMarkup and deleteMessage know the messages too", () => {
    const telegram = new FakeTelegram();
    const id = idOf(telegram.answer("sendMessage", { chat_id: CHAT, text: "x", reply_markup: menu }));
    const markup = (reply_markup: unknown) =>
      telegram.answer("editMessageReplyMarkup", { chat_id: CHAT, message_id: id, reply_markup });
    expect(markup(menu).body.description).toBe(DESCRIPTIONS.notModified);
    expect(markup({ inline_keyboard: [] }).status).toBe(200);
    expect(telegram.answer("deleteMessage", { chat_id: CHAT, message_id: id }).status).toBe(200);
    expect(telegram.answer("deleteMessage", { chat_id: CHAT, message_id: id }).body.description).toBe(
      "Bad Request: message to delete not found",
    );
  });

  it("counts message ids per chat and returns Telegram's Message objects", () => {
    const telegram = new FakeTelegram();
    const first = telegram.answer("sendMessage", { chat_id: 1, text: "<b>a</b>", parse_mode: "HTML" }).body.result;
    telegram.answer("sendMessage", { chat_id: 1, text: "b" });
    const other = telegram.answer("sendMessage", { chat_id: 2, text: "c" }).body.result;
    expect(first).toMatchObject({
      message_id: 1,
      chat: { id: 1 },
      text: "a",
      entities: [{ type: "bold", offset: 0, length: 1 }],
    });
    expect(other).toMatchObject({ message_id: 1, chat: { id: 2 } });
    const album = telegram.answer("sendMediaGroup", {
      chat_id: 1,
      media: [
        { type: "photo", media: "a", caption: "один" },
        { type: "photo", media: "b" },
      ],
    }).body.result as { message_id: number; media_group_id: string }[];
    expect(album.map((message) => message.message_id)).toEqual([3, 4]);
    expect(album[0]?.media_group_id).toBe(album[1]?.media_group_id);
  });
});

describe("a press refers to a message Telegram sent", () => {
  it("names the latest message carrying the button, with its text and keyboard", () => {
    const telegram = new FakeTelegram();
    telegram.answer("sendMessage", {
      chat_id: 7,
      text: "меню",
      reply_markup: keyboard({ text: "A", callback_data: "1|a" }),
    });
    telegram.answer("sendMessage", {
      chat_id: 7,
      text: "другое",
      reply_markup: keyboard({ text: "B", callback_data: "1|b" }),
    });
    const update = userOf(7, "ru", "Анна", telegram).press("1|a");
    expect(update.callback_query?.message).toMatchObject({ message_id: 1, text: "меню", chat: { id: 7 } });
    const pressed = telegram.message(7, 1) as StoredMessage;
    expect(pressed.markup).toEqual(keyboard({ text: "A", callback_data: "1|a" }));
  });

  it("records a message for a press the test names by id, so the bot's edit of it is valid", () => {
    const telegram = new FakeTelegram();
    const update = userOf(8, "en", "Ann", telegram).press("1|m", 100);
    expect(update.callback_query?.message?.message_id).toBe(100);
    expect(telegram.answer("editMessageText", { chat_id: 8, message_id: 100, text: "Menu" }).status).toBe(200);
    expect(telegram.answer("sendMessage", { chat_id: 8, text: "next" }).body.result).toMatchObject({ message_id: 101 });
  });
});

describe("429 on demand, per chat and global, with retry_after", () => {
  it("answers a chat's next calls with Too Many Requests while other chats go through", () => {
    const telegram = new FakeTelegram();
    telegram.floodWait({ chatId: 1, retryAfter: 3, calls: 2 });
    const toOne = () => telegram.answer("sendMessage", { chat_id: 1, text: "x" });
    expect(telegram.answer("sendMessage", { chat_id: 2, text: "x" }).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect(toOne()).toMatchObject({
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: "Too Many Requests: retry after 3",
          parameters: { retry_after: 3 },
        },
      });
    }
    expect(toOne().status).toBe(200);
  });

  it("a global flood wait holds every chat and every method", () => {
    const telegram = new FakeTelegram();
    telegram.floodWait({ retryAfter: 7 });
    expect(telegram.answer("answerCallbackQuery", { callback_query_id: "1" }).body.parameters).toEqual({
      retry_after: 7,
    });
    expect(telegram.answer("sendMessage", { chat_id: 5, text: "x" }).status).toBe(200);
  });
});

describe("refusals are visible to tests and the chaos run", () => {
  it("lists each refused call with its method, chat, description and a short summary", () => {
    const telegram = new FakeTelegram();
    const seen: string[] = [];
    telegram.onRefusal((refusal) => seen.push(refusal.description));
    telegram.answer("sendMessage", { chat_id: 3, text: "я".repeat(5000) });
    expect(telegram.refusals).toEqual([
      {
        method: "sendMessage",
        chatId: 3,
        status: 400,
        description: DESCRIPTIONS.textTooLong,
        summary: expect.stringContaining("(5000 chars)"),
      },
    ]);
    expect(seen).toEqual([DESCRIPTIONS.textTooLong]);
  });
});

describe("both fake Bot APIs answer through the same rules", () => {
  const calls: BotCall[] = [];
  const telegram = new FakeTelegram();
  const server = botApiServer(calls, { telegram });
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());

  it("the msw harness refuses as Telegram (grammY sees the GrammyError) and records the call", async () => {
    const api = new Api(TEST_TOKEN);
    const error = await api.sendMessage(CHAT, "<b>открыт", { parse_mode: "HTML" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).description).toBe(
      `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`,
    );
    expect(calls.at(-1)?.method).toBe("sendMessage");
    expect(telegram.refusals.at(-1)?.description).toBe((error as GrammyError).description);
    const sent = await api.sendMessage(CHAT, "<b>закрыт</b>", { parse_mode: "HTML" });
    expect(sent).toMatchObject({ text: "закрыт", entities: [{ type: "bold", offset: 0, length: 6 }] });
  });

  it("the msw harness reads an upload's multipart fields and checks them as JSON ones", async () => {
    const api = new Api(TEST_TOKEN);
    const photo = () => new InputFile(new Uint8Array([137, 80, 78, 71]), "result.png");
    const markup = { inline_keyboard: [[{ text: "Ещё", callback_data: "1|r|0" }]] };
    const error = await api
      .sendPhoto(CHAT, photo(), { caption: "я".repeat(1025), reply_markup: markup })
      .catch((e: unknown) => e);
    expect((error as GrammyError).description).toBe(DESCRIPTIONS.captionTooLong);
    const sent = await api.sendPhoto(CHAT, photo(), { caption: "я".repeat(1024), reply_markup: markup });
    expect(sent).toMatchObject({ caption: "я".repeat(1024), reply_markup: markup });
    expect(sent.photo?.length).toBeGreaterThan(0);
    expect(calls.at(-1)?.body).toMatchObject({ multipart: true, reply_markup: markup });
  });

  it("the msw harness answers 429 with retry_after when a flood wait is asked for", async () => {
    const api = new Api(TEST_TOKEN);
    telegram.floodWait({ chatId: CHAT, retryAfter: 4 });
    const error = (await api.sendMessage(CHAT, "привет").catch((e: unknown) => e)) as GrammyError;
    expect([error.error_code, error.description, error.parameters.retry_after]).toEqual([
      429,
      "Too Many Requests: retry after 4",
      4,
    ]);
    expect((await api.sendMessage(CHAT, "привет")).text).toBe("привет");
  });
});

describe("the HTTP fake Bot API answers through the same rules", () => {
  it("the HTTP fake refuses the same call the same way and keeps it out of its calls", async () => {
    const own = new FakeTelegram();
    const fake = await startFakeBotApi({ telegram: own });
    try {
      const api = new Api(TEST_TOKEN, { apiRoot: fake.apiRoot });
      const error = await api.sendMessage(CHAT, "<b>открыт", { parse_mode: "HTML" }).catch((e: unknown) => e);
      expect((error as GrammyError).description).toBe(
        `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`,
      );
      expect(fake.calls).toEqual([]);
      expect(fake.refusals.map((refusal) => refusal.method)).toEqual(["sendMessage"]);
      own.floodWait({ chatId: CHAT, retryAfter: 2 });
      const flood = await api.sendMessage(CHAT, "ok").catch((e: unknown) => e);
      expect((flood as GrammyError).error_code).toBe(429);
      expect((flood as GrammyError).parameters.retry_after).toBe(2);
      expect((await api.sendMessage(CHAT, "ok")).message_id).toBe(1);
    } finally {
      await fake.close();
    }
  });
});

describe("Stars charges: refundStarPayment refunds a charge Telegram took, from its own user, once", () => {
  const refund = (telegram: FakeTelegram, userId: number, chargeId: string) =>
    telegram.answer("refundStarPayment", { user_id: userId, telegram_payment_charge_id: chargeId });

  it("refuses a charge it never took, and another user's, with CHARGE_NOT_FOUND", () => {
    const telegram = new FakeTelegram();
    telegram.recordStarsCharge({ chargeId: "ch-1", userId: 7, stars: 100 });
    expect(refund(telegram, 7, "ch-unknown").body).toEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: CHARGE_NOT_FOUND",
    });
    expect(refund(telegram, 8, "ch-1").body.description).toBe(DESCRIPTIONS.chargeNotFound);
    expect([...telegram.refundedCharges()]).toEqual([]);
    expect(telegram.refusals.map((refusal) => refusal.method)).toEqual(["refundStarPayment", "refundStarPayment"]);
  });

  it("refunds a known charge once: a second refund is CHARGE_ALREADY_REFUNDED", () => {
    const telegram = new FakeTelegram();
    telegram.recordStarsCharge({ chargeId: "ch-1", userId: 7, stars: 100 });
    telegram.recordStarsCharge({ chargeId: "ch-2", userId: 7, stars: 250 });
    expect(refund(telegram, 7, "ch-1")).toEqual({ status: 200, body: { ok: true, result: true } });
    expect([...telegram.refundedCharges()]).toEqual(["ch-1"]);
    expect(telegram.starsCharge("ch-1")).toMatchObject({ userId: 7, refunded: true });
    expect(telegram.starsCharge("ch-2")).toMatchObject({ userId: 7, refunded: false });
    const again = refund(telegram, 7, "ch-1");
    expect([again.status, again.body.description]).toEqual([400, "Bad Request: CHARGE_ALREADY_REFUNDED"]);
    expect([...telegram.refundedCharges()]).toEqual(["ch-1"]);
    telegram.reset();
    expect(refund(telegram, 7, "ch-2").body.description).toBe(DESCRIPTIONS.chargeNotFound);
  });

  it("refuses an empty charge id and a user id that is not a positive integer", () => {
    const telegram = new FakeTelegram();
    expect(refund(telegram, 7, "").body.description).toBe("Bad Request: CHARGE_ID_EMPTY");
    expect(refund(telegram, 0, "ch-1").body.description).toBe("Bad Request: USER_ID_INVALID");
  });
});

describe("pre-checkout queries: answered once, within 10 seconds of being sent", () => {
  /** A Telegram on a clock the test moves. */
  const onClock = () => {
    let now = 1_790_000_000_000;
    return { telegram: new FakeTelegram({ now: () => now }), advance: (ms: number) => (now += ms) };
  };
  const answer = (telegram: FakeTelegram, queryId: string) =>
    telegram.answer("answerPreCheckoutQuery", { pre_checkout_query_id: queryId, ok: true });

  it("accepts an answer 10 s after the query and refuses one a millisecond later", () => {
    const { telegram, advance } = onClock();
    telegram.recordPreCheckout("q-in-time");
    telegram.recordPreCheckout("q-late");
    advance(PRE_CHECKOUT_ANSWER_MS);
    expect(answer(telegram, "q-in-time")).toEqual({ status: 200, body: { ok: true, result: true } });
    expect(telegram.preCheckout("q-in-time")?.answered).toBe(true);
    advance(1);
    expect(answer(telegram, "q-late").body).toEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: query is too old and response timeout expired or query ID is invalid",
    });
    // A refused answer leaves the query unanswered: Telegram tells the user the bot did not answer.
    expect(telegram.preCheckout("q-late")?.answered).toBe(false);
  });

  it("refuses a second answer to the same query, and measures from the time it was sent", () => {
    const { telegram, advance } = onClock();
    telegram.recordPreCheckout("q-1");
    expect(answer(telegram, "q-1").status).toBe(200);
    expect(answer(telegram, "q-1").body.description).toBe(DESCRIPTIONS.queryIdInvalid);
    // Sent 9 s before the fake recorded it: one more second and a millisecond is too late.
    telegram.recordPreCheckout("q-2", telegram.now() - 9_000);
    advance(1_001);
    expect(answer(telegram, "q-2").body.description).toBe(DESCRIPTIONS.queryIdInvalid);
    expect(telegram.refusals.map((refusal) => refusal.method)).toEqual([
      "answerPreCheckoutQuery",
      "answerPreCheckoutQuery",
    ]);
  });
});

describe("the HTTP fake's refund faults", () => {
  it("refundServerError: a 500 that refunds nothing, on refundStarPayment only", async () => {
    const own = new FakeTelegram();
    own.recordStarsCharge({ chargeId: "ch-500", userId: 7, stars: 100 });
    const fake = await startFakeBotApi({ telegram: own }, { refundServerError: 1 });
    try {
      const api = new Api(TEST_TOKEN, { apiRoot: fake.apiRoot });
      const error = await api.refundStarPayment(7, "ch-500").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GrammyError);
      expect([(error as GrammyError).error_code, (error as GrammyError).description]).toEqual([
        500,
        "Internal Server Error",
      ]);
      expect([...own.refundedCharges()]).toEqual([]);
      expect(fake.faultCounts.server_error).toBe(1);
      expect(fake.calls).toEqual([]);
      // Other methods go through.
      expect((await api.sendMessage(CHAT, "ok")).text).toBe("ok");
    } finally {
      await fake.close();
    }
  });

  it("refundAnswerLost: the Stars go back but the connection drops; asked again, Telegram says already refunded", async () => {
    const own = new FakeTelegram();
    own.recordStarsCharge({ chargeId: "ch-lost", userId: 7, stars: 100 });
    const lost: string[] = [];
    const lossy = await startFakeBotApi(
      { telegram: own, onAnswerLost: (call) => lost.push(String(call.payload.telegram_payment_charge_id)) },
      { refundAnswerLost: 1 },
    );
    const steady = await startFakeBotApi({ telegram: own });
    try {
      const error = await new Api(TEST_TOKEN, { apiRoot: lossy.apiRoot })
        .refundStarPayment(7, "ch-lost")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect([...own.refundedCharges()]).toEqual(["ch-lost"]);
      expect(lost).toEqual(["ch-lost"]);
      expect(lossy.faultCounts.answer_lost).toBe(1);
      const again = await new Api(TEST_TOKEN, { apiRoot: steady.apiRoot })
        .refundStarPayment(7, "ch-lost")
        .catch((e: unknown) => e);
      expect((again as GrammyError).description).toBe(DESCRIPTIONS.chargeAlreadyRefunded);
    } finally {
      await lossy.close();
      await steady.close();
    }
  });
});
