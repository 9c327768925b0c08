/**
 * Graceful stop under load, with the bot as a process in webhook mode: a
 * SIGTERM arrives while hundreds of updates are being posted. Readiness goes
 * false, intake stops (503, then a closed port: Telegram delivers again
 * later), what is in flight finishes within SHUTDOWN_TIMEOUT and the process
 * exits 0. After a restart on the same KV (which replays the inbox) and a
 * redelivery of everything not answered 200 (plus a few that were), every
 * update has had its effect exactly once: each /start one reply (and its
 * user in KV), each admin /credit one ledger entry, one balance change, one
 * message to the user and one answer to the admin. And the stop completes
 * even while a client (Telegram retrying, a load balancer probing) keeps
 * using a keep-alive connection that was busy when the stop began. */
import { Agent, type IncomingMessage, request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { restoreUserState } from "../src/bot/state.ts";
import { platform } from "../src/platform/mod.ts";
import { unhandledUpdates } from "../src/telegram/inbox.ts";
import { TEST_TOKEN } from "./helpers/app.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { startFakeBotApi } from "./helpers/fake-bot-api.ts";
import { type RunningBot, startBotProcess } from "./helpers/process.ts";
import { tempDir } from "./helpers/runtime.ts";

const SECRET = "graceful-stop-secret-0123";
/** Users who send /start, each STARTS_EACH times. */
const STARTERS = Array.from({ length: 100 }, (_, i) => 41_001 + i);
const STARTS_EACH = 3;
/**
 * Admins, each crediting CREDITS_EACH different targets. A user's messages
 * are flood-limited (a burst of 10), so each admin sends only a few.
 */
const ADMINS = Array.from({ length: 20 }, (_, i) => 42_001 + i);
const CREDITS_EACH = 5;
const TARGETS = Array.from({ length: 20 }, (_, i) => 43_001 + i);
/** SIGTERM once this many webhook calls have been answered. */
const SIGTERM_AFTER = 120;
const CONCURRENCY = 32;

interface Update {
  readonly update_id: number;
  readonly message: Record<string, unknown>;
}
type Sent =
  | { readonly kind: "start"; readonly userId: number; readonly update: Update }
  | {
      readonly kind: "credit";
      readonly adminId: number;
      readonly targetId: number;
      readonly kopecks: number;
      readonly update: Update;
    };
/** An HTTP status, or the code of a connection error (the server closed, refused, reset). */
type Answer = number | string;

function message(userId: number, text: string): Record<string, unknown> {
  const from = { id: userId, is_bot: false, first_name: `U${userId}`, language_code: "en" };
  return {
    message_id: 1,
    date: 1_790_000_000,
    chat: { id: userId, type: "private", first_name: from.first_name },
    from,
    text,
    entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]?.length ?? 0 }],
  };
}

/** The load: /starts and credits interleaved (a fixed shuffle), update ids rising in sending order. */
function buildLoad(): Sent[] {
  type WithoutUpdate<T> = T extends unknown ? Omit<T, "update"> : never;
  type Draft = WithoutUpdate<Sent> & { readonly text: string; readonly from: number };
  const drafts: Draft[] = [];
  for (const userId of STARTERS) {
    for (let i = 0; i < STARTS_EACH; i++) drafts.push({ kind: "start", userId, text: "/start", from: userId });
  }
  ADMINS.forEach((adminId, a) => {
    for (let j = 0; j < CREDITS_EACH; j++) {
      const targetId = TARGETS[(a + j * 3) % TARGETS.length] ?? 0;
      const kopecks = 100 * (1 + ((a * CREDITS_EACH + j) % 9)) + ((a * 7 + j * 13) % 100);
      const rubles = `${Math.floor(kopecks / 100)}.${String(kopecks % 100).padStart(2, "0")}`;
      const text = `/credit ${targetId} ${rubles} load test ${a}-${j}`;
      drafts.push({ kind: "credit", adminId, targetId, kopecks, text, from: adminId });
    }
  });
  let seed = 0x5eed;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  for (let i = drafts.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [drafts[i], drafts[j]] = [drafts[j] as Draft, drafts[i] as Draft];
  }
  return drafts.map(({ text, from, ...draft }, index) => ({
    ...draft,
    update: { update_id: 900_000 + index, message: message(from, text) },
  })) as Sent[];
}

/** One HTTP call to the bot; answers the status once the headers arrive, or the connection error's code. */
function call(port: number, agent: Agent, method: "GET" | "POST", path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        agent,
        timeout: 15_000,
        headers: {
          "x-telegram-bot-api-secret-token": SECRET,
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res: IncomingMessage) => {
        res.on("error", () => undefined);
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(payload);
  });
}

/** Posts `updates` with at most CONCURRENCY in flight; `onAnswer` sees each answer as it comes. */
async function postAll(
  port: number,
  updates: readonly Update[],
  onAnswer: (answered: number) => void = () => undefined,
): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const answers: Answer[] = new Array(updates.length);
  let next = 0;
  let answered = 0;
  const lane = async () => {
    while (next < updates.length) {
      const index = next++;
      answers[index] = await call(port, agent, "POST", "/telegram/webhook", updates[index]);
      onAnswer(++answered);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  agent.destroy();
  return answers;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the exit code, or "still running" if the process has not exited within `ms`. */
function exitWithin(bot: RunningBot, ms: number): Promise<number | null | "still running"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    bot.exited.finally(() => clearTimeout(timer)),
    new Promise<"still running">((resolve) => {
      timer = setTimeout(() => resolve("still running"), ms);
    }),
  ]);
}

/**
 * A request whose last bytes wait for `release` (a client on a slow link): it
 * is in progress whenever the server looks at its connections meanwhile.
 * Answers the status of the response, or the connection error's code.
 */
function slowRequest(port: number, head: string, rest: string, release: Promise<unknown>): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(head);
      void release.then(() => socket.write(rest));
    });
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const status = received.match(/^HTTP\/1\.1 (\d{3}) /);
      if (status) {
        resolve(Number(status[1]));
        socket.destroy();
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.on("close", () => resolve("closed without an answer"));
  });
}

const SHUTDOWN_TIMEOUT_S = 5;
/** How long after SIGTERM the process may take to exit: the drain's deadline, plus closing HTTP and KV. */
const EXIT_DEADLINE_MS = SHUTDOWN_TIMEOUT_S * 1000 + 5_000;

describe("a graceful stop under load (webhook mode, the bot as a process)", () => {
  const defer = useCleanups();

  /** A fake Bot API, a KV file in a temp dir, and a way to start the bot (again) on them. */
  async function setUp() {
    const fake = await startFakeBotApi();
    defer(() => fake.close());
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/bot.kv`;
    const env = {
      BOT_TOKEN: TEST_TOKEN,
      KIE_API_KEY: "kie-test-key-123",
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_MESSAGES_PER_SECOND: "10000",
      TELEGRAM_CHAT_MESSAGES_PER_SECOND: "10000",
      KV_PATH: kvPath,
      SHARDS: "2",
      PORT: "0",
      BOT_MODE: "webhook",
      PUBLIC_BASE_URL: "https://bot.example.com",
      KIE_WEBHOOK_HMAC_KEY: "kie-hmac-key-0123",
      WEBHOOK_SECRET: SECRET,
      ADMIN_IDS: ADMINS.join(","),
      SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S),
    };
    const start = async (): Promise<{ bot: RunningBot; port: number }> => {
      const bot = startBotProcess(env, dir.path);
      defer(async () => {
        if (bot.child.exitCode !== null || bot.child.signalCode !== null) return;
        bot.child.kill("SIGKILL");
        await bot.exited;
      });
      const serving = await bot.waitFor((line) => line.msg === "serving HTTP", 20_000);
      await bot.waitFor((line) => line.msg === "ready", 20_000);
      return { bot, port: Number(serving.port) };
    };
    return { fake, kvPath, start };
  }

  it("loses nothing it acknowledged: after a restart and Telegram's redeliveries, every update took effect exactly once", async () => {
    const { fake, kvPath, start } = await setUp();
    const load = buildLoad();

    // Run 1: the load, and a SIGTERM in the middle of it. Readiness is probed until it goes false (a load
    // balancer then takes the instance out of rotation).
    const first = await start();
    const readiness: Answer[] = [];
    const probes = (async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (readiness.at(-1) === undefined || readiness.at(-1) === 200) {
        readiness.push(await call(first.port, agent, "GET", "/readyz"));
        await sleep(5);
      }
      agent.destroy();
    })();
    let signalled = false;
    const answers = await postAll(
      first.port,
      load.map((sent) => sent.update),
      (answered) => {
        if (answered >= SIGTERM_AFTER && !signalled) {
          signalled = true;
          first.bot.child.kill("SIGTERM");
        }
      },
    );
    expect(signalled).toBe(true);
    expect(await exitWithin(first.bot, EXIT_DEADLINE_MS), "run 1 exits after SIGTERM").toBe(0);
    await probes;
    expect(first.bot.lines.find((line) => line.msg === "stopped")?.drained, "run 1 drained in time").toBe(true);

    // Every answer was 200 (acknowledged), 503 (stopping) or a connection error; nothing else.
    expect(answers.filter((answer) => typeof answer === "number" && answer !== 200 && answer !== 503)).toEqual([]);
    const acknowledged = load.filter((_, i) => answers[i] === 200);
    const refused = load.filter((_, i) => answers[i] !== 200);
    expect(acknowledged.length).toBeGreaterThanOrEqual(SIGTERM_AFTER / 2);
    expect(refused.length, "the SIGTERM came while updates were still arriving").toBeGreaterThan(0);
    // Ready before the stop; then unready (503) or gone, and never ready again.
    expect(readiness[0]).toBe(200);
    expect(readiness.at(-1)).not.toBe(200);
    expect(readiness.filter((answer) => typeof answer === "number" && answer !== 200 && answer !== 503)).toEqual([]);

    // Run 2 on the same KV (replaying the inbox); Telegram delivers again what was not acknowledged, and a
    // few acknowledged updates a second time (a lost 200 looks like that to Telegram).
    const second = await start();
    const redelivered = [...refused, ...acknowledged.filter((_, i) => i % 10 === 0)];
    const secondAnswers = await postAll(
      second.port,
      redelivered.map((sent) => sent.update),
    );
    expect(secondAnswers.filter((answer) => answer !== 200)).toEqual([]);

    // Wait until the bot is quiet: every expected message is out (or nothing new comes for a while).
    const sendMessages = () => fake.calls.filter((c) => c.method === "sendMessage");
    const expectedMessages = STARTERS.length * STARTS_EACH + 2 * ADMINS.length * CREDITS_EACH;
    for (let seen = -1, quietSince = Date.now(), deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      await sleep(50);
      const now = sendMessages().length;
      if (now !== seen) [seen, quietSince] = [now, Date.now()];
      if (now >= expectedMessages && Date.now() - quietSince >= 300) break;
      if (Date.now() - quietSince >= 2_000) break;
    }
    second.bot.child.kill("SIGTERM");
    expect(await exitWithin(second.bot, EXIT_DEADLINE_MS), "run 2 exits after SIGTERM").toBe(0);
    expect(second.bot.lines.find((line) => line.msg === "stopped")?.drained).toBe(true);

    // Replies, across both runs: exactly one per /start and two per credit (the target's, the admin's).
    const problems: string[] = [];
    const runOf = (updateId: number) => {
      const index = load.findIndex((sent) => sent.update.update_id === updateId);
      return `update ${updateId}, run 1 answered ${answers[index]}`;
    };
    const messagesTo = (chatId: number) => sendMessages().filter((c) => c.payload.chat_id === chatId);
    for (const userId of STARTERS) {
      const greetings = messagesTo(userId).filter((c) => String(c.payload.text).startsWith("Hi"));
      if (greetings.length !== STARTS_EACH || messagesTo(userId).length !== STARTS_EACH) {
        problems.push(`user ${userId}: ${greetings.length} greetings in ${messagesTo(userId).length} messages`);
      }
    }
    const credits = load.filter((sent) => sent.kind === "credit");
    for (const adminId of ADMINS) {
      const texts = messagesTo(adminId).map((c) => String(c.payload.text));
      if (texts.length !== CREDITS_EACH || !texts.every((text) => text.startsWith("Done."))) {
        problems.push(`admin ${adminId} was answered ${JSON.stringify(texts)}`);
      }
    }
    for (const targetId of TARGETS) {
      const count = credits.filter((sent) => sent.targetId === targetId).length;
      if (messagesTo(targetId).length !== count) {
        problems.push(`user ${targetId}: ${messagesTo(targetId).length} top-up messages for ${count} credits`);
      }
    }

    // KV: each /start counted once, each credit one ledger entry and one balance change; the inbox is done.
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    try {
      for (const userId of STARTERS) {
        const stored = await kv.get(["user", userId]);
        // `starts` is a soft field (written with the next durable change): the first /start is durable.
        const starts = stored.value === null ? 0 : restoreUserState(stored.value).starts;
        if (starts < 1) problems.push(`user ${userId}: not in KV (${starts} starts)`);
      }
      for (const targetId of TARGETS) {
        const mine = credits.filter((sent) => sent.targetId === targetId);
        const expectedKeys = mine.map((sent) => `admin:${sent.adminId}:${sent.update.update_id}`);
        const keys: string[] = [];
        for await (const entry of kv.list({ prefix: ["ledger", targetId] })) keys.push(String(entry.key[2]));
        const stored = await kv.get(["user", targetId]);
        const balance = stored.value === null ? 0 : restoreUserState(stored.value).wallet.balance;
        const expected = mine.reduce((sum, sent) => sum + sent.kopecks, 0);
        const missing = mine.filter((sent) => !keys.includes(`admin:${sent.adminId}:${sent.update.update_id}`));
        const unexpected = keys.filter((key) => !expectedKeys.includes(key));
        if (balance !== expected || missing.length > 0 || unexpected.length > 0) {
          problems.push(
            `user ${targetId}: balance ${balance}, expected ${expected}; credits missing: ` +
              `[${missing.map((sent) => runOf(sent.update.update_id)).join("; ")}], unexpected: [${unexpected}]`,
          );
        }
      }
      const pending = (await unhandledUpdates(kv)).map((update) => runOf((update as Update).update_id));
      if (pending.length > 0) problems.push(`inbox entries never handled: ${pending.join("; ")}`);
    } finally {
      kv.close();
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("stops within SHUTDOWN_TIMEOUT while Telegram keeps its connection open and retries on it", async () => {
    const { start } = await setUp();
    const { bot, port } = await start();
    // Telegram's persistent connection: an update is on its way (headers sent, body not yet) when SIGTERM comes.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    const update = buildLoad()[0]?.update;
    const body = JSON.stringify(update);
    const inFlight = new Promise<Answer>((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/telegram/webhook",
          method: "POST",
          agent,
          headers: {
            "x-telegram-bot-api-secret-token": SECRET,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.write(body.slice(0, 10));
      // The rest arrives shortly after the stop began (the HTTP server is closing meanwhile).
      void bot
        .waitFor((line) => line.msg === "stopping")
        .then(() => sleep(300))
        .then(() => req.end(body.slice(10)));
    });
    // A load balancer's readiness probe, on its way too.
    const probe = slowRequest(
      port,
      "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
      "\r\n",
      bot.waitFor((line) => line.msg === "stopping").then(() => sleep(300)),
    );
    await sleep(50);
    bot.child.kill("SIGTERM");
    // Stopping: the update is refused (Telegram delivers it again later), and the instance is not ready.
    expect(await inFlight).toBe(503);
    expect(await probe).toBe(503);

    // Telegram retries on the same connection, and a load balancer's probe comes the same way; both see a
    // stopping instance until the connection closes.
    const exited = exitWithin(bot, EXIT_DEADLINE_MS);
    let done = false;
    void exited.then(() => {
      done = true;
    });
    const retries: Answer[] = [];
    while (!done && (retries.length === 0 || typeof retries.at(-1) === "number")) {
      retries.push(await call(port, agent, "POST", "/telegram/webhook", update));
      retries.push(await call(port, agent, "GET", "/readyz"));
      await sleep(250);
    }
    expect(retries.filter((answer) => answer !== 503 && typeof answer === "number")).toEqual([]);
    const code = await exited;
    const kept = retries.filter((answer) => answer === 503).length;
    expect(
      code,
      `exit within ${EXIT_DEADLINE_MS} ms of SIGTERM (SHUTDOWN_TIMEOUT ${SHUTDOWN_TIMEOUT_S} s); ` +
        `${kept} requests were answered 503 on the connection kept open; last log line: ` +
        JSON.stringify(bot.lines.at(-1)),
    ).toBe(0);
    expect(bot.lines.find((line) => line.msg === "stopped")?.drained).toBe(true);
  }, 30_000);
});
