/**
 * The user actor's shell: performs its effects after the state is durable.
 * Fetches what a view needs from the catalog actor, renders it and calls
 * the Bot API: editing the message a button was on where Telegram allows,
 * sending a new message otherwise.
 */
import { type Api, GrammyError } from "grammy/web";
import type { HostServices, Log, Messenger, StoredState } from "../../actors/mod.ts";
import type { ActorId } from "../../actors/routing.ts";
import type { CatalogQuery } from "../../catalog/actor.ts";
import type { Params } from "../../catalog/build.ts";
import type { InputPlan } from "../../catalog/plan.ts";
import type { Pricing } from "../../catalog/pricing.ts";
import type { Measures } from "../../catalog/quote.ts";
import { HistoryEntry, historyPageSeqs } from "../jobs/history.ts";
import { historyKey } from "../jobs/keys.ts";
import type { KvKey } from "../platform/types.ts";
import type { UserMessage } from "./core.ts";
import type { Lang, Translate } from "./i18n.ts";
import { performAdminEffect } from "./perform-admin.ts";
import { type JobShell, performJobEffect } from "./perform-jobs.ts";
import { performPaymentEffect } from "./perform-payments.ts";
import { PAGE_SIZE, renderView, type Screen, type ViewContext, type ViewData } from "./render.ts";
import { HISTORY_PAGE_SIZE } from "./render-jobs.ts";
import { type ShownScreens, screenDigest } from "./screen-digest.ts";
import type { Wizard } from "./state.ts";
import type { Account, BotEffect, Notice, Target, View } from "./views.ts";
import { currentStep } from "./wizard.ts";

/** What the shell needs besides the effect. */
export interface BotShell {
  readonly api: Api;
  readonly catalog: Messenger;
  readonly t: Translate;
  readonly botUsername: string;
  readonly support: string | undefined;
  readonly freeDailyLimit: number;
  readonly timeZone: string;
  /** What a KIE credit costs (`KOPECKS_PER_CREDIT`): KIE's cost in rubles in /stats. */
  readonly pricing: Pricing;
  /** Reads KV entries (history) through the store. */
  readonly load: (keys: readonly KvKey[]) => Promise<StoredState[]>;
  /** Reads pages of a KV prefix (admin reports). */
  readonly scan: HostServices["scan"];
  readonly log: Log;
  /** The host's clock (ms since the epoch), for what screens show about time ("New" marks). */
  readonly now: () => number;
  readonly jobs: JobShell;
  /** Top-up packages paid in Stars. */
  readonly starsPackages: readonly { readonly stars: number; readonly kopecks: number }[];
  /** Card top-up amounts in kopecks (empty: YooKassa is off). */
  readonly yooPackages: readonly number[];
  /** What this shard last showed in each message it edits (an identical edit is not sent). */
  readonly shown: ShownScreens;
}

/** Telegram's answer to a callback query answered before, or too old to answer. */
const QUERY_GONE = /query is too old|query ID is invalid/i;

/** A screen rendered ahead of its effect (while the turn commits). */
export interface PreparedScreen {
  readonly screen: Screen;
}

/**
 * Renders a `show` effect's screen, with the catalog data it needs, while
 * the turn's commit is in flight; other effects need no preparation.
 */
export async function prepareBotEffect(
  shell: BotShell,
  effect: BotEffect,
  id: ActorId,
): Promise<PreparedScreen | undefined> {
  if (effect.type !== "show") return undefined;
  return { screen: await renderScreen(shell, id, effect) };
}

/** Performs one effect of the user actor `id`, with its screen if it was prepared. */
export async function performBotEffect(
  shell: BotShell,
  effect: BotEffect,
  id: ActorId,
  tellSelf: (message: UserMessage) => void,
  prepared?: PreparedScreen,
): Promise<void> {
  switch (effect.type) {
    case "answer":
      try {
        await shell.api.raw.answerCallbackQuery({
          callback_query_id: effect.callbackId,
          ...(effect.notice ? { text: shell.t(effect.lang, effect.notice.key, effect.notice.args) } : {}),
        });
      } catch (error) {
        // Answers go out before the turn's commit: a press replayed after a crash was answered already
        // (or Telegram gave up waiting). Nothing is left to do for it.
        if (!(error instanceof GrammyError && QUERY_GONE.test(error.description))) throw error;
        shell.log.info({ callbackId: effect.callbackId }, "callback query already answered or expired");
      }
      return;
    case "plan":
      await startWizard(shell, id, effect, tellSelf);
      return;
    case "show": {
      const sent = await show(shell, effect.target, prepared?.screen ?? (await renderScreen(shell, id, effect)));
      if (sent !== undefined) tellSelf({ type: "shown", messageId: sent });
      return;
    }
    case "invoice":
    case "reportStars":
    case "refer":
    case "yooPay":
    case "yooCheck":
      await performPaymentEffect(shell, effect, id, tellSelf);
      return;
    case "adminRequest":
    case "adminRefund":
    case "adminStats":
    case "adminLookup":
    case "adminBroadcast":
    case "catalogVisibility":
      await performAdminEffect(shell, effect, id);
      return;
    default:
      await performJobEffect(shell, effect, id, tellSelf);
  }
}

/** Starts a wizard with the model's input plan (and an earlier job's answers); a gone model shows its card. */
export async function startWizard(
  shell: BotShell,
  id: ActorId,
  what: Omit<Extract<BotEffect, { type: "plan" }>, "type">,
  tellSelf: (message: UserMessage) => void,
): Promise<void> {
  const plan = await askCatalog<InputPlan | { ok: false }>(shell, { type: "plan", modelId: what.modelId });
  if (plan === undefined || !("steps" in plan)) {
    const card: View = { kind: "card", modelId: what.modelId, page: what.page };
    const sent = await show(shell, what.target, await renderScreen(shell, id, { lang: what.lang, view: card }));
    if (sent !== undefined) tellSelf({ type: "shown", messageId: sent });
    return;
  }
  tellSelf({
    type: "plan",
    wizardId: what.wizardId,
    modelId: what.modelId,
    page: what.page,
    plan,
    target: what.target,
    ...(what.prefill ? { prefill: what.prefill } : {}),
  });
}

/** Renders a view with the data it needs. */
export async function renderScreen(
  shell: BotShell,
  id: ActorId,
  what: { readonly lang: Lang; readonly view: View; readonly notice?: Notice; readonly account?: Account },
): Promise<Screen> {
  const data = await dataFor(shell, what.view, what.lang, Number(id));
  return renderView(what.view, data, viewContext(shell, what.lang, Number(id), what.account), what.notice);
}

/**
 * Shows a screen: edits the target message where Telegram allows, else
 * sends a new one and returns its id (the caller remembers it).
 */
export async function show(shell: BotShell, target: Target, screen: Screen): Promise<number | undefined> {
  const reply_markup = { inline_keyboard: screen.keyboard.map((row) => [...row]) };
  const content = screenDigest(screen.text, reply_markup.inline_keyboard);
  const { chatId, messageId } = target;
  if (messageId !== undefined) {
    const settle = await shell.shown.claim(chatId, messageId, content, target.shows);
    if (settle === undefined) return undefined;
    try {
      await shell.api.raw.editMessageText({
        chat_id: chatId,
        message_id: messageId,
        text: screen.text,
        parse_mode: "HTML",
        reply_markup,
      });
      settle(true);
      return undefined;
    } catch (error) {
      const unchanged = error instanceof GrammyError && /not modified/i.test(error.description);
      settle(unchanged);
      if (unchanged) return undefined;
      if (!(error instanceof GrammyError && error.error_code === 400)) throw error;
      // The message can no longer be edited (too old, deleted): send a new one.
    }
  }
  const sent = await shell.api.raw.sendMessage({
    chat_id: chatId,
    text: screen.text,
    parse_mode: "HTML",
    reply_markup,
  });
  shell.shown.sent(chatId, sent.message_id, content);
  return sent.message_id;
}

/** What screens show about the user; without an account (a new user), a zero balance and the whole quota. */
function viewContext(shell: BotShell, lang: Lang, userId: number, account?: Account): ViewContext {
  return {
    lang,
    t: shell.t,
    userId,
    botUsername: shell.botUsername,
    support: shell.support,
    freeDailyLimit: shell.freeDailyLimit,
    freeLeft: account?.freeLeft ?? shell.freeDailyLimit,
    freeBank: account?.freeBank ?? 0,
    balanceKopecks: account?.availableKopecks ?? 0,
    invited: account?.invited ?? 0,
    referralBonusEarned: account?.referralBonusEarned ?? 0,
    timeZone: shell.timeZone,
    starsPackages: shell.starsPackages,
    yooPackages: shell.yooPackages,
  };
}

async function dataFor(shell: BotShell, view: View, lang: Lang, userId: number): Promise<ViewData> {
  switch (view.kind) {
    case "main":
      return { sections: await askCatalog(shell, { type: "sections", lang }) };
    case "section": {
      const [sections, page] = await Promise.all([
        askCatalog<ViewData["sections"]>(shell, { type: "sections", lang }),
        askCatalog<ViewData["page"] | { ok: false }>(shell, {
          type: "models",
          section: view.section,
          page: view.page,
          pageSize: PAGE_SIZE,
          lang,
          now: shell.now(),
        }),
      ]);
      return { ...(sections ? { sections } : {}), ...(page && "items" in page ? { page } : {}) };
    }
    case "search": {
      const found = await askCatalog<ViewData["found"]>(shell, {
        type: "search",
        text: view.text,
        lang,
        now: shell.now(),
        limit: PAGE_SIZE,
      });
      return found ? { found } : {};
    }
    case "card":
      return await cardData(shell, view.modelId, lang);
    case "wizard":
      return await wizardData(shell, view.wizard, lang);
    case "job":
      return await cardData(shell, view.job.modelId, lang);
    case "history":
      return await historyData(shell, userId, view.page, view.total, lang);
    case "historyEntry": {
      const entry = await loadHistoryEntry(shell, userId, view.seq);
      return entry === undefined ? {} : { entry, ...(await cardData(shell, entry.modelId, lang)) };
    }
    default:
      return {};
  }
}

/** A model's card; for a model users can no longer pick, its name alone (history entries still name it). */
async function cardData(shell: BotShell, modelId: string, lang: Lang): Promise<ViewData> {
  const card = await askCatalog<ViewData["card"] | { ok: false }>(shell, { type: "card", modelId, lang });
  if (card && "id" in card) return { card };
  const named = await askCatalog<{ name: string } | { ok: false }>(shell, { type: "name", modelId, lang });
  return named && "name" in named ? { modelName: named.name } : {};
}

async function historyData(
  shell: BotShell,
  userId: number,
  page: number,
  total: number,
  lang: Lang,
): Promise<ViewData> {
  const keys = historyPageSeqs(total, page, HISTORY_PAGE_SIZE).map((seq) => historyKey(userId, seq));
  const stored = keys.length === 0 ? [] : await shell.load(keys);
  const history = stored.flatMap((entry) => {
    const parsed = HistoryEntry.safeParse(entry.value);
    return parsed.success ? [parsed.data] : [];
  });
  const models = [...new Set(history.map((entry) => entry.modelId))];
  const cards = await Promise.all(models.map((modelId) => cardData(shell, modelId, lang)));
  const names: Record<string, string> = {};
  for (const [index, data] of cards.entries()) {
    const name = data.card?.name ?? data.modelName;
    if (name !== undefined) names[models[index] as string] = name;
  }
  return { history, names };
}

/** A history entry of the user, if it is still kept. */
export async function loadHistoryEntry(
  shell: BotShell,
  userId: number,
  seq: number,
): Promise<HistoryEntry | undefined> {
  const [stored] = await shell.load([historyKey(userId, seq)]);
  const parsed = HistoryEntry.safeParse(stored?.value);
  return parsed.success ? parsed.data : undefined;
}

async function wizardData(shell: BotShell, wizard: Wizard, lang: Lang): Promise<ViewData> {
  const step = currentStep(wizard);
  const { params, measures } = quoteInput(wizard);
  // The card (name, output, time) and the step's prices are asked together.
  const [card, optionPrices, quote] = await Promise.all([
    askCatalog<ViewData["card"] | { ok: false }>(shell, { type: "card", modelId: wizard.modelId, lang }),
    step?.kind === "option"
      ? askCatalog<ViewData["optionPrices"]>(shell, {
          type: "optionPrices",
          modelId: wizard.modelId,
          field: step.field,
          params: withoutField(params, step.field),
          measures,
        })
      : undefined,
    step === undefined && !wizard.inParams
      ? askCatalog<ViewData["quote"]>(shell, { type: "quote", modelId: wizard.modelId, params, measures })
      : undefined,
  ]);
  return {
    ...(card && "id" in card ? { card } : {}),
    ...(Array.isArray(optionPrices) ? { optionPrices } : {}),
    ...(quote ? { quote } : {}),
  };
}

/**
 * The wizard's answers as catalog parameters. Files are uploaded to KIE
 * only when a generation starts; until then each stands in as an https URL
 * naming the Telegram file, which is all a quote needs.
 */
export function quoteInput(wizard: Wizard): { params: Params; measures: Measures } {
  const params: Record<string, Params[string]> = { ...wizard.values };
  const mediaSeconds: Record<string, number> = {};
  for (const [field, items] of Object.entries(wizard.media)) {
    params[field] = items.map((item) => `https://telegram.invalid/file/${encodeURIComponent(item.fileUniqueId)}`);
    const seconds = items[0]?.seconds;
    if (seconds !== undefined) mediaSeconds[field] = seconds;
  }
  return { params, measures: { mediaSeconds } };
}

function withoutField(params: Params, field: string): Params {
  const { [field]: _, ...rest } = params;
  return rest;
}

export async function askCatalog<T>(shell: BotShell, query: CatalogQuery): Promise<T | undefined> {
  const reply = await shell.catalog.ask("catalog", "main", query);
  return reply.ok ? (reply.value as T) : undefined;
}
