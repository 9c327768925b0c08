/**
 * The bot under test as operators run it (`src/main.ts` in its own process,
 * webhook mode, workers, embedded KV), started again on the same KV file
 * after every SIGKILL. Keeps every log line of every run (for the evidence
 * of a violation) and notices a process that dies on its own.
 */
import { appendFileSync } from "node:fs";
import { TEST_TOKEN } from "../../tests/helpers/app.ts";
import { type RunningBot, startBotProcess } from "../../tests/helpers/process.ts";

export const WEBHOOK_SECRET = "chaos-webhook-secret-0123456789";
export const KIE_API_KEY = "kie-chaos-key-123";
export const KIE_HMAC_KEY = "kie-chaos-hmac-key-0123";
/** Stars packages on /topup (stars:kopecks): the credit a package's payment must bring. */
export const STARS_PACKAGES = [
  { stars: 50, kopecks: 7_500 },
  { stars: 100, kopecks: 15_000 },
] as const;
/** Kopecks credited once to every new user, with a ledger entry of its own. */
export const WELCOME_GIFT_KOPECKS = 5_000;

/** A log line of one run of the bot (`run` counts starts from 1; `process` names the second process's lines). */
export interface LogLine {
  readonly run: number;
  readonly process?: string;
  readonly line: Record<string, unknown>;
}

export interface BotRunnerOptions {
  readonly dir: string;
  readonly kvPath: string;
  readonly telegramApiRoot: string;
  readonly kieBaseUrl: string;
  readonly adminIds: readonly number[];
  readonly shards: number;
  /** More settings (YooKassa's, several processes on one KV). */
  readonly env?: Readonly<Record<string, string>>;
  /** A second process's runner writes into the first one's log list, its lines named by this. */
  readonly sharedLogs?: { readonly logs: LogLine[]; readonly process: string };
  /** Where every log line is appended too, one JSON object a line (`CHAOS_LOG_FILE`), for a closer look. */
  readonly logFile?: string;
}

export class BotRunner {
  readonly logs: LogLine[];
  /** Runs that ended without being told to (crashes), with the end of their standard error. */
  readonly unexpectedExits: { run: number; code: number | null; stderr: string }[] = [];
  runs = 0;
  #bot: RunningBot | undefined;
  #port: number | undefined;
  #ending = false;
  #upWaiters: (() => void)[] = [];
  /** How many of each run's log lines were already moved into `logs`. */
  #seen = new WeakMap<RunningBot, number>();

  constructor(private readonly options: BotRunnerOptions) {
    this.logs = options.sharedLogs?.logs ?? [];
  }

  /** True while a run is up or starting. */
  get running(): boolean {
    return this.#bot !== undefined && !this.#ending;
  }

  /** The webhook's base URL while the bot listens; undefined while it is down or starting. */
  get baseUrl(): string | undefined {
    return this.#port === undefined ? undefined : `http://127.0.0.1:${this.#port}`;
  }

  /** Resolves once the bot listens again (at once if it does). */
  whenUp(): Promise<void> {
    if (this.#port !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#upWaiters.push(resolve));
  }

  /** Starts a run and waits until it is ready; returns the time it took. */
  async start(): Promise<number> {
    const started = performance.now();
    const run = ++this.runs;
    this.#ending = false;
    const bot = startBotProcess(this.env(), this.options.dir);
    this.#bot = bot;
    bot.child.stdout?.on("data", () => this.#collect(run, bot));
    void bot.exited.then((code) => {
      this.#collect(run, bot);
      if (this.#bot === bot) this.#port = undefined;
      if (!this.#ending) this.unexpectedExits.push({ run, code, stderr: bot.stderr().slice(-4_000) });
    });
    const serving = await bot.waitFor((line) => line.msg === "serving HTTP", 30_000);
    this.#port = Number(serving.port);
    for (const wake of this.#upWaiters.splice(0)) wake();
    await bot.waitFor((line) => line.msg === "ready", 30_000);
    return performance.now() - started;
  }

  /** SIGKILL: no draining, no flushing; whatever was in flight is lost as in a power cut. */
  async kill(): Promise<void> {
    const bot = this.#bot;
    if (bot === undefined) return;
    this.#ending = true;
    this.#port = undefined;
    bot.child.kill("SIGKILL");
    await bot.exited;
  }

  /** SIGTERM, as an operator stops the bot; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const bot = this.#bot;
    if (bot === undefined) return null;
    this.#ending = true;
    bot.child.kill("SIGTERM");
    const code = await bot.exited;
    this.#port = undefined;
    return code;
  }

  /** Log lines at warn or worse, counted by level, message and error message. */
  problems(): Record<string, number> {
    const names: Record<number, string> = { 40: "warn", 50: "error", 60: "fatal" };
    const counts: Record<string, number> = {};
    for (const { line } of this.logs) {
      const level = Number(line.level);
      if (level < 40) continue;
      // The error's own message too: "KV commit failed" alone does not say why.
      const error = (line.err as { message?: unknown } | undefined)?.message;
      const because = typeof error === "string" ? ` (${error.slice(0, 160)})` : "";
      // Which fields a refusal named (names and codes): "order refused by the catalog" alone does not say which.
      const fields = Array.isArray(line.fields) ? ` ${JSON.stringify(line.fields).slice(0, 200)}` : "";
      const key = `${names[level] ?? level}: ${String(line.msg)}${because}${fields}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /**
   * Log lines with a field whose value is one of `needles` (a job id, a user
   * id, a task id), for evidence. Whole values only: job ids are short and
   * would match inside unrelated text.
   */
  linesAbout(...needles: readonly (string | number)[]): LogLine[] {
    const texts = new Set(needles.map(String));
    return this.logs.filter(({ line }) =>
      Object.values(line).some((value) => typeof value !== "object" && texts.has(String(value))),
    );
  }

  /** Moves the run's new log lines into `logs` (RunningBot keeps its own list per run). */
  #collect(run: number, bot: RunningBot): void {
    const seen = this.#seen.get(bot) ?? 0;
    const process = this.options.sharedLogs?.process;
    for (const line of bot.lines.slice(seen)) {
      this.logs.push({ run, ...(process === undefined ? {} : { process }), line });
      if (this.options.logFile !== undefined)
        appendFileSync(this.options.logFile, `${JSON.stringify({ run, process, line })}\n`);
    }
    this.#seen.set(bot, bot.lines.length);
  }

  private env(): Record<string, string> {
    const { kvPath, telegramApiRoot, kieBaseUrl, adminIds, shards } = this.options;
    return {
      BOT_TOKEN: TEST_TOKEN,
      KIE_API_KEY,
      TELEGRAM_API_ROOT: telegramApiRoot,
      KIE_API_BASE_URL: kieBaseUrl,
      KIE_UPLOAD_BASE_URL: kieBaseUrl,
      KV_PATH: kvPath,
      BOT_MODE: "webhook",
      WEBHOOK_SECRET,
      // KIE's callbacks name this address; the fake KIE posts them to the bot's local port instead.
      PUBLIC_BASE_URL: "https://bot.example",
      KIE_WEBHOOK_HMAC_KEY: KIE_HMAC_KEY,
      ADMIN_IDS: adminIds.join(","),
      SHARDS: String(shards),
      PORT: "0",
      JOB_POLL_FIRST_SECONDS: "0.3",
      // The run sends far more than Telegram's 30/s; the limiter would only slow it down.
      TELEGRAM_MESSAGES_PER_SECOND: "10000",
      TELEGRAM_CHAT_MESSAGES_PER_SECOND: "10000",
      KIE_CREATES_PER_10S: "1000",
      WELCOME_GIFT_KOPECKS: String(WELCOME_GIFT_KOPECKS),
      STARS_PACKAGES: STARS_PACKAGES.map((pack) => `${pack.stars}:${pack.kopecks}`).join(","),
      FREE_DAILY_LIMIT: "0",
      LOG_LEVEL: "info",
      ...this.options.env,
    };
  }
}
