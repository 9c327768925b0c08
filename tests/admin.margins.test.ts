/**
 * /stats shows the margins of today and of the last 7 days, per model and
 * in total: generations, revenue net of refunds, KIE's cost in credits and
 * rubles, and the margin. Generations are made end to end (paid, free,
 * failed, canceled, and one whose result no one could deliver, refunded),
 * and the reply stays within Telegram's 4096 characters with 150 models.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatRub } from "../src/bot/money.ts";
import { costDayOf, type JobCost } from "../src/jobs/cost.ts";
import { jobCostKey } from "../src/jobs/keys.ts";
import type { KvKey } from "../src/platform/mod.ts";
import { platform } from "../src/platform/mod.ts";
import { htmlLength } from "../src/telegram/text.ts";
import { type BotCall, startBot, userOf } from "./helpers/bot-harness.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { type FakeOutcome, type FakeTask, successFor } from "./helpers/fake-kie.ts";
import {
  FAST_JOBS,
  jobServer,
  orderFor,
  priceOf,
  seedUser,
  until,
  userRecords,
  walletWith,
} from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
/** Users whose results Telegram refuses (a chat it does not know): their results are undeliverable. */
const unreachable = new Set<number>();
const outcome = (task: FakeTask): FakeOutcome => {
  const body = JSON.stringify(task.body);
  if (body.includes("please fail")) return { state: "fail", code: "500", message: "internal error" };
  if (body.includes("take your time")) return { state: "pending" };
  return task.reads < 1 ? { state: "pending" } : successFor(task);
};
const { server } = jobServer(calls, {
  outcome,
  bot: {
    refuse: (call) =>
      unreachable.has(Number(call.body.chat_id)) && call.method === "sendPhoto"
        ? "Bad Request: chat not found"
        : undefined,
  },
});
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

/** A zone whose local time is about noon now: "today" is the same day for every job of a test. */
function noonZone(): string {
  const offset = 12 - new Date().getUTCHours();
  return offset >= 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

const RATE = 78.57;
const DAY = 86_400_000;
const credits = (n: number, lang: "en" | "ru") =>
  new Intl.NumberFormat(lang === "ru" ? "ru-RU" : "en-US", { maximumFractionDigits: 2 }).format(n);
const percent = (margin: number, revenue: number, lang: "en" | "ru") => {
  if (revenue === 0) return "—";
  const share = new Intl.NumberFormat(lang === "ru" ? "ru-RU" : "en-US", { maximumFractionDigits: 1 }).format(
    Math.abs((margin / revenue) * 100),
  );
  return `${margin < 0 && share !== "0" ? "−" : ""}${share}%`;
};

/** A margin line's numbers as /stats prints them: "… revenue, credits cr = cost, margin (percent)". */
function money(revenue: number, credit: number, lang: "en" | "ru") {
  const cost = Math.round(credit * RATE);
  return {
    revenue: formatRub(revenue, lang),
    credits: credits(credit, lang),
    cost: formatRub(cost, lang),
    margin: formatRub(revenue - cost, lang),
    percent: percent(revenue - cost, revenue, lang),
  };
}

/** The job cost record of a job finished earlier (as the user's actor writes it). */
const costRecord = (cost: Partial<JobCost> & Pick<JobCost, "modelId" | "createdAt">): JobCost => ({
  outcome: "succeeded",
  free: false,
  charged: 0,
  refunded: 0,
  kie: "billed",
  ...cost,
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

describe("/stats margins", () => {
  const defer = useCleanups();
  afterEach(() => {
    server.resetHandlers();
    calls.length = 0;
    unreachable.clear();
  });

  async function bot(seeded: readonly (readonly [KvKey, unknown])[] = []) {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    for (const userId of [801, 803, 804, 805]) await seedUser(kvPath, userId, { wallet: walletWith(1_000_000) });
    await seed(kvPath, seeded);
    const started = await startBot(
      kvPath,
      calls,
      { ...FAST_JOBS, ADMIN_IDS: "500,501", TIMEZONE: noonZone(), KIE_BALANCE_ALERT_DAYS: "0" },
      "real",
    );
    defer(() => started.app.stop().then(() => undefined));
    return started;
  }

  /** Orders `modelId` for `userId` and waits until the job is finished and delivered. */
  async function generate(
    started: Awaited<ReturnType<typeof bot>>,
    userId: number,
    modelId: string,
    values: Record<string, string | number | boolean>,
  ) {
    const before = (await userRecords(started.app.kv, userId)).history.length;
    const button = await orderFor(started, userId, modelId, values);
    await started.send(userOf(userId, "en").press(button), 2);
    await until(async () => {
      const records = await userRecords(started.app.kv, userId);
      return records.history.length > before && records.open.length === 0;
    });
  }

  async function statsOf(started: Awaited<ReturnType<typeof bot>>, admin: number, lang: "en" | "ru") {
    const made = await started.send(userOf(admin, lang).text("/stats"));
    const text = made.filter((call) => call.method === "sendMessage").at(-1)?.body.text;
    return String(text);
  }

  /** KIE's cost of an order, in credits, as the catalog quotes it. */
  async function creditsOf(started: Awaited<ReturnType<typeof bot>>, modelId: string, params: object) {
    const quote = await started.app.supervisor.ask<{ ok: boolean; quote: { credits: number } }>("catalog", "main", {
      type: "quote",
      modelId,
      params,
    });
    if (!quote.ok || !quote.value.ok) throw new Error(`no quote for ${modelId}`);
    return quote.value.quote.credits;
  }

  it("counts paid, free, failed, canceled and refunded generations per model and in total, in both languages", async () => {
    const paid = { prompt: "a red fox" };
    const free = { prompt: "a fox", aspect_ratio: "1:1" };
    const kontext = { prompt: "a fox in the snow" };
    // A generation three days ago: in the last 7 days, not today.
    const threeDaysAgo = Date.now() - 3 * DAY;
    const earlier = costRecord({
      modelId: "qwen/text-to-image",
      createdAt: threeDaysAgo,
      charged: 9_000,
      credits: 40,
    });
    const started = await bot([[jobCostKey(costDayOf(threeDaysAgo), 801, "old-job"), earlier]]);
    const price = await priceOf(started, "qwen/text-to-image", paid);
    const paidCredits = await creditsOf(started, "qwen/text-to-image", paid);
    const freeCredits = await creditsOf(started, "z-image", free);
    const kontextCredits = await creditsOf(started, "flux/kontext", kontext);
    expect(paidCredits).toBeGreaterThan(0);
    expect(freeCredits).toBeGreaterThan(0);

    await generate(started, 801, "qwen/text-to-image", paid);
    await generate(started, 801, "qwen/text-to-image", paid);
    // Free: no revenue, its cost all the same.
    await generate(started, 802, "z-image", free);
    // Failed at KIE: nothing.
    await generate(started, 803, "qwen/text-to-image", { prompt: "please fail" });
    // Its result reached no one: the money went back, KIE's cost stays.
    unreachable.add(804);
    await generate(started, 804, "flux/kontext", kontext);
    // Canceled while KIE worked on it: counted apart.
    const button = await orderFor(started, 805, "flux/kontext", { prompt: "take your time" });
    await started.send(userOf(805, "en").press(button), 2);
    await until(() => calls.some((call) => call.body.chat_id === 805 && String(call.body.text).includes("Generating")));
    await started.send(userOf(805, "en").press(button.replace("|y|", "|k|")), 2);
    await until(async () => (await userRecords(started.app.kv, 805)).open.length === 0);

    const refunded = await userRecords(started.app.kv, 804);
    expect(refunded.ledger.map((entry) => entry.entry.key)).toContainEqual(expect.stringMatching(/^undeliverable:/));
    expect(refunded.state.wallet.balance).toBe(1_000_000);
    expect((await userRecords(started.app.kv, 803)).state.wallet.balance).toBe(1_000_000);

    for (const lang of ["en", "ru"] as const) {
      const text = await statsOf(started, lang === "en" ? 500 : 501, lang);
      expect(htmlLength(text)).toBeLessThanOrEqual(4096);
      const [, today = "", week = ""] = text.split(lang === "en" ? /<b>Margin[^<]*<\/b>\n/ : /<b>Маржа[^<]*<\/b>\n/);
      const todayCredits = 2 * paidCredits + freeCredits + kontextCredits;
      const total = money(2 * price, todayCredits, lang);
      const qwen = money(2 * price, 2 * paidCredits, lang);
      const zImage = money(0, freeCredits, lang);
      const flux = money(0, kontextCredits, lang);
      const weekTotal = money(2 * price + 9_000, todayCredits + 40, lang);
      const weekQwen = money(2 * price + 9_000, 2 * paidCredits + 40, lang);
      if (lang === "en") {
        expect(text).toContain("<b>Margin today</b>\n");
        expect(today).toBe(
          [
            `Total: 4 generations, revenue ${total.revenue}, KIE ${total.credits} cr = ${total.cost}, margin ${total.margin} (${total.percent})`,
            `  qwen/text-to-image: 2 gen., ${qwen.revenue}, ${qwen.credits} cr = ${qwen.cost}, margin ${qwen.margin} (${qwen.percent})`,
            ...[
              [
                `  flux/kontext: 1 gen., ${flux.revenue}, ${flux.credits} cr = ${flux.cost}, margin ${flux.margin} (—)`,
                kontextCredits,
              ],
              [
                `  z-image: 1 gen., ${zImage.revenue}, ${zImage.credits} cr = ${zImage.cost}, margin ${zImage.margin} (—)`,
                freeCredits,
              ],
            ]
              .sort((a, b) => Number(b[1]) - Number(a[1]))
              .map(([line]) => String(line)),
            `Canceled or timed out once KIE had them (KIE may have charged; not above): 1, ${credits(kontextCredits, lang)} cr`,
            "",
            "",
          ].join("\n"),
        );
        expect(week).toContain(
          `Total: 5 generations, revenue ${weekTotal.revenue}, KIE ${weekTotal.credits} cr = ${weekTotal.cost}, margin ${weekTotal.margin} (${weekTotal.percent})\n` +
            `  qwen/text-to-image: 3 gen., ${weekQwen.revenue}, ${weekQwen.credits} cr = ${weekQwen.cost}, margin ${weekQwen.margin} (${weekQwen.percent})\n`,
        );
      } else {
        expect(text).toContain("<b>Маржа за сегодня</b>\n");
        expect(today).toContain(
          `Всего: генераций 4, выручка ${total.revenue}, KIE ${total.credits} кр. = ${total.cost}, маржа ${total.margin} (${total.percent})\n` +
            `  qwen/text-to-image: 2 ген., ${qwen.revenue}, ${qwen.credits} кр. = ${qwen.cost}, маржа ${qwen.margin} (${qwen.percent})\n`,
        );
        expect(today).toContain(
          `  z-image: 1 ген., 0 ₽, ${zImage.credits} кр. = ${zImage.cost}, маржа ${zImage.margin} (—)`,
        );
        expect(today).toContain(`  flux/kontext: 1 ген., 0 ₽, ${flux.credits} кр. = ${flux.cost}`);
        expect(today).toContain("Отменены или не дождались ответа");
        expect(week).toContain(`Всего: генераций 5, выручка ${weekTotal.revenue}, KIE ${weekTotal.credits} кр.`);
      }
      // The failed generation counts nowhere.
      expect(today).not.toContain(formatRub(3 * price, lang));
    }
  });

  it("lists the top models by revenue and how many more, within 4096 characters with 150 models and long mismatch lists", async () => {
    const now = Date.now();
    const entries: (readonly [KvKey, unknown])[] = [];
    const modelId = (n: number) => `vendor-${String(n).padStart(3, "0")}/${"very-long-model-name-".repeat(3)}<&>`;
    for (let n = 0; n < 150; n++) {
      for (let job = 0; job < 2; job++) {
        entries.push([
          jobCostKey(costDayOf(now), 900 + n, `j${n}-${job}`),
          costRecord({
            modelId: modelId(n),
            createdAt: now - job * 1_000,
            charged: 10_000 + n * 100,
            credits: 100 + n,
          }),
        ]);
      }
    }
    entries.push([
      jobCostKey(costDayOf(now), 899, "canceled"),
      costRecord({ modelId: modelId(1), createdAt: now, outcome: "canceled", kie: "unknown", credits: 7 }),
    ]);
    // The reconciliation's longest lists as well (tests/admin.reconciliation.test.ts).
    const longId = (n: number) => `${String(n).padStart(3, "0")}<&>${"x".repeat(250)}`;
    for (let n = 0; n < 40; n++) {
      for (const provider of ["stars", "yookassa"] as const) {
        entries.push([["payment", provider, `a${longId(n)}`], { provider, userId: 800, kopecks: 100, status: "paid" }]);
        entries.push([
          ["ledger", 800 + n, `${provider}:b${longId(n)}`],
          { entry: { type: "credit", key: `${provider}:b${longId(n)}` }, at: now, amount: 100 },
        ]);
      }
    }
    const started = await bot(entries);
    for (const lang of ["en", "ru"] as const) {
      const text = await statsOf(started, lang === "en" ? 500 : 501, lang);
      expect(htmlLength(text)).toBeLessThanOrEqual(4096);
      const sum = Array.from({ length: 150 }, (_, n) => 2 * (10_000 + n * 100)).reduce((a, b) => a + b, 0);
      const totalCredits = Array.from({ length: 150 }, (_, n) => 2 * (100 + n)).reduce((a, b) => a + b, 0);
      const total = money(sum, totalCredits, lang);
      expect(text).toContain(
        lang === "en" ? `Total: 300 generations, revenue ${total.revenue}` : "Всего: генераций 300",
      );
      // The highest revenue first, escaped and cut; the rest counted.
      const first = text.indexOf("vendor-149/");
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(text.indexOf("vendor-148/"));
      expect(text).not.toContain("<&>");
      expect(text).not.toContain("vendor-100/");
      expect(text).toMatch(lang === "en" ? /\n {2}… 14\d more\n/ : /\n {2}… ещё 14\d\n/);
      expect(text).toContain(lang === "en" ? "KIE may have charged; not above): 1, 7 cr" : "выше не учтены): 1, 7 кр.");
      expect(text).toContain(lang === "en" ? "Paid, never credited (40)" : "Оплачены, но не зачислены (40)");
    }
  });
});
