/**
 * Referrals and the welcome gift, in-thread with msw for the Bot API: both
 * sides of a referral get their bonus once per pair, never for oneself or
 * an unknown inviter; the welcome gift is credited once per user.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BotCall, botApiServer, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { until, userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("referrals and the welcome gift", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
  });

  async function bot(env: Record<string, string> = {}) {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls, env);
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  const bankOf = async (started: Awaited<ReturnType<typeof bot>>, userId: number) =>
    (await userRecords(started.app.kv, userId)).state.wallet.bank;

  it("gives the inviter and the invitee their bonus once per pair, never for oneself or an unknown inviter", async () => {
    const started = await bot({ REFERRAL_BONUS: "7" });
    const inviter = userOf(401, "en");
    const invitee = userOf(402, "en");
    await started.send(inviter.text("/start"));
    await started.send(invitee.text(`/start ref_${(401).toString(36)}`), 3);
    await until(async () => (await bankOf(started, 401)) === 7 && (await bankOf(started, 402)) === 7);
    expect(calls.some((call) => call.body.chat_id === 401 && String(call.body.text).includes("A friend joined"))).toBe(
      true,
    );
    expect(
      calls.some((call) => call.body.chat_id === 402 && String(call.body.text).includes("You came by an invitation")),
    ).toBe(true);

    // The same link again, a repeated message between the actors, a self-invite and an unknown inviter: nothing more.
    await started.send(invitee.text(`/start ref_${(401).toString(36)}`));
    const again = await started.app.supervisor.ask("user", 401, { type: "referred", inviteeId: 402 });
    expect(again).toEqual({ ok: true, value: { accepted: true } });
    await started.send(userOf(403, "en").text(`/start ref_${(403).toString(36)}`));
    await started.send(userOf(404, "en").text(`/start ref_${(999_999).toString(36)}`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([await bankOf(started, 401), await bankOf(started, 402)]).toEqual([7, 7]);
    expect([await bankOf(started, 403), await bankOf(started, 404)]).toEqual([0, 0]);

    const screen = screenOf(await started.send(inviter.press("1|i|referral"), 2));
    expect(screen.text).toContain(`start=ref_${(401).toString(36)}`);
    expect(screen.text).toContain("Friends invited: 1. Free generations earned: 7.");
  });

  it("credits the welcome gift once, with a ledger entry, and tells the new user", async () => {
    const started = await bot({ WELCOME_GIFT_KOPECKS: "5000" });
    const user = userOf(405, "en");
    const first = await started.send(user.text("/start"));
    expect(screenOf(first).text).toContain("A welcome gift: 50 ₽ on your balance!");
    await started.send(user.text("/start"));
    const records = await userRecords(started.app.kv, 405);
    expect(records.state.wallet.balance).toBe(5_000);
    expect(records.ledger.map((record) => record.entry.key)).toEqual(["welcome"]);
  });
});
