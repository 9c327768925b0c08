import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Supervisor } from "../actors/mod.ts";
import type { CatalogSource } from "../catalog/actor.ts";
import type { ModelCard, ModelPage, SectionSummary } from "../catalog/queries.ts";
import { platform } from "../src/platform/mod.ts";
import { readFiles } from "./helpers/catalog.ts";
import { silentLog } from "./helpers/runtime.ts";

describe.each(["in-thread", "workers"] as const)("catalog actor (%s)", (mode) => {
  let supervisor: Supervisor;
  let files: CatalogSource[];
  let kvClose: () => void;
  beforeAll(async () => {
    files = await readFiles();
    const kv = await platform.openKv({ kind: "memory" });
    kvClose = () => kv.close();
    supervisor = new Supervisor({
      mode,
      platform,
      kv,
      groups: [
        {
          name: "catalog",
          kinds: ["catalog"],
          size: 1,
          module: new URL("../catalog/app.ts", import.meta.url),
          appData: { files },
        },
      ],
      log: silentLog,
      logging: { level: "silent", secrets: [] },
    });
    await supervisor.start();
  });
  afterAll(async () => {
    await supervisor.stop(5_000);
    kvClose();
  });

  const ask = async <T>(query: unknown): Promise<T> => {
    const reply = await supervisor.ask<T>("catalog", "main", query);
    if (!reply.ok) throw new Error(reply.error.message);
    return reply.value;
  };

  it("answers sections, a page of models, a card, a quote and a KIE request", async () => {
    const sections = await ask<SectionSummary[]>({ type: "sections", lang: "ru" });
    expect(sections[0]).toMatchObject({ id: "free", title: "Бесплатно" });
    const images = sections.find((section) => section.id === "images");
    const page = await ask<ModelPage>({
      type: "models",
      section: "images",
      page: 0,
      pageSize: 8,
      lang: "en",
      now: Date.now(),
    });
    expect(page.total).toBe(images?.count);
    expect(page.items.length).toBeLessThanOrEqual(8);
    // In data order: the file lists its best or newest first.
    const file = JSON.parse(readFileSync(new URL("../catalog/data/images.json", import.meta.url), "utf8")) as {
      models: { id: string; available: boolean }[];
    };
    const listed = file.models.filter((model) => model.available).map((model) => model.id);
    expect(page.items.map((item) => item.id)).toEqual(listed.slice(0, page.items.length));
    const removal = await ask<ModelPage>({
      type: "models",
      section: "edit",
      page: 0,
      pageSize: 50,
      lang: "en",
      now: Date.now(),
      generationType: "background-removal",
    });
    expect(removal.items.map((item) => item.id)).toEqual(["recraft/remove-background"]);
    const card = await ask<ModelCard>({ type: "card", modelId: "z-image", lang: "ru" });
    // Free only: the card shows no price.
    expect(card).toMatchObject({ id: "z-image", output: "image", free: true, freeOnly: true, fromKopecks: 0 });
    expect(await ask({ type: "quote", modelId: "z-image", params: { prompt: "fox", aspect_ratio: "16:9" } })).toEqual({
      ok: true,
      quote: { modelId: "z-image", kopecks: 63, credits: 0.8, free: true, sku: { aspect_ratio: "16:9" } },
    });
    expect(
      await ask({ type: "kieRequest", modelId: "z-image", params: { prompt: "fox", aspect_ratio: "16:9" } }),
    ).toEqual({
      ok: true,
      request: {
        family: "market",
        method: "POST",
        path: "/api/v1/jobs/createTask",
        body: { model: "z-image", input: { prompt: "fox", aspect_ratio: "16:9" } },
      },
    });
    expect(await ask({ type: "card", modelId: "no/such-model", lang: "ru" })).toEqual({
      ok: false,
      error: { code: "unknown_model", modelId: "no/such-model" },
    });
  });

  it("rejects an invalid new catalog and keeps serving the old one; accepts a valid one", async () => {
    const broken = files.map((file) =>
      file.name.endsWith("images.json")
        ? { ...file, text: file.text.replace('"kind": "prompt"', '"kind": "poem"') }
        : file,
    );
    const rejected = await ask<{ ok: boolean; problems: { file: string }[] }>({ type: "replace", files: broken });
    expect(rejected.ok).toBe(false);
    expect(rejected.problems[0]?.file).toBe("images.json");
    expect(await ask({ type: "card", modelId: "z-image", lang: "en" })).toMatchObject({ id: "z-image" });

    const fewer = files.map((file) =>
      file.name.endsWith("images.json") ? { ...file, text: JSON.stringify({ section: "images", models: [] }) } : file,
    );
    const accepted = await ask<{ ok: boolean; models: number }>({ type: "replace", files: fewer });
    expect(accepted.ok).toBe(true);
    expect(await ask({ type: "card", modelId: "z-image", lang: "en" })).toMatchObject({ ok: false });
    await ask({ type: "replace", files });
  });
});
