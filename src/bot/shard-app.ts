/**
 * The app of a user shard worker: hosts the user actors and performs their
 * Bot API and KIE calls from this worker, so one update costs one hop from
 * the main thread. Translations are read once, when the worker starts.
 */

import type { HostApp } from "../../actors/mod.ts";
import type { Pricing } from "../../catalog/pricing.ts";
import type { JobDeadlines } from "../jobs/job.ts";
import { KieClient } from "../kie/client.ts";
import { platform } from "../platform/mod.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { loadTranslator } from "./i18n.ts";
import type { UserRules } from "./job-core.ts";
import { type BotShell, type PreparedScreen, performBotEffect, prepareBotEffect } from "./perform.ts";
import { ShownScreens } from "./screen-digest.ts";
import { userBehavior } from "./user-actor.ts";
import { warmUpShard } from "./warm-up.ts";

/** Configuration a shard receives from the supervisor. */
export interface ShardAppData {
  readonly telegram: TelegramSettings;
  readonly botUsername: string;
  readonly support: string | undefined;
  readonly freeDailyLimit: number;
  readonly timeZone: string;
  /** What a KIE credit costs (/stats shows KIE's cost in rubles). */
  readonly pricing: Pricing;
  readonly kie: {
    readonly apiKey: string;
    readonly baseUrl: string;
    readonly uploadBaseUrl: string;
    readonly createLimit: { readonly count: number; readonly windowMs: number };
  };
  /** Where KIE calls back for new tasks; undefined without a public address. */
  readonly callBackUrl: string | undefined;
  readonly results: { readonly allowedHosts: readonly string[]; readonly maxBytes: number; readonly timeoutMs: number };
  readonly deadlines: JobDeadlines;
  readonly pollFirstMs: number;
  readonly maxJobsPerUser: number;
  readonly starsPackages: readonly { readonly stars: number; readonly kopecks: number }[];
  readonly referralBonus: number;
  readonly welcomeGiftKopecks: number;
  readonly adminIds: readonly number[];
  /** This instance, as its heartbeat names it. */
  readonly instanceId: string;
  /** Card top-up amounts in kopecks (empty: YooKassa is off). */
  readonly yooPackages: readonly number[];
}

const app: HostApp = {
  async createBehaviors({ appData, services, log, clock, counters }) {
    const data = appData as ShardAppData;
    const shell: BotShell = {
      api: createTelegramApi(data.telegram, platform.fetch, log),
      catalog: services,
      t: await loadTranslator((url) => platform.readTextFile(url)),
      botUsername: data.botUsername,
      support: data.support,
      freeDailyLimit: data.freeDailyLimit,
      timeZone: data.timeZone,
      pricing: data.pricing,
      load: (keys) => services.loadMany(keys),
      scan: (prefix, options) => services.scan(prefix, options),
      log,
      now: () => clock.now(),
      jobs: {
        kie: new KieClient({
          ...data.kie,
          fetch: platform.fetch,
          now: () => clock.now(),
          observe: (endpoint, outcome) => counters.inc("kie_calls_total", { endpoint, outcome }),
        }),
        callBackUrl: data.callBackUrl,
        telegram: data.telegram,
        fetch: platform.fetch,
        results: data.results,
        count: (state) => counters.inc("jobs_total", { state }),
      },
      starsPackages: data.starsPackages,
      yooPackages: data.yooPackages,
      shown: new ShownScreens(),
    };
    const rules: UserRules = {
      free: { dailyLimit: data.freeDailyLimit, timeZone: data.timeZone },
      deadlines: data.deadlines,
      pollFirstMs: data.pollFirstMs,
      maxOpenJobs: data.maxJobsPerUser,
      referralBonus: data.referralBonus,
      welcomeGiftKopecks: data.welcomeGiftKopecks,
      adminIds: data.adminIds,
      instanceId: data.instanceId,
    };
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
