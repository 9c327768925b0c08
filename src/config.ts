/**
 * The configuration: environment variables (and an optional `.env` file),
 * parsed by one zod schema. A missing or invalid value stops the start with
 * a message that names the variable and what is expected; there are no
 * silent fallbacks for anything that matters.
 */

import { parse as parseDotenv } from "dotenv";
import { z } from "zod";
import { DEFAULT_KOPECKS_PER_CREDIT, type Pricing } from "../catalog/pricing.ts";
import { isIpRange } from "./http/ip-allowlist.ts";
import { isTimeZone } from "./ledger/day.ts";
import { LOG_LEVELS } from "./log.ts";
import type { KvLocation } from "./platform/types.ts";

const httpsOrLocalUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `${what}: an http(s) URL` }).transform((url) => url.replace(/\/+$/, ""));

const minutes = (what: string) =>
  z.coerce
    .number({ error: `${what}: minutes, e.g. 5 or 0.5` })
    .positive({ error: `${what}: minutes, more than 0` })
    .max(24 * 60, { error: `${what}: at most a day (1440 minutes)` });

const hostList = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^([a-z0-9.-]+)(\s*,\s*[a-z0-9.-]+)*$/, {
    error: "comma-separated host names, e.g. aiquickdraw.com,redpandaai.co",
  })
  .transform((text) => text.split(",").map((host) => host.trim()));

const starsPackages = z
  .string()
  .trim()
  .regex(/^\d+:\d+(\s*,\s*\d+:\d+)*$/, { error: "comma-separated stars:kopecks pairs, e.g. 100:15000,250:37500" })
  .transform((text) =>
    text.split(",").map((pair) => {
      const [stars, kopecks] = pair.split(":").map((part) => Number(part.trim()));
      return { stars: stars ?? 0, kopecks: kopecks ?? 0 };
    }),
  )
  .refine((packages) => packages.every((p) => p.stars >= 1 && p.stars <= 100_000 && p.kopecks >= 100), {
    error: "each package: 1 to 100000 Stars for at least 100 kopecks",
  });

/** YooKassa's published notification senders (see shared/reference/payments.md). */
export const YOOKASSA_IPS = [
  "185.71.76.0/27",
  "185.71.77.0/27",
  "77.75.153.0/25",
  "77.75.156.11",
  "77.75.156.35",
  "77.75.154.128/25",
  "2a02:5180::/32",
];

const rubleAmounts = z
  .string()
  .trim()
  .regex(/^\d+(\s*,\s*\d+)*$/, { error: "comma-separated amounts in rubles, e.g. 100,300,500" })
  .transform((text) => text.split(",").map((rub) => Number(rub.trim()) * 100))
  .refine((amounts) => amounts.every((kopecks) => kopecks >= 5_000 && kopecks <= 5_000_000), {
    error: "each amount from 50 to 50000 rubles",
  });

const positiveIds = z
  .string()
  .trim()
  .regex(/^(\d+)(\s*,\s*\d+)*$|^$/, { error: "comma-separated Telegram user ids, e.g. 12345,67890" })
  .transform((text) => (text === "" ? [] : text.split(",").map((id) => Number(id.trim()))));

/** The schema of every variable the program reads. */
export const ConfigSchema = z
  .object({
    BOT_TOKEN: z
      .string({ error: "required: the bot token from @BotFather, like 123456789:AA..." })
      .trim()
      .regex(/^\d+:[A-Za-z0-9_-]{30,}$/, { error: "a bot token from @BotFather, like 123456789:AA..." }),
    KIE_API_KEY: z
      .string({ error: "required: your API key from kie.ai (Settings, API key)" })
      .trim()
      .min(8, { error: "an API key from kie.ai (at least 8 characters)" }),
    TELEGRAM_API_ROOT: httpsOrLocalUrl("the Bot API server").default("https://api.telegram.org"),
    KIE_API_BASE_URL: httpsOrLocalUrl("the KIE API").default("https://api.kie.ai"),
    KIE_UPLOAD_BASE_URL: httpsOrLocalUrl("the KIE upload API").default("https://kieai.redpandaai.co"),
    CATALOG_DIR: z.string().trim().min(1).optional(),
    KV_PATH: z.string().trim().min(1, { error: "a file path for the embedded KV" }).default("./data/bot.kv"),
    KV_URL: httpsOrLocalUrl("a KV Connect URL").optional(),
    KV_ACCESS_TOKEN: z.string().trim().min(1).optional(),
    KV_SHARED: z.enum(["true", "false"], { error: "true or false" }).optional(),
    ADMIN_IDS: positiveIds.default([]),
    SUPPORT_CONTACT: z.string().trim().min(1).max(100).optional(),
    FREE_DAILY_LIMIT: z.coerce
      .number({ error: "a whole number of free generations a day, 0 to 100" })
      .int({ error: "a whole number of free generations a day, 0 to 100" })
      .min(0, { error: "a whole number of free generations a day, 0 to 100" })
      .max(100, { error: "a whole number of free generations a day, 0 to 100" })
      .default(5),
    TIMEZONE: z
      .string()
      .trim()
      .refine(isTimeZone, { error: "an IANA time zone such as Europe/Moscow (free quotas renew at its midnight)" })
      .default("Europe/Moscow"),
    PUBLIC_BASE_URL: z
      .url({ protocol: /^https$/, error: "the bot's public https address, e.g. https://bot.example.com" })
      .transform((url) => url.replace(/\/+$/, ""))
      .optional(),
    KIE_WEBHOOK_HMAC_KEY: z.string().trim().min(8, { error: "the webhook HMAC key from kie.ai settings" }).optional(),
    BOT_MODE: z.enum(["polling", "webhook"], { error: "polling or webhook" }).default("polling"),
    WEBHOOK_SECRET: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, { error: "16 to 256 characters: letters, digits, _ and -" })
      .optional(),
    POLL_LEASE_SECONDS: z.coerce
      .number({ error: "seconds the polling lease lasts without renewal, 0.3 to 300" })
      .min(0.3, { error: "seconds the polling lease lasts without renewal, 0.3 to 300" })
      .max(300, { error: "seconds the polling lease lasts without renewal, 0.3 to 300" })
      .default(15),
    SHUTDOWN_TIMEOUT: z.coerce
      .number({ error: "seconds a stop waits for messages in flight, 1 to 600" })
      .min(1, { error: "seconds a stop waits for messages in flight, 1 to 600" })
      .max(600, { error: "seconds a stop waits for messages in flight, 1 to 600" })
      .default(10),
    PORT: z.coerce
      .number({ error: "a TCP port, 0 to 65535 (0: any free port)" })
      .int({ error: "a TCP port, 0 to 65535 (0: any free port)" })
      .min(0, { error: "a TCP port, 0 to 65535 (0: any free port)" })
      .max(65_535, { error: "a TCP port, 0 to 65535 (0: any free port)" })
      .default(8080),
    RESULT_HOSTS: hostList.default(["aiquickdraw.com", "redpandaai.co", "kie.ai"]),
    RESULT_MAX_MB: z.coerce
      .number({ error: "megabytes, 1 to 2000" })
      .int({ error: "megabytes, 1 to 2000" })
      .min(1, { error: "megabytes, 1 to 2000" })
      .max(2000, { error: "megabytes, 1 to 2000" })
      .default(50),
    JOB_DEADLINE_IMAGE_MIN: minutes("JOB_DEADLINE_IMAGE_MIN").default(5),
    JOB_DEADLINE_VIDEO_MIN: minutes("JOB_DEADLINE_VIDEO_MIN").default(20),
    JOB_DEADLINE_AUDIO_MIN: minutes("JOB_DEADLINE_AUDIO_MIN").default(10),
    JOB_DEADLINE_TEXT_MIN: minutes("JOB_DEADLINE_TEXT_MIN").default(5),
    JOB_POLL_FIRST_SECONDS: z.coerce
      .number({ error: "seconds before the first status read, 0.01 to 60" })
      .min(0.01, { error: "seconds before the first status read, 0.01 to 60" })
      .max(60, { error: "seconds before the first status read, 0.01 to 60" })
      .default(3),
    REFERRAL_BONUS: z.coerce
      .number({ error: "a whole number of free generations, 0 to 100" })
      .int({ error: "a whole number of free generations, 0 to 100" })
      .min(0, { error: "a whole number of free generations, 0 to 100" })
      .max(100, { error: "a whole number of free generations, 0 to 100" })
      .default(10),
    WELCOME_GIFT_KOPECKS: z.coerce
      .number({ error: "a whole number of kopecks, 0 (off) to 100000" })
      .int({ error: "a whole number of kopecks, 0 (off) to 100000" })
      .min(0, { error: "a whole number of kopecks, 0 (off) to 100000" })
      .max(100_000, { error: "a whole number of kopecks, 0 (off) to 100000" })
      .default(0),
    YOOKASSA_SHOP_ID: z
      .string()
      .trim()
      .regex(/^\d{1,12}$/, { error: "the shop id from YooKassa (digits)" })
      .optional(),
    YOOKASSA_SECRET_KEY: z.string().trim().min(8, { error: "the secret key from YooKassa" }).optional(),
    YOOKASSA_API_URL: httpsOrLocalUrl("the YooKassa API").default("https://api.yookassa.ru/v3"),
    YOOKASSA_PACKAGES: rubleAmounts.default([10_000, 30_000, 50_000, 100_000]),
    YOOKASSA_RECONCILE_SECONDS: z.coerce
      .number({ error: "seconds between re-reads of pending card payments, 30 to 3600" })
      .int({ error: "seconds between re-reads of pending card payments, 30 to 3600" })
      .min(30, { error: "seconds between re-reads of pending card payments, 30 to 3600" })
      .max(3_600, { error: "seconds between re-reads of pending card payments, 30 to 3600" })
      .default(300),
    KOPECKS_PER_CREDIT: z.coerce
      .number({ error: "kopecks one KIE credit sells for before the markup, a positive number such as 78.57" })
      .positive({ error: "kopecks one KIE credit sells for before the markup, a positive number such as 78.57" })
      .max(10_000, { error: "kopecks one KIE credit sells for before the markup, a positive number such as 78.57" })
      .default(DEFAULT_KOPECKS_PER_CREDIT),
    KIE_CREDIT_COST_KOPECKS: z.coerce
      .number({ error: "kopecks one KIE credit costs you, a positive number such as 45" })
      .positive({ error: "kopecks one KIE credit costs you, a positive number such as 45" })
      .max(10_000, { error: "kopecks one KIE credit costs you, a positive number such as 45" })
      .optional(),
    KIE_BALANCE_ALERT_DAYS: z.coerce
      .number({ error: "days of recent KIE spend the balance must cover, 0 (off) to 90" })
      .min(0, { error: "days of recent KIE spend the balance must cover, 0 (off) to 90" })
      .max(90, { error: "days of recent KIE spend the balance must cover, 0 (off) to 90" })
      .default(3),
    KIE_BALANCE_CHECK_SECONDS: z.coerce
      .number({ error: "seconds between checks of the KIE balance, 0.05 to 86400" })
      .min(0.05, { error: "seconds between checks of the KIE balance, 0.05 to 86400" })
      .max(86_400, { error: "seconds between checks of the KIE balance, 0.05 to 86400" })
      .default(600),
    YOOKASSA_IPS: z
      .string()
      .trim()
      .transform((text) => text.split(",").map((entry) => entry.trim()))
      .refine((entries) => entries.every(isIpRange), { error: "comma-separated IP addresses or CIDR ranges" })
      .default(YOOKASSA_IPS),
    TRUST_PROXY: z.enum(["true", "false"], { error: "true or false" }).default("false"),
    STARS_PACKAGES: starsPackages.default([
      { stars: 50, kopecks: 7_500 },
      { stars: 100, kopecks: 15_000 },
      { stars: 250, kopecks: 37_500 },
      { stars: 500, kopecks: 75_000 },
    ]),
    TELEGRAM_MESSAGES_PER_SECOND: z.coerce
      .number({ error: "messages per second to Telegram, 1 to 10000" })
      .int({ error: "messages per second to Telegram, 1 to 10000" })
      .min(1, { error: "messages per second to Telegram, 1 to 10000" })
      .max(10_000, { error: "messages per second to Telegram, 1 to 10000" })
      .default(30),
    TELEGRAM_CHAT_MESSAGES_PER_SECOND: z.coerce
      .number({ error: "messages per second to one chat, 1 to 10000" })
      .int({ error: "messages per second to one chat, 1 to 10000" })
      .min(1, { error: "messages per second to one chat, 1 to 10000" })
      .max(10_000, { error: "messages per second to one chat, 1 to 10000" })
      .default(1),
    TELEGRAM_RETRIES: z.coerce
      .number({ error: "a whole number of retries of a failed Bot API call, 0 to 10" })
      .int({ error: "a whole number of retries of a failed Bot API call, 0 to 10" })
      .min(0, { error: "a whole number of retries of a failed Bot API call, 0 to 10" })
      .max(10, { error: "a whole number of retries of a failed Bot API call, 0 to 10" })
      .default(3),
    KIE_CREATES_PER_10S: z.coerce
      .number({ error: "a whole number of new KIE tasks per 10 seconds, 1 to 1000" })
      .int({ error: "a whole number of new KIE tasks per 10 seconds, 1 to 1000" })
      .min(1, { error: "a whole number of new KIE tasks per 10 seconds, 1 to 1000" })
      .max(1000, { error: "a whole number of new KIE tasks per 10 seconds, 1 to 1000" })
      .default(20),
    MAX_JOBS_PER_USER: z.coerce
      .number({ error: "a whole number of jobs one user may run at once, 1 to 20" })
      .int({ error: "a whole number of jobs one user may run at once, 1 to 20" })
      .min(1, { error: "a whole number of jobs one user may run at once, 1 to 20" })
      .max(20, { error: "a whole number of jobs one user may run at once, 1 to 20" })
      .default(3),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(", ")}` }).default("info"),
    SHARDS: z.coerce
      .number({ error: "a whole number of user shard workers, 1 to 64" })
      .int({ error: "a whole number of user shard workers, 1 to 64" })
      .min(1, { error: "a whole number of user shard workers, 1 to 64" })
      .max(64, { error: "a whole number of user shard workers, 1 to 64" })
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (env.KV_URL !== undefined && env.KV_ACCESS_TOKEN === undefined) {
      ctx.addIssue({ code: "custom", path: ["KV_ACCESS_TOKEN"], message: "required when KV_URL is set" });
    }
    if ((env.YOOKASSA_SHOP_ID === undefined) !== (env.YOOKASSA_SECRET_KEY === undefined)) {
      const missing = env.YOOKASSA_SHOP_ID === undefined ? "YOOKASSA_SHOP_ID" : "YOOKASSA_SECRET_KEY";
      ctx.addIssue({
        code: "custom",
        path: [missing],
        message: "YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY go together",
      });
    }
    if (env.BOT_MODE === "webhook") {
      for (const name of ["PUBLIC_BASE_URL", "WEBHOOK_SECRET"] as const) {
        if (env[name] === undefined)
          ctx.addIssue({ code: "custom", path: [name], message: "required when BOT_MODE is webhook" });
      }
    }
    // Unsigned callbacks would let anyone end other users' jobs: a public address needs the key.
    if (env.PUBLIC_BASE_URL !== undefined && env.KIE_WEBHOOK_HMAC_KEY === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["KIE_WEBHOOK_HMAC_KEY"],
        message: "required when PUBLIC_BASE_URL is set (enable the webhook HMAC key in kie.ai settings)",
      });
    }
  });

/**
 * The `callBackUrl` sent when the bot has no public address (polling only).
 * KIE requires a callback URL on some endpoints (Suno documents it as
 * required, Runway for every request), so one is always sent; this one can
 * carry a task to nobody. `.invalid` is reserved (RFC 2606 §2, RFC 6761
 * §6.4): no one can register it and resolvers answer NXDOMAIN, so KIE's
 * callback fails at DNS and never leaves KIE. Loopback was the other
 * choice, but it would point KIE at its own machine (a service there may
 * listen) and such addresses are what a server-side URL check refuses;
 * an `https` URL under `.invalid` passes a URL format check and reaches
 * no host at all.
 */
export const UNREACHABLE_KIE_CALLBACK_URL = "https://kie-callback.invalid/kie/callback";

/** The parsed configuration. */
export interface Config {
  readonly botToken: string;
  readonly kieApiKey: string;
  readonly telegramApiRoot: string;
  readonly kieApiBaseUrl: string;
  readonly kieUploadBaseUrl: string;
  readonly kv: KvLocation;
  /**
   * Other instances may share the KV: actors check their resident state
   * against KV before each turn. Default: true with `KV_URL`; an instance
   * that sees another one's heartbeat turns it on by itself.
   */
  readonly kvShared: boolean;
  /** How catalog prices are derived from KIE's credits (`KOPECKS_PER_CREDIT`). */
  readonly pricing: Pricing;
  /**
   * Admins are told when KIE's balance covers fewer than `days` days of the
   * last 7 days' spend (0: never); the balance is read every `checkMs`.
   */
  readonly kieBalanceAlert: { readonly days: number; readonly checkMs: number };
  /** A folder with the catalog data files, instead of the shipped `catalog/data/`. */
  readonly catalogDir?: string;
  readonly adminIds: readonly number[];
  /** Where users ask for help (a @username or a link), shown in /help and /paysupport. */
  readonly support?: string;
  readonly freeDailyLimit: number;
  /** The time zone whose calendar days count free generations. */
  readonly timeZone: string;
  /** KIE calls back to `<publicBaseUrl>/kie/callback` when set; jobs are polled either way. */
  readonly kieCallback?: { readonly publicBaseUrl: string; readonly hmacKey: string };
  /**
   * The `callBackUrl` of every new KIE task: the bot's own route with a
   * public address, else {@link UNREACHABLE_KIE_CALLBACK_URL}. Always set,
   * because KIE requires it on some endpoints (Suno, Runway).
   */
  readonly kieCallBackUrl: string;
  readonly httpPort: number;
  /** How long the polling lease lasts without renewal (a standby takes over after it), in milliseconds. */
  readonly pollLeaseMs: number;
  /** How long a stop waits for messages in flight, in milliseconds. */
  readonly shutdownTimeoutMs: number;
  /** How updates arrive: long polling, or Telegram's webhook at `<PUBLIC_BASE_URL>/telegram/webhook`. */
  readonly transport:
    | { readonly mode: "polling" }
    | { readonly mode: "webhook"; readonly url: string; readonly secret: string };
  /** Hosts (and their subdomains) result files may be downloaded from. */
  readonly resultHosts: readonly string[];
  readonly resultMaxBytes: number;
  /** How long a job may take, by output, in milliseconds. */
  readonly jobDeadlines: {
    readonly image: number;
    readonly video: number;
    readonly audio: number;
    readonly text: number;
  };
  readonly pollFirstMs: number;
  /** Telegram's overall limit for the bot, shared by the threads that send. */
  readonly telegramMessagesPerSecond: number;
  /** Messages a second to one chat, after a burst of 5. */
  readonly telegramChatMessagesPerSecond: number;
  /** Retries of a Bot API call after 429 (honouring `retry_after`), 5xx or a network error. */
  readonly telegramRetries: number;
  /** KIE's account limit on new tasks per 10 seconds (shared by the shards). */
  readonly kieCreatesPer10s: number;
  readonly maxJobsPerUser: number;
  /** Free generations an inviter and an invitee each get for a referral. */
  readonly referralBonus: number;
  /** Kopecks every new user gets once (0: off). */
  readonly welcomeGiftKopecks: number;
  /** Card payments through YooKassa, when configured. */
  readonly yookassa?: {
    readonly shopId: string;
    readonly secretKey: string;
    readonly apiUrl: string;
    /** Top-up amounts offered, in kopecks. */
    readonly packages: readonly number[];
    /** Notification senders (IP addresses and ranges). */
    readonly allowedIps: readonly string[];
    /**
     * How often pending payments are re-read: a payment whose notification
     * was lost is credited within this long, and each re-read is one API call per open payment.
     */
    readonly reconcileMs: number;
  };
  /** Take a request's sender from the rightmost `X-Forwarded-For` entry (one trusted proxy hop appends it). */
  readonly trustProxy: boolean;
  /** Top-up packages paid in Telegram Stars: Stars and the kopecks they credit. */
  readonly starsPackages: readonly { readonly stars: number; readonly kopecks: number }[];
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly shards: number;
}

/** A configuration that cannot start the program; `message` names every bad variable. */
export class ConfigError extends Error {
  readonly code = "config_invalid";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the configuration. Variables from the environment win over the
 * `.env` text; empty values count as unset.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  options: { dotenv?: string | undefined; cpuCount: number },
): Config {
  const fromFile = options.dotenv === undefined ? {} : parseDotenv(options.dotenv);
  const merged: Record<string, string> = {};
  for (const source of [fromFile, env]) {
    for (const [name, value] of Object.entries(source)) if (value !== undefined && value !== "") merged[name] = value;
  }
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`));
  }
  const value = parsed.data;
  const kieCallback =
    value.PUBLIC_BASE_URL !== undefined && value.KIE_WEBHOOK_HMAC_KEY !== undefined
      ? { publicBaseUrl: value.PUBLIC_BASE_URL, hmacKey: value.KIE_WEBHOOK_HMAC_KEY }
      : undefined;
  return {
    botToken: value.BOT_TOKEN,
    kieApiKey: value.KIE_API_KEY,
    telegramApiRoot: value.TELEGRAM_API_ROOT,
    kieApiBaseUrl: value.KIE_API_BASE_URL,
    kieUploadBaseUrl: value.KIE_UPLOAD_BASE_URL,
    kv:
      value.KV_URL === undefined
        ? { kind: "file", path: value.KV_PATH }
        : { kind: "remote", url: value.KV_URL, accessToken: value.KV_ACCESS_TOKEN },
    ...(value.CATALOG_DIR === undefined ? {} : { catalogDir: value.CATALOG_DIR }),
    adminIds: value.ADMIN_IDS,
    ...(value.SUPPORT_CONTACT === undefined ? {} : { support: value.SUPPORT_CONTACT }),
    freeDailyLimit: value.FREE_DAILY_LIMIT,
    timeZone: value.TIMEZONE,
    ...(kieCallback === undefined ? {} : { kieCallback }),
    kieCallBackUrl:
      kieCallback === undefined ? UNREACHABLE_KIE_CALLBACK_URL : `${kieCallback.publicBaseUrl}/kie/callback`,
    httpPort: value.PORT,
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT * 1000,
    pollLeaseMs: Math.round(value.POLL_LEASE_SECONDS * 1000),
    transport:
      value.BOT_MODE === "webhook" && value.PUBLIC_BASE_URL !== undefined && value.WEBHOOK_SECRET !== undefined
        ? { mode: "webhook", url: `${value.PUBLIC_BASE_URL}/telegram/webhook`, secret: value.WEBHOOK_SECRET }
        : { mode: "polling" },
    resultHosts: value.RESULT_HOSTS,
    resultMaxBytes: value.RESULT_MAX_MB * 1024 * 1024,
    jobDeadlines: {
      image: Math.round(value.JOB_DEADLINE_IMAGE_MIN * 60_000),
      video: Math.round(value.JOB_DEADLINE_VIDEO_MIN * 60_000),
      audio: Math.round(value.JOB_DEADLINE_AUDIO_MIN * 60_000),
      text: Math.round(value.JOB_DEADLINE_TEXT_MIN * 60_000),
    },
    pollFirstMs: Math.round(value.JOB_POLL_FIRST_SECONDS * 1000),
    kieCreatesPer10s: value.KIE_CREATES_PER_10S,
    telegramMessagesPerSecond: value.TELEGRAM_MESSAGES_PER_SECOND,
    telegramChatMessagesPerSecond: value.TELEGRAM_CHAT_MESSAGES_PER_SECOND,
    telegramRetries: value.TELEGRAM_RETRIES,
    maxJobsPerUser: value.MAX_JOBS_PER_USER,
    starsPackages: value.STARS_PACKAGES,
    ...(value.YOOKASSA_SHOP_ID !== undefined && value.YOOKASSA_SECRET_KEY !== undefined
      ? {
          yookassa: {
            shopId: value.YOOKASSA_SHOP_ID,
            secretKey: value.YOOKASSA_SECRET_KEY,
            apiUrl: value.YOOKASSA_API_URL,
            packages: value.YOOKASSA_PACKAGES,
            allowedIps: value.YOOKASSA_IPS,
            reconcileMs: value.YOOKASSA_RECONCILE_SECONDS * 1000,
          },
        }
      : {}),
    trustProxy: value.TRUST_PROXY === "true",
    kvShared: value.KV_SHARED === undefined ? value.KV_URL !== undefined : value.KV_SHARED === "true",
    pricing: {
      kopecksPerCredit: value.KOPECKS_PER_CREDIT,
      ...(value.KIE_CREDIT_COST_KOPECKS === undefined ? {} : { costKopecksPerCredit: value.KIE_CREDIT_COST_KOPECKS }),
    },
    kieBalanceAlert: {
      days: value.KIE_BALANCE_ALERT_DAYS,
      checkMs: Math.round(value.KIE_BALANCE_CHECK_SECONDS * 1000),
    },
    referralBonus: value.REFERRAL_BONUS,
    welcomeGiftKopecks: value.WELCOME_GIFT_KOPECKS,
    logLevel: value.LOG_LEVEL,
    shards: value.SHARDS ?? Math.max(1, options.cpuCount),
  };
}

/** The secret values of a configuration, for log redaction. */
export function secretsOf(config: Config): string[] {
  const secrets = [config.botToken, config.kieApiKey];
  if (config.kv.kind === "remote" && config.kv.accessToken) secrets.push(config.kv.accessToken);
  if (config.kieCallback) secrets.push(config.kieCallback.hmacKey);
  // The pair is what YooKassa's client sends (as `Basic base64(shopId:secretKey)`); the shop id alone is not secret.
  if (config.yookassa)
    secrets.push(config.yookassa.secretKey, `${config.yookassa.shopId}:${config.yookassa.secretKey}`);
  if (config.transport.mode === "webhook") secrets.push(config.transport.secret);
  return secrets;
}
