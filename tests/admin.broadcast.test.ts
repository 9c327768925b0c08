/**
 * Broadcasts, in-thread with msw for the Bot API: every stored user gets the
 * admin's message once, users who blocked the bot are skipped and counted,
 * the admin gets a report, and a broadcast resumes after a restart without
 * sending anyone a second copy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initialUserState } from "../src/bot/state.ts";
import { type BroadcastMessage, initialBroadcastState, receiveBroadcast } from "../src/payments/broadcast.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, botApiServer, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
let blockedBy = new Set<number>();
const server = botApiServer(calls, {
  refuse: (call) =>
    call.method === "sendMessage" && blockedBy.has(Number(call.body.chat_id))
      ? { status: 403, description: "Forbidden: bot was blocked by the user" }
      : undefined,
});
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const received = (text: string) =>
  calls.filter((call) => call.method === "sendMessage" && call.body.text === text).map((call) => call.body.chat_id);

describe("broadcasts", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
    blockedBy = new Set();
  });

  it("reaches every user once, skips those who blocked the bot, and reports to the admin", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls, { ADMIN_IDS: "500" }, "real");
    defer(() => started.app.stop().then(() => undefined));
    for (const id of [531, 532, 533]) await started.send(userOf(id, "en").text("/start"));
    blockedBy = new Set([533]);
    await started.send(userOf(500, "en").text("/broadcast New models are in!"), 1);
    await until(() => calls.some((call) => String(call.body.text).startsWith("Broadcast done")));
    // The admin is a user too (the command's audit entry stored the admin's state) and sees the message as sent.
    expect(received("New models are in!").sort()).toEqual([500, 531, 532, 533]);
    expect(calls.filter((call) => call.body.chat_id === 533 && call.body.text === "New models are in!")).toHaveLength(
      1,
    );
    const report = calls.find((call) => String(call.body.text).startsWith("Broadcast done"));
    expect(report?.body).toMatchObject({
      chat_id: 500,
      text: "Broadcast done: sent 3, skipped 1 (blocked the bot), failed 0.",
    });
  });

  it("resumes after a restart with the recipients left, never sending anyone a second copy", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    const op = kv.atomic();
    for (const id of [541, 542, 543]) op.set(["user", id], { ...initialUserState("en"), starts: 1, welcomed: true });
    // The process stopped after 541 got the message and 542 was taken off the list of its page.
    await op
      .set(["broadcast", "b:500:1"], {
        v: 1,
        adminId: 500,
        text: "Maintenance tonight",
        status: "running",
        pending: [543],
        after: ["user", 543],
        lastPage: false,
        sent: 1,
        skipped: 0,
        failed: 0,
      })
      .set(["broadcast_active", "b:500:1"], true)
      .commit();
    kv.close();
    const started = await startBot(kvPath, calls, { ADMIN_IDS: "500" }, "real");
    defer(() => started.app.stop().then(() => undefined));
    await until(() => calls.some((call) => String(call.body.text).startsWith("Broadcast done")));
    expect(received("Maintenance tonight")).toEqual([543]);
    expect((await started.app.kv.get(["broadcast_active", "b:500:1"])).versionstamp).toBeNull();
  });
});

describe("a broadcast's pages", () => {
  const initial = initialBroadcastState();

  it("sends each user once when a page is read twice (a resume, or a second chain of sends, asked again)", () => {
    const sends: number[] = [];
    let state = initial;
    const run = (message: BroadcastMessage) => {
      const turn = receiveBroadcast(state, message, "b:1");
      state = turn.state;
      for (const effect of turn.effects ?? []) if (effect.type === "send") sends.push(effect.userId);
      return turn.effects ?? [];
    };
    expect(run({ type: "start", adminId: 9, text: "📣 Привет" }).map((effect) => effect.type)).toContain("readPage");
    // A process started meanwhile resumes the broadcast: the first page is asked for a second time.
    expect(run({ type: "resume" }).map((effect) => effect.type)).toEqual(["readPage"]);
    const first = { type: "page", users: [1, 2], after: ["user", 2] } as const;
    run(first);
    run(first);
    run({ type: "next" });
    // Both chains ask for the next page once the first is sent; only one of its reads counts.
    const second = { type: "page", users: [3], from: ["user", 2] } as const;
    run({ type: "next" });
    run(second);
    run({ type: "next" });
    run(second);
    run({ type: "next" });
    expect(sends).toEqual([1, 2, 3]);
    expect(state.status).toBe("done");
  });
});
