/**
 * The baseline for the load benchmark: the same screens as our actor bot, written the stock grammY way.
 * One process, one `Bot`; updates arrive by webhook; `sequentialize` from @grammyjs/runner keeps each
 * chat's updates in order; grammY's `session` middleware keeps the user's state in Deno KV (the same
 * store our bot uses); KIE results are polled with timers in the process. It speaks our bot's
 * callback-data protocol (`1|<action>|<args>`) so one load generator drives both, and it builds menus
 * from the shipped catalog with the same catalog code, so each screen costs comparable work.
 *
 * Run: `node --import tsx bench/baseline/bot.ts` with BOT_TOKEN, TELEGRAM_API_ROOT, KIE_API_BASE_URL,
 * KIE_API_KEY, KV_PATH, PORT (0 = any free port) and WEBHOOK_SECRET. Prints `{"msg":"ready","port":N}`
 * once it takes updates on `POST /telegram/webhook`; `GET /stats` gives `{updates, kvCommits}`; SIGTERM stops it.
 */
import { randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { openKv } from "@deno/kv";
import { sequentialize } from "@grammyjs/runner";
import {
  Bot,
  type Context,
  InlineKeyboard,
  type SessionFlavor,
  type StorageAdapter,
  session,
  webhookCallback,
} from "grammy";
import { buildCatalog, type IndexedModel } from "../../catalog/build.ts";
import { catalogReader, readCatalogFiles } from "../../catalog/files.ts";
import { kieRequestFor } from "../../catalog/kie-request.ts";
import { modelCard, modelPage, sectionList } from "../../catalog/queries.ts";
import { priceOf } from "../../catalog/quote.ts";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
}

const LANG = "en";
const PAGE_SIZE = 8;
const POLL_MS = 1_000;
/** A task still not done after this long is given up and refunded. */
const POLL_LIMIT_MS = 10 * 60_000;
const KIE_BASE = env("KIE_API_BASE_URL").replace(/\/+$/, "");
const KIE_KEY = env("KIE_API_KEY");

interface SessionData {
  /** Kopecks. */
  balance: number;
  freeUsed: number;
  wizard?: { id: string; model: string; prompt?: string };
  jobs: number;
}
type Ctx = Context & SessionFlavor<SessionData>;
type Screen = { text: string; keyboard: InlineKeyboard };

// The catalog is built once at start, as our catalog worker does.
const readText = (path: string | URL) => readFile(path, "utf8").catch(() => undefined);
const index = buildCatalog(await readCatalogFiles(catalogReader(readText)));

const kv = await openKv(env("KV_PATH"));
/** Where a chat's session lives in KV. */
const kvKey = (key: string) => ["session", key];

/** What `GET /stats` reports: the load benchmark compares KV commits per update with our bot's. */
const stats = { updates: 0, kvCommits: 0 };

/** grammY's storage adapter contract over Deno KV, one entry per chat (like the official DenoKVAdapter). */
const kvStorage: StorageAdapter<SessionData> = {
  read: async (key) => (await kv.get<SessionData>(kvKey(key))).value ?? undefined,
  write: async (key, value) => {
    stats.kvCommits++;
    await kv.set(kvKey(key), value);
  },
  delete: async (key) => {
    stats.kvCommits++;
    await kv.delete(kvKey(key));
  },
};

/** One key for both ordering and the session: the chat (the user, in a private chat). */
const keyOf = (ctx: Context) => String(ctx.chat?.id ?? ctx.from?.id);

const rub = (kopecks: number) => `${Math.trunc(kopecks / 100)}.${String(Math.abs(kopecks) % 100).padStart(2, "0")} ₽`;
const wizardId = () => Array.from({ length: 8 }, () => randomInt(36).toString(36)).join("");
const menuButton = () => new InlineKeyboard().text("Main menu", "1|m");

/** The price of the model with its default options (the card's "from" price when that does not resolve). */
function priceKopecks(indexed: IndexedModel): number {
  const quote = priceOf(indexed, indexed.defaults);
  return quote.ok ? quote.quote.kopecks : indexed.fromKopecks;
}

function mainMenu(): Screen {
  const keyboard = new InlineKeyboard();
  for (const section of sectionList(index, LANG)) {
    keyboard.text(`${section.title} (${section.count})`, `1|s|${section.id}|0`).row();
  }
  return { text: "Welcome! Pick what to generate.", keyboard };
}

function sectionScreen(section: string, page: number): Screen | undefined {
  const list = modelPage(index, section, page, PAGE_SIZE, LANG, Date.now());
  if (list === undefined) return undefined;
  const keyboard = new InlineKeyboard();
  for (const item of list.items)
    keyboard.text(`${item.name} · ${rub(item.fromKopecks)}`, `1|c|${item.id}|${list.page}`).row();
  if (list.page > 0) keyboard.text("◀", `1|s|${section}|${list.page - 1}`);
  if (list.page < list.pages - 1) keyboard.text("▶", `1|s|${section}|${list.page + 1}`);
  keyboard.row().text("Back", "1|m");
  return { text: `Models (${list.page + 1}/${list.pages}):`, keyboard };
}

function cardScreen(model: string, page: number): Screen | undefined {
  const card = modelCard(index, model, LANG);
  const indexed = index.models.get(model);
  if (card === undefined || indexed === undefined) return undefined;
  const text = `${card.name}\n\n${card.description}\n\nPrice: ${rub(priceKopecks(indexed))}, about ${card.typicalSeconds} s`;
  const keyboard = new InlineKeyboard()
    .text("Generate", `1|g|${model}`)
    .row()
    .text("Back", `1|s|${card.section}|${page}`);
  return { text, keyboard };
}

/** Button presses edit the message they came from; commands and text get a new message. */
async function show(ctx: Ctx, screen: Screen | undefined): Promise<void> {
  if (screen === undefined) {
    if (ctx.callbackQuery) await ctx.answerCallbackQuery("Outdated button");
    return;
  }
  if (ctx.callbackQuery) {
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(screen.text, { reply_markup: screen.keyboard });
  } else {
    await ctx.reply(screen.text, { reply_markup: screen.keyboard });
  }
}

/** One KIE call with its envelope checked (`code` 200 and `data` present). */
async function kie<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${KIE_BASE}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${KIE_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as { code?: number; msg?: string; data?: T | null };
  if (!response.ok || json.code !== 200 || json.data == null) throw new Error(`KIE ${path}: ${json.code} ${json.msg}`);
  return json.data;
}

/** The create request as the catalog builds it; a market body with just the prompt when that does not validate. */
function createBody(indexed: IndexedModel, prompt: string): unknown {
  const promptField = indexed.model.fields.find((field) => field.kind === "prompt")?.name ?? "prompt";
  const built = kieRequestFor(indexed, { ...indexed.defaults, [promptField]: prompt });
  if (built.ok && built.request.family === "market") return built.request.body;
  return { model: indexed.model.kieModel ?? indexed.model.id, input: { [promptField]: prompt } };
}

/**
 * Gives money back outside any update, reading the session from KV again as a typical bot does.
 * Not atomic with the session middleware: an update of the same chat in flight may overwrite it.
 */
async function refund(key: string, kopecks: number): Promise<void> {
  const entry = await kv.get<SessionData>(kvKey(key));
  if (entry.value === null) return;
  stats.kvCommits++;
  await kv.set(kvKey(key), { ...entry.value, balance: entry.value.balance + kopecks });
}

/** A generation in flight: who to send the result to, whose money to give back. */
type Job = { key: string; chatId: number; taskId: string; kopecks: number; startedAt: number };

/** Polls a task every second on a timer (outside the middleware chain) until it succeeds or fails. */
async function poll(job: Job): Promise<void> {
  try {
    const record = await kie<{ state: string; resultJson?: string }>(
      `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(job.taskId)}`,
    );
    if (record.state === "success") {
      const url = (JSON.parse(record.resultJson ?? "{}") as { resultUrls?: string[] }).resultUrls?.[0];
      if (url === undefined) throw new Error(`task ${job.taskId} succeeded without a result`);
      await bot.api.sendPhoto(job.chatId, url, { caption: "Done!", reply_markup: menuButton() });
      return;
    }
    if (record.state === "fail") throw new Error(`task ${job.taskId} failed`);
  } catch (error) {
    console.error(String(error));
    if (!(error instanceof TypeError)) return fail(job); // a network error (TypeError from fetch) is retried
  }
  if (Date.now() - job.startedAt > POLL_LIMIT_MS) return fail(job);
  setTimeout(() => void poll(job), POLL_MS);
}

async function fail(job: Job): Promise<void> {
  await refund(job.key, job.kopecks);
  await bot.api.sendMessage(job.chatId, "Generation failed, the money is back.", { reply_markup: menuButton() });
}

const bot = new Bot<Ctx>(env("BOT_TOKEN"), { client: { apiRoot: env("TELEGRAM_API_ROOT") } });
bot.catch((error) => console.error("update failed:", error.error));
bot.use(sequentialize(keyOf));
bot.use(
  session({ initial: () => ({ balance: 100_000, freeUsed: 0, jobs: 0 }), storage: kvStorage, getSessionKey: keyOf }),
);

// Commands by their text, not `bot.command`: that one needs a `bot_command` entity, which the load generator's
// messages do not carry (Telegram's do).
bot.hears(/^\/start(?:\s|$)/, (ctx) => show(ctx, mainMenu()));
bot.hears(/^\/balance(?:\s|$)/, (ctx) =>
  ctx.reply(`Balance: ${rub(ctx.session.balance)}`, { reply_markup: menuButton() }),
);
bot.callbackQuery("1|m", (ctx) => show(ctx, mainMenu()));
bot.callbackQuery(/^1\|s\|([^|]+)\|(\d+)$/, (ctx) => show(ctx, sectionScreen(ctx.match[1]!, Number(ctx.match[2]))));
bot.callbackQuery(/^1\|c\|([^|]+)\|(\d+)$/, (ctx) => show(ctx, cardScreen(ctx.match[1]!, Number(ctx.match[2]))));

bot.callbackQuery(/^1\|g\|([^|]+)$/, async (ctx) => {
  const model = ctx.match[1]!;
  if (modelCard(index, model, LANG) === undefined) return show(ctx, undefined);
  const id = wizardId();
  ctx.session.wizard = { id, model };
  const keyboard = new InlineKeyboard().text("Back", `1|b|${id}`).text("Cancel", "1|x");
  await show(ctx, { text: "Send a prompt", keyboard });
});

bot.callbackQuery(/^1\|b\|([a-z0-9]+)$/, async (ctx) => {
  const wizard = ctx.session.wizard;
  if (wizard === undefined || wizard.id !== ctx.match[1]) return show(ctx, undefined);
  ctx.session.wizard = undefined;
  await show(ctx, cardScreen(wizard.model, 0));
});

bot.callbackQuery("1|x", async (ctx) => {
  ctx.session.wizard = undefined;
  await show(ctx, mainMenu());
});

bot.callbackQuery(/^1\|y\|([a-z0-9]+)$/, async (ctx) => {
  const wizard = ctx.session.wizard;
  const indexed = wizard && index.models.get(wizard.model);
  // Only the open wizard's button counts; an older message's button is outdated.
  if (wizard === undefined || wizard.id !== ctx.match[1] || wizard.prompt === undefined || indexed === undefined) {
    return show(ctx, undefined);
  }
  const kopecks = priceKopecks(indexed);
  if (ctx.session.balance < kopecks) {
    await ctx.answerCallbackQuery("Not enough money");
    return;
  }
  await ctx.answerCallbackQuery();
  ctx.session.balance -= kopecks;
  ctx.session.wizard = undefined;
  ctx.session.jobs++;
  await ctx.editMessageText("Generating…", { reply_markup: menuButton() });
  let taskId: string;
  try {
    taskId = (await kie<{ taskId: string }>("/api/v1/jobs/createTask", createBody(indexed, wizard.prompt))).taskId;
  } catch (error) {
    console.error(String(error));
    ctx.session.balance += kopecks; // still inside the update: the session is ours
    await ctx.reply("Could not start the generation, the money is back.", { reply_markup: menuButton() });
    return;
  }
  const job: Job = { key: keyOf(ctx), chatId: ctx.chat!.id, taskId, kopecks, startedAt: Date.now() };
  setTimeout(() => void poll(job), POLL_MS);
});

bot.on("callback_query:data", (ctx) => ctx.answerCallbackQuery("Outdated button"));

bot.on("message:text", async (ctx) => {
  const wizard = ctx.session.wizard;
  const indexed = wizard && index.models.get(wizard.model);
  if (wizard === undefined || indexed === undefined) return show(ctx, mainMenu());
  wizard.prompt = ctx.message.text;
  const kopecks = priceKopecks(indexed);
  const text = `${indexed.model.name[LANG]}: "${wizard.prompt}"\nPrice: ${rub(kopecks)}. Balance: ${rub(ctx.session.balance)}.`;
  const keyboard = new InlineKeyboard().text("Generate", `1|y|${wizard.id}`).text("Cancel", "1|x");
  await ctx.reply(text, { reply_markup: keyboard });
});

// getMe against the (fake) Bot API before the first update, as webhookCallback would do lazily.
await bot.init();
const secret = env("WEBHOOK_SECRET");
// The stock webhook adapter: checks X-Telegram-Bot-Api-Secret-Token (401 otherwise) and answers 200 once the
// update is handled. After 10 s it answers anyway ("return"), instead of a 500 that Telegram would redeliver.
const onWebhook = webhookCallback(bot, "http", { secretToken: secret, onTimeout: "return" });
const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") return void res.end(JSON.stringify(stats));
  if (req.method !== "POST" || req.url !== "/telegram/webhook") return void res.writeHead(404).end();
  stats.updates++;
  onWebhook(req, res).catch((error: unknown) => {
    console.error("webhook failed:", error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", resolve));
process.stdout.write(`${JSON.stringify({ msg: "ready", port: (server.address() as AddressInfo).port })}\n`);

/** Stops taking updates, lets those in flight finish (at most 5 s), closes KV. Pending polls are dropped. */
process.once("SIGTERM", () => {
  const exit = () => {
    kv.close();
    process.exit(0);
  };
  server.close(exit);
  server.closeIdleConnections();
  setTimeout(exit, 5_000).unref();
});
