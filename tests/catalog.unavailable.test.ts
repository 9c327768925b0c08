/**
 * A model KIE no longer carries is out of every menu, but what users made
 * with it stays: its history entries still list and open.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HistoryEntry } from "../src/jobs/history.ts";
import { historyKey } from "../src/jobs/keys.ts";
import { platform } from "../src/platform/mod.ts";
import { type BotCall, screenOf, startBot, userOf } from "./helpers/bot-harness.ts";
import { loadCatalog } from "./helpers/catalog.ts";
import { useCleanups } from "./helpers/cleanups.ts";
import { jobServer, seedUser, walletWith } from "./helpers/job-harness.ts";
import { tempDir } from "./helpers/runtime.ts";

const calls: BotCall[] = [];
const { server } = jobServer(calls);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

const GONE = "sora-2-text-to-video";
const PROMPT = "Лиса в снегу 🦊 — שלום";

describe("a model KIE no longer carries", () => {
  const defer = useCleanups();
  afterEach(() => {
    calls.length = 0;
  });

  it("is hidden with its reason", async () => {
    const catalog = await loadCatalog();
    const indexed = catalog.models.get(GONE);
    expect(indexed?.visible).toBe(false);
    expect(catalog.hidden.find((hidden) => hidden.id === GONE)?.reason).toMatch(/no longer carry Sora 2/);
    for (const models of catalog.bySection.values()) expect(models.map((m) => m.model.id)).not.toContain(GONE);
  });

  it("keeps its history entries: the list shows them and an entry opens with its prompt and price", async () => {
    const dir = tempDir();
    defer(() => dir.remove());
    const kvPath = `${dir.path}/kv`;
    const userId = 9_101;
    await seedUser(kvPath, userId, { wallet: walletWith(10_000), historySeq: 1 });
    const entry = HistoryEntry.parse({
      seq: 0,
      jobId: "job-sora-1",
      modelId: GONE,
      output: "video",
      params: { prompt: PROMPT, aspect_ratio: "landscape", n_frames: "10" },
      media: {},
      state: "succeeded",
      chargedKopecks: 1_964,
      free: false,
      createdAt: Date.UTC(2026, 8, 1, 10, 0),
      finishedAt: Date.UTC(2026, 8, 1, 10, 3),
      urls: ["https://tempfile.aiquickdraw.com/v/sora-fox.mp4"],
    });
    const kv = await platform.openKv({ kind: "file", path: kvPath });
    await kv.atomic().set(historyKey(userId, 0), entry).commit();
    kv.close();

    const { app, send } = await startBot(kvPath, calls);
    defer(() => app.stop().then(() => undefined));
    const user = userOf(userId, "en");
    const list = screenOf(await send(user.text("/history")));
    const button = list.buttons.find((candidate) => candidate.text.startsWith("✅"));
    // Named as it was offered, though no one can pick it now.
    expect(button?.text).toContain("Sora 2 · text → video");

    const opened = screenOf(await send(user.press(button?.callback_data ?? ""), 1));
    expect(opened.text).toContain("Sora 2 · text → video");
    expect(opened.text).toContain("Лиса в снегу 🦊 — שלום");
    expect(opened.text).toMatch(/19[,.]64/);
    expect(opened.buttons.map((candidate) => candidate.text)).toEqual(expect.arrayContaining(["👁 Show result"]));
  });
});
