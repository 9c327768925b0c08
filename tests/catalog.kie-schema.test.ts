import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkKieCreate, KIE_MARKET_PATH, loadKieFacts } from "../catalog/kie-schema.ts";
import { factsOf } from "../tools/kie-facts.ts";

const SNAPSHOT = new URL("../catalog/kie-facts/snapshots/endpoints-2026-08.json", import.meta.url);
const COMMITTED = new URL("../catalog/kie-facts/endpoints.json", import.meta.url);

const nanoBananaPro = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model: "nano-banana-pro",
  input,
  callBackUrl: "https://bot.example/kie/callback/1",
  ...extra,
});

describe("KIE facts", () => {
  it("keeps the snapshot's source and date and one entry per create path and Market model", () => {
    const { facts, market, dedicated } = loadKieFacts();
    expect(facts.source).toContain("docs.kie.ai");
    expect(facts.crawledAt).toBe("2026-08-19T12:27:50.246Z");
    expect(facts.snapshot).toBe("endpoints-2026-08.json");
    expect(market.size + dedicated.size).toBe(facts.endpoints.length);
    expect(market.has("kling/ai-avatar-pro")).toBe(true);
    expect(dedicated.has("/api/v1/veo/generate")).toBe(true);
    // GET endpoints, uploads and chat APIs are not create endpoints.
    expect(dedicated.has("/api/v1/jobs/recordInfo")).toBe(false);
    expect([...dedicated.keys()].some((path) => path.includes("upload") && !path.includes("/generate"))).toBe(false);
  });

  it("merges a model listed on several pages by the page named after it, and fixes copied model strings", () => {
    const { market, facts } = loadKieFacts();
    // Two pages list happyhorse-1-1/reference-to-video; only the one named after the model states the 20 MB limit.
    const reference = market.get("happyhorse-1-1/reference-to-video");
    expect(reference?.fields.find((field) => field.name === "reference_image")?.maxFileMb).toBe(20);
    expect(reference?.docUrls).toHaveLength(2);
    // The Kling 2.5 turbo image-to-video page lists the 2.1 master model string.
    expect(market.get("kling/v2-1-master-image-to-video")?.fields.find((f) => f.name === "prompt")?.maxLength).toBe(
      5000,
    );
    expect(market.get("kling/v2-5-turbo-image-to-video-pro")?.fields.find((f) => f.name === "prompt")?.maxLength).toBe(
      2500,
    );
    expect(market.get("qwen2/text-to-image")?.fields.some((f) => f.name === "image_url")).toBe(false);
    expect(facts.modelStringFixes.map((fix) => fix.model)).toEqual([
      "kling/v2-5-turbo-image-to-video-pro",
      "qwen2/text-to-image",
    ]);
  });

  it("is what the script writes from the snapshot (a newer snapshot replaces it the same way)", () => {
    const committed = JSON.parse(readFileSync(COMMITTED, "utf8"));
    const snapshot = JSON.parse(readFileSync(SNAPSHOT, "utf8"));
    expect(factsOf(snapshot, "endpoints-2026-08.json")).toEqual(committed);
  });

  it("the script refuses a snapshot whose pages disagree about a model with no page named after it", () => {
    const page = (docUrl: string, maxLength: number) => ({
      method: "POST",
      path: KIE_MARKET_PATH,
      docUrl,
      model: ["acme/one"],
      input: [{ name: "prompt", type: "string", required: true, maxLength }],
      topLevel: [],
    });
    const snapshot = {
      source: "test",
      crawledAt: "2026-08-19T12:27:50.246Z",
      endpoints: [page("https://docs.kie.ai/a.md", 100), page("https://docs.kie.ai/b.md", 200)],
    };
    expect(() => factsOf(snapshot, "test.json")).toThrow(/acme\/one: 2 pages disagree/);
    expect(() => execFileSync("node", ["--import", "tsx", "tools/kie-facts.ts"], { stdio: "pipe" })).toThrow();
  });
});

describe("checkKieCreate", () => {
  it("accepts a documented Market request with Cyrillic, emoji and RTL text at the limit", () => {
    const prompt = `Кот 🐈‍⬛ שלום ${"é".repeat(10_000)}`.slice(0, 10_000);
    expect([...prompt].length).toBeLessThanOrEqual(10_000);
    const check = checkKieCreate(
      KIE_MARKET_PATH,
      nanoBananaPro({ prompt, image_input: ["https://files.example/a.png"], aspect_ratio: "auto", resolution: "2K" }),
    );
    expect(check).toEqual({ ok: true });
  });

  it("answers an unknown model with 422 naming it", () => {
    const check = checkKieCreate(KIE_MARKET_PATH, { model: "kling/ai-avatar-v1-pro", input: { prompt: "hi" } });
    expect(check).toMatchObject({ ok: false, status: 422, code: 422 });
    expect(!check.ok && check.msg).toContain('model "kling/ai-avatar-v1-pro" is not supported');
  });

  it("answers a path that creates nothing with 404", () => {
    expect(checkKieCreate("/api/v1/jobs/recordInfo", {})).toMatchObject({ ok: false, status: 404, code: 404 });
    expect(checkKieCreate("/api/v1/mj/generate", { prompt: "x" })).toMatchObject({ ok: false, code: 404 });
  });

  it("lists every violation: unknown fields, types, enums, lengths, items, ranges, required", () => {
    const check = checkKieCreate(
      KIE_MARKET_PATH,
      nanoBananaPro(
        {
          prompt: "к".repeat(10_001),
          image_input: Array.from({ length: 9 }, (_, i) => `https://files.example/${i}.png`),
          aspect_ratio: "7:3",
          resolution: 2,
          seed: 1,
        },
        { webhook: "https://x.example" },
      ),
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.code).toBe(422);
    expect(check.violations).toEqual([
      "webhook is not a documented field",
      "input.prompt is longer than 10000 characters (10001)",
      "input.image_input has more than 8 items (9)",
      'input.aspect_ratio must be one of "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "auto", got the string "7:3"',
      "input.resolution must be a string, got number 2",
      "input.seed is not a documented field",
    ]);
    expect(check.msg).toContain("input.prompt is longer than 10000 characters");
    const missing = checkKieCreate(KIE_MARKET_PATH, nanoBananaPro({ aspect_ratio: "1:1" }));
    expect(!missing.ok && missing.violations).toEqual(["input.prompt is required"]);
    expect(checkKieCreate(KIE_MARKET_PATH, { model: "nano-banana-pro" })).toMatchObject({
      ok: false,
      violations: ["input is required"],
    });
  });

  it("tells a number from a numeric string and checks ranges, prose ranges and integer types", () => {
    const seedance = (duration: unknown) =>
      checkKieCreate(KIE_MARKET_PATH, {
        model: "bytedance/seedance-1.5-pro",
        input: { prompt: "a cat", aspect_ratio: "16:9", duration },
      });
    expect(seedance(8)).toEqual({ ok: true });
    expect(seedance("8")).toMatchObject({ violations: ['input.duration must be a number, got the string "8"'] });
    expect(seedance(13)).toMatchObject({ violations: ["input.duration is above 12 (13)"] });
    expect(seedance(3.5)).toMatchObject({ violations: ["input.duration is below 4 (3.5)"] });
    const veo = (duration: unknown) =>
      checkKieCreate("/api/v1/veo/generate", { prompt: "a cat", model: "veo3_fast", duration });
    expect(veo(8)).toEqual({ ok: true });
    expect(veo(8.5)).toMatchObject({ violations: ["duration must be an integer, got number 8.5"] });
    expect(veo(5)).toMatchObject({ violations: ["duration must be one of 4, 6, 8, got number 5"] });
  });

  it("requires callBackUrl where KIE documents it (Suno, Runway) and takes it on every Market model", () => {
    const suno = { prompt: "песня о море 🌊", customMode: false, instrumental: false, model: "V5" };
    expect(checkKieCreate("/api/v1/generate", suno)).toMatchObject({ violations: ["callBackUrl is required"] });
    expect(checkKieCreate("/api/v1/generate", { ...suno, callBackUrl: "https://bot.example/cb" })).toEqual({
      ok: true,
    });
    const runway = { prompt: "a cat", duration: 5, quality: "720p", aspectRatio: "16:9" };
    expect(checkKieCreate("/api/v1/runway/generate", runway)).toMatchObject({
      violations: ["callBackUrl is required"],
    });
    // A Playground page documents no top-level fields; the Market quickstart still takes callBackUrl.
    const happyhorse = {
      model: "happyhorse-1-1/text-to-video",
      input: { prompt: "a horse" },
      callBackUrl: "https://bot.example/cb",
    };
    expect(checkKieCreate(KIE_MARKET_PATH, happyhorse)).toEqual({ ok: true });
    expect(checkKieCreate(KIE_MARKET_PATH, { ...happyhorse, callBackUrl: 7 })).toMatchObject({
      violations: ["callBackUrl must be a string, got number 7"],
    });
  });

  it("checks array item types and refuses a body that is not an object", () => {
    const check = checkKieCreate(KIE_MARKET_PATH, nanoBananaPro({ prompt: "x", image_input: ["https://a", 5] }));
    expect(!check.ok && check.violations).toEqual(["input.image_input[1] must be a string, got number 5"]);
    expect(checkKieCreate(KIE_MARKET_PATH, [])).toMatchObject({ code: 422 });
    expect(checkKieCreate(KIE_MARKET_PATH, { model: "nano-banana-pro", input: "x" })).toMatchObject({
      violations: ["input must be an object"],
    });
  });
});
