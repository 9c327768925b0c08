/**
 * /stats reconciles the ledger with the payment and refund records, per
 * provider: an admin sees what matches, what does not and the first ids of
 * each mismatch, in one message within Telegram's limit.
 */
import { HttpResponse, http } from "msw";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KvKey } from "../src/platform/mod.ts";
import { platform } from "../src/platform/mod.ts";
import { htmlLength } from "../src/telegram/text.ts";
import { type BotCall, botApiServer, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const server = botApiServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const AT = Date.UTC(2026, 11, 1);

/** A payment record as the payment actor writes it. */
const payment = (provider: "stars" | "yookassa", userId: number, kopecks: number, status = "paid") => ({
  provider,
  userId,
  kopecks,
  status,
  at: AT,
});

/** A ledger record as the user's actor writes it; `amount` is the signed money that moved. */
const ledger = (key: string, type: "credit" | "refund", amount: number) => ({
  entry: { type, key, amount: Math.abs(amount), reason: key },
  at: AT,
  amount,
  balanceAfter: 0,
  availableAfter: 0,
});

/** A refund record as the payment actor writes it. */
const refund = (
  provider: "stars" | "yookassa",
  paymentId: string,
  userId: number,
  kopecks: number,
  status: string,
) => ({
  key: `refund:${provider}:${paymentId}`,
  provider,
  paymentId,
  userId,
  kopecks,
  adminId: 500,
  reason: "refund",
  status,
  at: AT,
  attempt: 1,
});

async function seed(kvPath: string, entries: readonly (readonly [KvKey, unknown])[]): Promise<void> {
  const kv = await platform.openKv({ kind: "file", path: kvPath });
  for (let i = 0; i < entries.length; i += 100) {
    const op = kv.atomic();
    for (const [key, value] of entries.slice(i, i + 100)) op.set(key, value);
    await op.commit();
  }
  kv.close();
}

describe("/stats reconciliation", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
  });

  async function statsOf(entries: readonly (readonly [KvKey, unknown])[], lang: "en" | "ru" = "en") {
    const dir = tempDir();
    defer(() => dir.remove());
    await seed(`${dir.path}/kv`, entries);
    const started = await startBot(`${dir.path}/kv`, calls, { ADMIN_IDS: "500" });
    defer(() => started.app.stop().then(() => undefined));
    server.use(http.get("https://api.kie.ai/api/v1/chat/credit", () => HttpResponse.json({ code: 200, data: 10 })));
    const made = await started.send(userOf(500, lang).text("/stats"));
    const sent = made.filter((call) => call.method === "sendMessage");
    expect(sent).toHaveLength(1);
    return String(sent[0]?.body.text);
  }

  /** A consistent set: each paid payment credited once, a refund done in a second attempt after a revert. */
  const consistent: (readonly [KvKey, unknown])[] = [
    [["payment", "stars", "charge-1"], payment("stars", 701, 15_000)],
    [["ledger", 701, "stars:charge-1"], ledger("stars:charge-1", "credit", 15_000)],
    [["payment", "yookassa", "pay-1"], payment("yookassa", 702, 10_000)],
    [["ledger", 702, "yookassa:pay-1"], ledger("yookassa:pay-1", "credit", 10_000)],
    [["payment", "yookassa", "pay-2"], payment("yookassa", 702, 30_000)],
    [["ledger", 702, "yookassa:pay-2"], ledger("yookassa:pay-2", "credit", 30_000)],
    [["ledger", 702, "refund:yookassa:pay-1"], ledger("refund:yookassa:pay-1", "refund", -10_000)],
    [["ledger", 702, "revert:refund:yookassa:pay-1"], ledger("revert:refund:yookassa:pay-1", "credit", 10_000)],
    [["ledger", 702, "refund:yookassa:pay-1#2"], ledger("refund:yookassa:pay-1#2", "refund", -10_000)],
    [["refund", "refund:yookassa:pay-1"], { ...refund("yookassa", "pay-1", 702, 10_000, "done"), attempt: 2 }],
    // Not payments of a provider: an attempt record and an unmatched Stars charge are not counted.
    [["payment", "yookassa-attempt", "y1"], { id: "y1", userId: 702, kopecks: 99_900, status: "succeeded" }],
    [["payment", "stars", "charge-odd"], payment("stars", 703, 7_500, "unmatched")],
    // Other ledger entries (a generation's hold and capture) are not payments.
    [
      ["ledger", 701, "hold:job-1"],
      { ...ledger("hold:job-1", "credit", 500), entry: { type: "hold", key: "hold:job-1" } },
    ],
  ];

  it("shows every provider's payments, credits and refunds matching", async () => {
    const text = await statsOf(consistent);
    expect(text).toContain("<b>Ledger against payment records</b>");
    const [stars, yookassa] = text.split("\nYooKassa:\n");
    expect(stars).toContain(
      "Telegram Stars:\n  Paid: 1 (150 ₽); credited in the ledger: 1 (150 ₽); difference 0 ₽\n" +
        "  Refunds done: 0 (0 ₽); net refund debits in the ledger: 0 (0 ₽); difference 0 ₽\n" +
        "  Refunds under way: 0; outcome unknown: 0\n" +
        "  Every payment and refund matches the ledger.",
    );
    expect(yookassa).toBe(
      "  Paid: 2 (400 ₽); credited in the ledger: 2 (400 ₽); difference 0 ₽\n" +
        "  Refunds done: 1 (100 ₽); net refund debits in the ledger: 1 (100 ₽); difference 0 ₽\n" +
        "  Refunds under way: 0; outcome unknown: 0\n" +
        "  Every payment and refund matches the ledger.",
    );
    expect(text).toContain("Revenue: stars 150 ₽, yookassa 400 ₽");
  });

  it("names a paid payment never credited, a credit with no payment, a done refund with no debit and a stray debit", async () => {
    const text = await statsOf([
      ...consistent,
      [["payment", "stars", "charge-2"], payment("stars", 704, 5_000)],
      [["ledger", 705, "stars:charge-ghost"], ledger("stars:charge-ghost", "credit", 2_500)],
      [["refund", "refund:stars:charge-1"], refund("stars", "charge-1", 701, 15_000, "done")],
      [["refund", "refund:yookassa:pay-2"], refund("yookassa", "pay-2", 702, 30_000, "failed")],
      [["ledger", 702, "refund:yookassa:pay-2"], ledger("refund:yookassa:pay-2", "refund", -30_000)],
      [["payment", "yookassa", "pay-3"], payment("yookassa", 706, 20_000)],
      [["ledger", 706, "yookassa:pay-3"], ledger("yookassa:pay-3", "credit", 20_000)],
      [["refund", "refund:yookassa:pay-3"], refund("yookassa", "pay-3", 706, 20_000, "unknown")],
      [["ledger", 706, "refund:yookassa:pay-3"], ledger("refund:yookassa:pay-3", "refund", -20_000)],
    ]);
    const [stars, yookassa] = text.split("\nYooKassa:\n");
    expect(stars).toContain(
      "Telegram Stars:\n  Paid: 2 (200 ₽); credited in the ledger: 2 (175 ₽); difference 25 ₽\n" +
        "  Refunds done: 1 (150 ₽); net refund debits in the ledger: 0 (0 ₽); difference 150 ₽\n" +
        "  Refunds under way: 0; outcome unknown: 0\n" +
        "  Paid, never credited (1): charge-2\n" +
        "  Credited without a paid payment record (1): charge-ghost\n" +
        "  Refunded, the ledger's debit missing or different (1): charge-1",
    );
    expect(stars).not.toContain("Every payment and refund matches");
    expect(yookassa).toBe(
      "  Paid: 3 (600 ₽); credited in the ledger: 3 (600 ₽); difference 0 ₽\n" +
        "  Refunds done: 1 (100 ₽); net refund debits in the ledger: 3 (600 ₽); difference −500 ₽\n" +
        "  Refunds under way: 0; outcome unknown: 1\n" +
        "  Debited for a refund that is not done or under way (1): pay-2",
    );
  });

  it("speaks the admin's language", async () => {
    const text = await statsOf(
      [
        [["payment", "stars", "charge-2"], payment("stars", 704, 5_050)],
        [["refund", "refund:stars:charge-2"], refund("stars", "charge-2", 704, 5_050, "refunding")],
      ],
      "ru",
    );
    expect(text).toContain("<b>Сверка журнала с платежами</b>");
    expect(text).toContain("Оплачено: 1 (50,50 ₽); зачислено по журналу: 0 (0 ₽); разница 50,50 ₽");
    expect(text).toContain("Оплачены, но не зачислены (1): charge-2");
    expect(text).toContain("Возвратов в работе: 1; с неизвестным исходом: 0");
  });

  it("cuts long lists to their first ids, escaped, and stays within Telegram's 4096 characters", async () => {
    // Stars charge ids run to 256 characters; these also carry what HTML must escape.
    const longId = (n: number) => `${String(n).padStart(3, "0")}<&>${"x".repeat(250)}`;
    const entries: (readonly [KvKey, unknown])[] = [];
    for (let n = 0; n < 40; n++) {
      for (const provider of ["stars", "yookassa"] as const) {
        entries.push([["payment", provider, `a${longId(n)}`], payment(provider, 800 + n, 100)]);
        entries.push([
          ["ledger", 800 + n, `${provider}:b${longId(n)}`],
          ledger(`${provider}:b${longId(n)}`, "credit", 100),
        ]);
        entries.push([
          ["refund", `refund:${provider}:c${longId(n)}`],
          refund(provider, `c${longId(n)}`, 800 + n, 100, "done"),
        ]);
        entries.push([
          ["ledger", 800 + n, `refund:${provider}:d${longId(n)}`],
          ledger(`refund:${provider}:d${longId(n)}`, "refund", -100),
        ]);
      }
    }
    const text = await statsOf(entries);
    expect(htmlLength(text)).toBeLessThanOrEqual(4096);
    expect(text).toContain(`Paid, never credited (40): a000&lt;&amp;&gt;${"x".repeat(32)}…, a001`);
    expect(text).toContain("Credited without a paid payment record (40): b000");
    expect(text).toContain("Refunded, the ledger's debit missing or different (40): c000");
    expect(text).toContain("Debited for a refund that is not done or under way (40): d000");
    expect(text).toContain(`a004&lt;&amp;&gt;${"x".repeat(32)}…, 35 more`);
    expect(text).not.toContain("a005");
  });
});
