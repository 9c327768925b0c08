/**
 * Admin commands, in-thread with msw for the Bot API: only ids in
 * ADMIN_IDS may credit, debit, block or unblock; each action is a ledger or
 * audit entry with the admin's id and reason, applied once per request.
 */
import { HttpResponse, http } from "msw";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BotCall, botApiServer, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { userRecords } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("admin commands", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
  });

  it("credit, debit, block and unblock: admins only, audited, once per request", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls, { ADMIN_IDS: "500" });
    defer(() => started.app.stop().then(() => undefined));
    const admin = userOf(500, "en");
    const intruder = userOf(502, "en");
    await started.send(userOf(501, "en").text("/start"));

    // Someone else: the command is as unknown as any other, and nothing changes.
    const refused = await started.send(intruder.text("/credit 501 100 free money"));
    expect(String(refused[0]?.body.text)).toContain("I understand commands, buttons and model names");
    expect((await userRecords(started.app.kv, 501)).state.wallet.balance).toBe(0);

    const credit = admin.text("/credit 501 100 compensation for a lost result");
    await started.send(credit, 2);
    await started.send(credit, 0); // the same update again (Telegram redelivered it): not handled twice
    await started.send(admin.text("/debit 501 30,50 correction"));
    const tooMuch = await started.send(admin.text("/debit 501 1000 too much"));
    expect(String(tooMuch[0]?.body.text)).toBe("Not done: insufficient_funds.");
    let records = await userRecords(started.app.kv, 501);
    expect(records.state.wallet.balance).toBe(6_950);
    expect(records.ledger).toHaveLength(2);
    expect(records.ledger[0]).toMatchObject({
      adminId: 500,
      entry: { type: "adjustment", reason: "admin 500: compensation for a lost result" },
    });
    expect(
      calls.some((call) => call.body.chat_id === 501 && String(call.body.text).includes("topped up by 100 ₽")),
    ).toBe(true);

    const blocked = await started.send(admin.text("/block 501 abuse"));
    expect(String(blocked[0]?.body.text)).toBe("Done. User 501: balance 69.50 ₽, blocked: yes.");
    expect((await userRecords(started.app.kv, 501)).state.blocked).toBe(true);
    await started.send(admin.text("/unblock 501"));
    records = await userRecords(started.app.kv, 501);
    expect(records.state.blocked).toBe(false);
    const audit = [];
    for await (const entry of started.app.kv.list({ prefix: ["audit", 501] })) audit.push(entry.value);
    expect(audit.map((entry) => (entry as { action: { kind: string }; adminId: number }).action.kind).sort()).toEqual([
      "block",
      "credit",
      "debit",
      "unblock",
    ]);

    const help = await started.send(admin.text("/admin"));
    expect(String(help[0]?.body.text)).toContain("/credit &lt;id&gt;");
  });

  it("/stats counts users, generations, revenue and free generations; /user finds a user by id or @username", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const started = await startBot(`${dir.path}/kv`, calls, { ADMIN_IDS: "500" });
    defer(() => started.app.stop().then(() => undefined));
    server.use(http.get("https://api.kie.ai/api/v1/chat/credit", () => HttpResponse.json({ code: 200, data: 1234.5 })));
    const admin = userOf(500, "en");
    const named = userOf(511, "en").text("/start");
    (named.message as { from: { username?: string } }).from.username = "Fox_Lover";
    await started.send(named);
    await started.send(userOf(512, "en").text("/start"));
    await started.send(admin.text("/credit 511 42 goodwill"), 2);

    const stats = await started.send(admin.text("/stats"));
    const text = String(stats.at(-1)?.body.text);
    // The admin only sent commands, which store nothing: two users.
    expect(text).toContain("Users: 2 (active today 2, 7 days 2, blocked 0)");
    expect(text).toContain("Revenue: none");
    expect(text).toContain("KIE credits: 1234.5");

    const byName = await started.send(admin.text("/user @fox_lover"));
    const report = String(byName.at(-1)?.body.text);
    expect(report).toContain("<b>User 511</b> (@Fox_Lover)");
    expect(report).toContain("Balance 42 ₽");
    expect(report).toContain("adjustment 42 ₽");
    expect(report).toContain("Payments and refunds:\n  none");
    const unknown = await started.send(admin.text("/user @nobody_here"));
    expect(String(unknown.at(-1)?.body.text)).toBe("No user @nobody_here.");
  });

  it("/hide takes a model out of menus for everyone, also after a restart; /show brings it back", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const admin = userOf(500, "en");
    const user = userOf(521, "en");
    const listed = async (bot: Awaited<ReturnType<typeof startBot>>) =>
      screenOf(await bot.send(user.press("1|s|free|0"), 2)).buttons.some((button) =>
        button.callback_data.startsWith("1|c|z-image|"),
      );

    const first = await startBot(kvPath, calls, { ADMIN_IDS: "500" });
    await first.send(user.text("/start"));
    expect(await listed(first)).toBe(true);
    const hidden = await first.send(admin.text("/hide z-image broken upstream"));
    expect(String(hidden.at(-1)?.body.text)).toBe("z-image: hidden from users.");
    expect(await listed(first)).toBe(false);
    const card = await first.send(user.press("1|c|z-image|0"), 2);
    expect(screenOf(card).text).toContain("not available");
    await first.app.stop();

    const second = await startBot(kvPath, calls, { ADMIN_IDS: "500" });
    defer(() => second.app.stop().then(() => undefined));
    expect(await listed(second)).toBe(false);
    const shown = await second.send(admin.text("/show z-image"));
    expect(String(shown.at(-1)?.body.text)).toBe("z-image: visible to users.");
    expect(await listed(second)).toBe(true);
    const unknown = await second.send(admin.text("/hide no-such-model"));
    expect(String(unknown.at(-1)?.body.text)).toBe("No model no-such-model.");
  });
});
