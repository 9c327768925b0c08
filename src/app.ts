/**
 * The whole program, assembled: KV, supervisor with its worker groups, the
 * Bot API client and the update router. `main.ts` runs it with long polling;
 * tests run it in-thread and call `dispatch` (like grammY's `handleUpdate`).
 */

import type { UserFromGetMe } from "grammy/types";
import type { Api } from "grammy/web";
import {
  type Log,
  type Result,
  type RuntimeLimits,
  Supervisor,
  type WorkerGroupSpec,
  workerIndexFor,
} from "../actors/mod.ts";
import type { CatalogSource } from "../catalog/actor.ts";
import type { CatalogAppData } from "../catalog/app.ts";
import { catalogReader, readCatalogFiles } from "../catalog/files.ts";
import { loadTranslator, type Translate } from "./bot/i18n.ts";
import { startKieBalanceWatch } from "./bot/kie-balance-alert.ts";
import type { ShardAppData } from "./bot/shard-app.ts";
import { type Config, secretsOf } from "./config.ts";
import { createHttpApp } from "./http/app.ts";
import { listenForPolls, resumeOpenJobs, type TellUser, taskOwner } from "./jobs/driver.ts";
import { OPEN_JOBS } from "./jobs/keys.ts";
import { startHeartbeat } from "./jobs/liveness.ts";
import { KieClient } from "./kie/client.ts";
import { BotMetrics } from "./metrics.ts";
import type { PaymentAppData } from "./payments/app.ts";
import { preCheckoutAnswerer } from "./payments/pre-checkout.ts";
import type { HttpClientInfo, HttpServer, KvStore, Platform } from "./platform/types.ts";
import { createTelegramApi } from "./telegram/api.ts";
import { inboxCommitCount } from "./telegram/inbox.ts";
import { createIntake } from "./telegram/intake.ts";
import { createUpdateRouter, type RouteOutcome } from "./telegram/router.ts";
import { routeUpdate } from "./telegram/update.ts";

/** How to run the program. */
export interface AppOptions {
  readonly config: Config;
  readonly platform: Platform;
  readonly log: Log;
  /** Production always uses workers; msw tests use in-thread. */
  readonly mode: "workers" | "in-thread";
  readonly limits?: Partial<RuntimeLimits>;
  /** The fetch used for the Bot API from the main thread. */
  readonly fetch?: typeof fetch;
  /** Catalog data files; read from `catalog/data/` when not given. */
  readonly catalogFiles?: readonly CatalogSource[];
}

/** A started program. */
export interface App {
  readonly supervisor: Supervisor;
  readonly api: Api;
  /** The program's one KV connection (reads for tests and operator tools; actors write through the store). */
  readonly kv: KvStore;
  /** Answers one request of the bot's HTTP surface (what the HTTP server serves; tests call it directly). */
  handleHttp(request: Request, client?: HttpClientInfo): Promise<Response>;
  /** The HTTP server (health, readiness, metrics, callbacks, notifications). */
  readonly http: HttpServer;
  /** Routes one update and waits until the user's turn is durable. */
  dispatch(update: unknown): Promise<Result<unknown> | RouteOutcome>;
  /** Checks the token with getMe, then long-polls until `stop`. */
  startPolling(): Promise<UserFromGetMe>;
  /**
   * Webhook mode: handles updates the inbox kept from before a stop, then
   * points Telegram at the webhook route (never dropping pending updates).
   */
  startWebhook(): Promise<UserFromGetMe>;
  /** The bot, as getMe described it at start. */
  readonly me: UserFromGetMe;
  /**
   * Re-reads the catalog files and swaps them in (SIGHUP). An invalid catalog
   * is rejected, with its problems, and the old one keeps serving.
   */
  reloadCatalog(files?: readonly CatalogSource[]): Promise<CatalogReload>;
  /** Stops intake, drains actors within `deadlineMs`, closes KV. True when everything drained. */
  stop(deadlineMs?: number): Promise<boolean>;
}

/** What a catalog reload did. */
export type CatalogReload =
  | { readonly ok: true; readonly models: number; readonly skus: number }
  | { readonly ok: false; readonly problems: readonly unknown[] };

/** The worker groups of the program. */
export function workerGroups(
  config: Config,
  catalog: CatalogAppData,
  botUsername: string,
  instanceId: string,
): WorkerGroupSpec[] {
  const shardData: ShardAppData = {
    // Each shard sends its share of the bot's overall rate.
    telegram: {
      botToken: config.botToken,
      apiRoot: config.telegramApiRoot,
      messagesPerSecond: config.telegramMessagesPerSecond / config.shards,
      chatMessagesPerSecond: config.telegramChatMessagesPerSecond,
      retries: config.telegramRetries,
    },
    botUsername,
    support: config.support,
    freeDailyLimit: config.freeDailyLimit,
    timeZone: config.timeZone,
    pricing: config.pricing,
    kie: {
      apiKey: config.kieApiKey,
      baseUrl: config.kieApiBaseUrl,
      uploadBaseUrl: config.kieUploadBaseUrl,
      // Each shard creates its share of the account's tasks.
      createLimit: { count: Math.max(1, Math.floor(config.kieCreatesPer10s / config.shards)), windowMs: 10_000 },
    },
    callBackUrl: config.kieCallBackUrl,
    results: { allowedHosts: config.resultHosts, maxBytes: config.resultMaxBytes, timeoutMs: 60_000 },
    deadlines: config.jobDeadlines,
    pollFirstMs: config.pollFirstMs,
    maxJobsPerUser: config.maxJobsPerUser,
    starsPackages: config.starsPackages,
    referralBonus: config.referralBonus,
    welcomeGiftKopecks: config.welcomeGiftKopecks,
    adminIds: config.adminIds,
    instanceId,
    yooPackages: config.yookassa?.packages ?? [],
  };
  return [
    {
      name: "user",
      kinds: ["user"],
      size: config.shards,
      module: new URL("./bot/shard-app.ts", import.meta.url),
      appData: shardData,
    },
    {
      name: "catalog",
      kinds: ["catalog"],
      size: 1,
      module: new URL("../catalog/app.ts", import.meta.url),
      appData: catalog,
      direct: true,
    },
    {
      name: "payment",
      kinds: ["payment", "broadcast"],
      size: 1,
      module: new URL("./payments/app.ts", import.meta.url),
      appData: {
        telegram: {
          botToken: config.botToken,
          apiRoot: config.telegramApiRoot,
          messagesPerSecond: config.telegramMessagesPerSecond,
          chatMessagesPerSecond: config.telegramChatMessagesPerSecond,
          retries: config.telegramRetries,
        },
        ...(config.yookassa
          ? {
              yookassa: {
                shopId: config.yookassa.shopId,
                secretKey: config.yookassa.secretKey,
                apiUrl: config.yookassa.apiUrl,
                returnUrl: `https://t.me/${botUsername}`,
                reconcileMs: config.yookassa.reconcileMs,
              },
            }
          : {}),
      } satisfies PaymentAppData,
    },
  ];
}

/** Opens KV, starts the actor runtime and wires Telegram to it. */
export async function startApp(options: AppOptions): Promise<App> {
  const { config, platform, log } = options;
  if (config.kv.kind === "file") await platform.ensureDir(parentDir(config.kv.path));
  const api = createTelegramApi(
    {
      botToken: config.botToken,
      apiRoot: config.telegramApiRoot,
      messagesPerSecond: config.telegramMessagesPerSecond,
      chatMessagesPerSecond: config.telegramChatMessagesPerSecond,
      retries: config.telegramRetries,
    },
    options.fetch ?? options.platform.fetch,
  );
  // The one network call of a start: it checks the token and names the bot for referral links.
  const me = await api.getMe();
  const readFiles = () => readCatalogFiles(catalogReader((path) => platform.readTextFile(path), config.catalogDir));
  const catalogFiles = options.catalogFiles ?? (await readFiles());
  const kv = await platform.openKv(config.kv);
  const instanceId = crypto.randomUUID();
  const supervisor = new Supervisor({
    mode: options.mode,
    platform,
    kv,
    groups: workerGroups(config, { files: catalogFiles, pricing: config.pricing }, me.username, instanceId),
    log,
    logging: { level: config.logLevel, secrets: secretsOf(config) },
    limits: { ...options.limits, revalidate: config.kvShared },
  });
  try {
    await supervisor.start();
  } catch (error) {
    kv.close();
    throw error;
  }
  const t = await loadTranslator((url) => platform.readTextFile(url));
  await registerCommands(api, log, t);
  await warmShards(supervisor, config.shards);
  const tellUser: TellUser = (userId, message) => supervisor.tell("user", userId, message);
  let shared = config.kvShared;
  /** The other instances alive at the last beat: one that is gone leaves its open jobs to be taken over. */
  let othersAlive = new Set<string>();
  const heartbeat = await startHeartbeat(
    kv,
    instanceId,
    () => platform.clock.now(),
    (others) => {
      const gone = [...othersAlive].some((id) => !others.includes(id));
      othersAlive = new Set(others);
      if (gone) {
        // Its jobs (a task being created, a delivery under way) would otherwise wait for the next start.
        void resumeOpenJobs(kv, tellUser, log, platform.clock.now()).catch((error: unknown) =>
          log.error({ err: error }, "the open jobs of an instance that left were not resumed"),
        );
      }
      if (shared || others.length === 0) return;
      shared = true;
      // Resident state could go stale under another instance's writes: check it against KV from now on.
      log.warn(
        { others: others.length },
        "another instance shares this KV; actors now check their state before each turn (set KV_SHARED=true)",
      );
      void supervisor.setRevalidate(true);
    },
  );
  const askUser: TellUser = async (userId, message) => {
    const asked = await supervisor.ask("user", userId, message);
    return asked.ok ? { ok: true, value: undefined } : asked;
  };
  const polls = listenForPolls(kv, tellUser, log, () => platform.clock.now(), askUser).catch((error: unknown) => {
    log.error({ err: error }, "the KV queue listener stopped; jobs resume at the next start");
  });
  await resumeOpenJobs(kv, tellUser, log, platform.clock.now());
  // Credits recorded but not yet acknowledged by their users go out again; broadcasts go on.
  await supervisor.tell("payment", "main", { type: "resume" });
  for await (const entry of kv.list({ prefix: ["broadcast_active"] })) {
    await supervisor.tell("broadcast", String(entry.key[1]), { type: "resume" });
  }
  // Admins hear once when KIE's balance runs low against recent spend (KV keeps every instance to one message).
  const kieAccount = new KieClient({
    apiKey: config.kieApiKey,
    baseUrl: config.kieApiBaseUrl,
    uploadBaseUrl: config.kieUploadBaseUrl,
    fetch: platform.fetch,
    now: () => platform.clock.now(),
  });
  const balanceWatch = startKieBalanceWatch({
    kv,
    scan: (prefix, scanOptions) => supervisor.store.scan(prefix, scanOptions),
    balance: () => kieAccount.credits(),
    send: async (chatId, text) => {
      await api.raw.sendMessage({ chat_id: chatId, text });
    },
    t,
    adminIds: config.adminIds,
    days: config.kieBalanceAlert.days,
    everyMs: config.kieBalanceAlert.checkMs,
    now: () => platform.clock.now(),
    log,
  });
  const preCheckout = preCheckoutAnswerer({ kv, api, t, log, now: () => platform.clock.now() });
  const router = createUpdateRouter(
    supervisor,
    log,
    (type, outcome, seconds) => metrics.update(type, outcome, seconds),
    preCheckout,
  );
  const metrics = new BotMetrics({
    hosts: () => supervisor.stats(),
    commitLatency: () => supervisor.store.latency(),
    commits: () => ({ ...supervisor.store.stats, inbox: inboxCommitCount() }),
    openJobs: async () => {
      let open = 0;
      for await (const _ of kv.list({ prefix: OPEN_JOBS })) open++;
      return open;
    },
  });
  const intake = createIntake({
    kv,
    maxChecks: platform.kvLimits.maxChecks,
    api,
    router,
    log,
    me,
    now: () => platform.clock.now(),
    pollLeaseMs: config.pollLeaseMs,
  });
  const httpApp = createHttpApp({
    log,
    ...(config.transport.mode === "webhook" ? { webhook: intake.webhook(config.transport.secret) } : {}),
    health: {
      readiness: () => readinessProblems(kv, supervisor, intake.stopping),
      metrics: () => metrics.render(),
    },
    ...(config.kieCallback
      ? {
          kieCallback: {
            hmacKey: config.kieCallback.hmacKey,
            now: () => platform.clock.now(),
            lookupTask: (taskId) => taskOwner(kv, taskId),
            notify: async (owner) => (await tellUser(owner.userId, { type: "callback", jobId: owner.jobId })).ok,
            log,
          },
        }
      : {}),
    ...(config.yookassa
      ? {
          yookassa: {
            allowedIps: config.yookassa.allowedIps,
            trustProxy: config.trustProxy,
            notify: async (paymentId: string) =>
              (await supervisor.ask("payment", "main", { type: "yooNotified", paymentId })).ok,
            log,
          },
        }
      : {}),
  });
  // Routes read the peer's address from Hono's `env` (e.g. a sender allowlist).
  const handleHttp = async (request: Request, client: HttpClientInfo = { remoteAddress: undefined }) =>
    await httpApp.fetch(request, client);
  const http = await platform.serveHttp({ port: config.httpPort, hostname: "0.0.0.0" }, handleHttp);
  log.info({ port: http.port }, "serving HTTP");
  let stopped: Promise<boolean> | undefined;

  return {
    supervisor,
    api,
    kv,
    me,
    handleHttp,
    http,
    dispatch: (update) => router.dispatch(update),
    async startPolling() {
      await intake.startPolling();
      log.info({ bot: me.username, shards: config.shards }, "started in polling mode");
      return me;
    },
    async startWebhook() {
      if (config.transport.mode !== "webhook") throw new Error("BOT_MODE is not webhook");
      await intake.startWebhook(config.transport.url, config.transport.secret);
      return me;
    },
    async reloadCatalog(files) {
      let next: readonly CatalogSource[];
      try {
        next = files ?? (await readFiles());
      } catch (error) {
        return { ok: false, problems: [error instanceof Error ? error.message : String(error)] };
      }
      const reply = await supervisor.ask<CatalogReload>("catalog", "main", { type: "replace", files: next });
      if (!reply.ok) return { ok: false, problems: [reply.error] };
      if (reply.value.ok)
        supervisor.setAppData("catalog", { files: next, pricing: config.pricing } satisfies CatalogAppData);
      return reply.value;
    },
    stop(deadlineMs = 10_000) {
      stopped ??= (async () => {
        // Not ready from now on: load balancers stop sending work here.
        await intake.stop();
        await balanceWatch.stop();
        // Requests in flight are answered (an update with 503: Telegram delivers it again) while actors drain.
        const httpClosed = http.close(deadlineMs);
        const drained = await supervisor.stop(deadlineMs);
        await intake.flush();
        await httpClosed;
        // Gone from the live instances only now: its jobs are no one else's while it drains them.
        await heartbeat.stop().catch(() => undefined);
        kv.close();
        await polls;
        return drained;
      })();
      return stopped;
    },
  };
}

/**
 * The main thread's part of an update once (parsing a message and a button
 * update, one message to every shard), so the first real update does not
 * pay for cold code. Negative ids belong to no user.
 */
async function warmShards(supervisor: Supervisor, shards: number): Promise<void> {
  const from = { id: 1, is_bot: false, first_name: "warm-up" };
  const message = { message_id: 1, date: 0, chat: { id: 1, type: "private" }, from, text: "/start" };
  routeUpdate({ update_id: 0, message });
  routeUpdate({ update_id: 0, callback_query: { id: "0", from, chat_instance: "0", data: "1|m", message } });
  const reached = new Set<number>();
  const warmed: Promise<unknown>[] = [];
  for (let id = -1; reached.size < shards && id > -1_000; id--) {
    const index = workerIndexFor(id, shards);
    if (reached.has(index)) continue;
    reached.add(index);
    warmed.push(supervisor.ask("user", id, { type: "warm" }));
  }
  await Promise.all(warmed);
}

/** The bot's commands in the menu of Telegram clients, in Russian (default) and English. */
async function registerCommands(api: Api, log: Log, t: Translate): Promise<void> {
  const commands = (lang: "ru" | "en") =>
    ["start", "menu", "balance", "topup", "history", "help", "language", "cancel", "paysupport", "terms"].map(
      (command) => ({
        command,
        description: t(lang, `cmd-${command}`),
      }),
    );
  try {
    await api.setMyCommands(commands("ru"));
    await api.setMyCommands(commands("en"), { language_code: "en" });
  } catch (error) {
    // Commands are a convenience of Telegram clients; the bot works without them.
    log.warn({ err: error }, "setMyCommands failed");
  }
}

function parentDir(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut <= 0 ? "." : path.slice(0, cut);
}

/** Why this instance should not take traffic now (empty when it should). */
async function readinessProblems(kv: KvStore, supervisor: Supervisor, stopping: () => boolean): Promise<string[]> {
  if (stopping()) return ["stopping"];
  const within = async <T>(work: Promise<T>, ms: number): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timeout")), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  const problems: string[] = [];
  await within(kv.get(["health"]), 1_000).catch(() => problems.push("kv unreachable"));
  await within(supervisor.stats(), 1_000).catch(() => problems.push("workers not answering"));
  return problems;
}
