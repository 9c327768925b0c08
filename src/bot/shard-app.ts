/**
 * The app of a user shard worker: hosts the user actors and performs their
 * Bot API calls from this worker, so one update costs one hop from the main
 * thread. Translations are read once, when the worker starts.
 */

import type { Update } from "grammy/types";
import type { HostApp, HostServices } from "../../actors/mod.ts";
import type { SectionSummary } from "../../catalog/queries.ts";
import { platform } from "../platform/mod.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { receiveUserMessage } from "./core.ts";
import { type Lang, loadTranslator } from "./i18n.ts";
import { type BotShell, performBotEffect, viewContext } from "./perform.ts";
import { PAGE_SIZE, renderView } from "./render.ts";
import { initialUserState } from "./state.ts";
import { userBehavior } from "./user-actor.ts";

/** Configuration a shard receives from the supervisor. */
export interface ShardAppData {
  readonly telegram: TelegramSettings;
  readonly botUsername: string;
  readonly support: string | undefined;
  readonly freeDailyLimit: number;
}

const app: HostApp = {
  async createBehaviors({ appData, services }) {
    const data = appData as ShardAppData;
    const shell = {
      api: createTelegramApi(data.telegram),
      catalog: services,
      t: await loadTranslator((url) => platform.readTextFile(url)),
      botUsername: data.botUsername,
      support: data.support,
      freeDailyLimit: data.freeDailyLimit,
    };
    await warmUp(shell, services);
    return [userBehavior((effect, id, tellSelf) => performBotEffect(shell, effect, id, tellSelf))];
  },
};

/**
 * Runs every path of a first update once before the shard takes traffic
 * (the Bot API connection, KV reads, catalog asks, rendering), so the first
 * user after a start is not slower than the next ones.
 */
async function warmUp(shell: BotShell, services: HostServices): Promise<void> {
  await Promise.all([
    shell.api.getMe().catch(() => undefined),
    services.loadMany([["user", 0]]),
    ...(["ru", "en"] as const).map((lang) => warmView(shell, lang)),
  ]);
}

async function warmView(shell: BotShell, lang: Lang): Promise<void> {
  const sections = await shell.catalog.ask("catalog", "main", { type: "sections", lang });
  await shell.catalog.ask("catalog", "main", { type: "models", section: "images", page: 0, pageSize: PAGE_SIZE, lang });
  const data = sections.ok ? { sections: sections.value as SectionSummary[] } : {};
  // The pure core and the renderer once, on a synthetic /start of a user who does not exist.
  const from = { id: 0, is_bot: false, first_name: "warm-up", language_code: lang };
  const update = {
    update_id: 0,
    message: { message_id: 0, date: 0, chat: { id: 0, type: "private", first_name: "warm-up" }, from, text: "/start" },
  } as Update;
  const turn = receiveUserMessage(initialUserState(lang), { type: "update", update }, Date.now());
  for (const effect of turn.effects ?? []) {
    if (effect.type === "show") renderView(effect.view, data, viewContext(shell, lang, 0), effect.notice);
  }
}

export default app;
