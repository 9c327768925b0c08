/**
 * The app of a user shard worker: hosts the user actors and performs their
 * Bot API calls from this worker, so one update costs one hop from the main
 * thread. Translations are read once, when the worker starts.
 */

import type { HostApp } from "../../actors/mod.ts";
import { platform } from "../platform/mod.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { loadTranslator } from "./i18n.ts";
import { type PreparedScreen, performBotEffect, prepareBotEffect } from "./perform.ts";
import { userBehavior } from "./user-actor.ts";
import { warmUpShard } from "./warm-up.ts";

/** Configuration a shard receives from the supervisor. */
export interface ShardAppData {
  readonly telegram: TelegramSettings;
  readonly botUsername: string;
  readonly support: string | undefined;
  readonly freeDailyLimit: number;
  readonly timeZone: string;
}

const app: HostApp = {
  async createBehaviors({ appData, services }) {
    const data = appData as ShardAppData;
    const shell = {
      api: createTelegramApi(data.telegram, platform.fetch),
      catalog: services,
      t: await loadTranslator((url) => platform.readTextFile(url)),
      botUsername: data.botUsername,
      support: data.support,
      freeDailyLimit: data.freeDailyLimit,
    };
    const rules = { dailyLimit: data.freeDailyLimit, timeZone: data.timeZone };
    await warmUpShard(shell, services, data.telegram, rules);
    return [
      userBehavior({
        rules,
        prepare: (effect, id) => prepareBotEffect(shell, effect, id),
        perform: (effect, id, tellSelf, prepared) =>
          performBotEffect(shell, effect, id, tellSelf, prepared as PreparedScreen | undefined),
      }),
    ];
  },
};

export default app;
