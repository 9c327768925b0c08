/**
 * The actor runtime under Deno: Web Workers, Deno.openKv, the same code as
 * on Node. Run by `.ci/run` with `npx deno test -A tests/deno/`.
 */
import { Supervisor, workerIndexFor } from "../../actors/mod.ts";
import { startApp } from "../../src/app.ts";
import { createLogger } from "../../src/log.ts";
import { platform } from "../../src/platform/mod.ts";
import { testConfig, textUpdate } from "../helpers/app.ts";
import { startFakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeKieServer } from "../helpers/fake-kie-server.ts";

declare const Deno: {
  test(name: string, fn: () => Promise<void>): void;
  makeTempDir(): Promise<string>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
};

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const log = createLogger({ level: "silent", secrets: [] });
const counterModule = new URL("../fixtures/counter-app.ts", import.meta.url);

Deno.test("runtime on Deno workers: order, durability after a killed worker, reactivation", async () => {
  if (platform.name !== "deno") throw new Error(`expected the Deno platform, got ${platform.name}`);
  const dir = await Deno.makeTempDir();
  const kv = await platform.openKv({ kind: "file", path: `${dir}/kv` });
  const supervisor = new Supervisor({
    mode: "workers",
    platform,
    kv,
    groups: [{ name: "counters", kinds: ["counter"], size: 2, module: counterModule }],
    log,
    logging: { level: "silent", secrets: [] },
    limits: { mailboxBound: 1_000, restartMinMs: 20, idleMs: 50 },
  });
  try {
    await supervisor.start();
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) => supervisor.ask("counter", "one", { type: "inc", op: `op${i}` })),
    );
    assertEquals(replies.filter((reply) => reply.ok).length, 300, "acknowledged increments");
    const stored = await kv.get<{ count: number; applied: string[] }>(["counter", "one"]);
    assertEquals(stored.value?.count, 300, "count in KV");
    assertEquals(stored.value?.applied.slice(0, 3), ["op0", "op1", "op2"], "arrival order");

    const victim = ["a", "b", "c", "d"].find((id) => workerIndexFor(id, 2) === workerIndexFor("one", 2)) ?? "one";
    const pending = Array.from({ length: 50 }, (_, i) =>
      supervisor.ask("counter", victim, { type: "inc", op: `v${i}` }),
    );
    await supervisor.killWorker("counters", workerIndexFor(victim, 2));
    const settled = await Promise.all(pending);
    const acknowledged = settled.filter((reply) => reply.ok).length;
    const after = await kv.get<{ count: number }>(["counter", victim]);
    assertEquals(after.value?.count ?? 0, acknowledged, "acknowledged increments after a killed worker");

    // Passivated after 50 ms idle, reactivated from KV.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await supervisor.ask("counter", "one", { type: "get" });
    assertEquals(again.ok && (again.value as { count: number }).count, 300, "state after reactivation");
  } finally {
    await supervisor.stop(5_000);
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bot answers /start over long polling on Deno", async () => {
  const fake = await startFakeBotApi();
  const dir = await Deno.makeTempDir();
  const app = await startApp({
    config: testConfig(`${dir}/kv`, { TELEGRAM_API_ROOT: fake.apiRoot }),
    platform,
    log,
    mode: "workers",
  });
  try {
    await app.startPolling();
    fake.push(textUpdate(77, "/start", { first_name: "Deno" }));
    const sent = () => fake.calls.filter((call) => call.method === "sendMessage");
    for (let i = 0; i < 100 && sent().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assertEquals(sent().length, 1, "messages sent");
    assertEquals(String(sent()[0]?.payload.text).startsWith("Привет, Deno!"), true, "greeting");
  } finally {
    await app.stop();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a generation completes on Deno: KV queue polls, KIE task, result delivered once", async () => {
  const fake = await startFakeBotApi();
  const kie = await startFakeKieServer({ apiKey: "kie-test-key-123", generationMs: 300 });
  const dir = await Deno.makeTempDir();
  const app = await startApp({
    config: testConfig(`${dir}/kv`, {
      TELEGRAM_API_ROOT: fake.apiRoot,
      KIE_API_BASE_URL: kie.baseUrl,
      JOB_POLL_FIRST_SECONDS: "0.1",
    }),
    platform,
    log,
    mode: "workers",
  });
  try {
    await app.startPolling();
    // Open a free order at its confirmation the way Repeat does, then press Generate.
    const plan = await app.supervisor.ask("catalog", "main", { type: "plan", modelId: "z-image" });
    assertEquals(plan.ok, true, "plan");
    const prefill = { values: { prompt: "a fox", aspect_ratio: "1:1" }, media: {}, at: "confirm" };
    const target = { chatId: 78 };
    const opened = await app.supervisor.ask("user", 78, {
      type: "plan",
      wizardId: "deno1",
      modelId: "z-image",
      page: 0,
      plan: plan.ok ? plan.value : undefined,
      target,
      prefill,
    });
    assertEquals(opened.ok, true, "order opened");
    const from = { id: 78, is_bot: false, first_name: "Deno", language_code: "en" };
    fake.push({
      update_id: 9_001,
      callback_query: {
        id: "deno-press",
        from,
        chat_instance: "ci",
        data: "1|y|deno1",
        message: { message_id: 1, date: 0, chat: { id: 78, type: "private" }, text: "…" },
      },
    });
    const photos = () => fake.calls.filter((call) => call.method === "sendPhoto");
    for (let i = 0; i < 200 && photos().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertEquals(photos().length, 1, "results sent");
    assertEquals(kie.counts.creates, 1, "KIE tasks");
    const open = [];
    for await (const entry of app.kv.list({ prefix: ["open_job", 78] })) open.push(entry);
    assertEquals(open.length, 0, "open jobs left");
  } finally {
    await app.stop();
    await fake.close();
    await kie.close();
    await Deno.remove(dir, { recursive: true });
  }
});
