/**
 * The fakes of KIE are as strict as KIE: both refuse what KIE's docs
 * refuse (and record it), answer each family in its own shape, and return
 * large results on demand (a 40,000-character text, 2,000 URLs, a file
 * larger than RESULT_MAX_MB streamed chunk by chunk, a slow drip).
 */
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UNREACHABLE_KIE_CALLBACK_URL } from "../src/config.ts";
import { KieClient } from "../src/kie/client.ts";
import { KieError } from "../src/kie/errors.ts";
import {
  dropResponseClones,
  type FakeTask,
  fakeKie,
  KIE_BASE,
  KIE_UPLOAD_BASE,
  successFor,
} from "./helpers/fake-kie.ts";
import {
  defaultSuccess,
  largeResult,
  longResultText,
  manyResultUrls,
  resultFileOf,
  resultFileUrl,
} from "./helpers/fake-kie-core.ts";
import { startFakeKieServer } from "./helpers/fake-kie-server.ts";

const KEY = "kie-test-key-123";
const CALLBACK = UNREACHABLE_KIE_CALLBACK_URL;
const MiB = 1024 * 1024;

const client = (baseUrl: string, uploadBaseUrl = baseUrl) =>
  new KieClient({
    apiKey: KEY,
    baseUrl,
    uploadBaseUrl,
    fetch: (input, init) => fetch(input, init),
    now: () => 0,
    sleep: async () => undefined,
    maxAttempts: 1,
  });

async function failure(promise: Promise<unknown>): Promise<KieError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KieError) return error;
    throw error;
  }
  throw new Error("expected a KieError");
}

const market = (model: string, input: Record<string, unknown>) =>
  ({
    family: "market",
    method: "POST",
    path: "/api/v1/jobs/createTask",
    body: { model, input, callBackUrl: CALLBACK },
  }) as const;

/** Reads `limit` bytes of a body (or all of it) and cancels the rest; returns the bytes and chunk sizes read. */
async function readSome(response: Response, limit = Number.POSITIVE_INFINITY) {
  const reader = response.body?.getReader();
  const chunks: number[] = [];
  let total = 0;
  while (reader !== undefined && total < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.byteLength);
    total += value.byteLength;
  }
  await reader?.cancel();
  return { total, chunks };
}

describe("large results on demand", () => {
  it("a long text is exactly the asked number of code points, with Cyrillic, emoji, RTL and combining marks", () => {
    const text = longResultText(40_000);
    expect([...text]).toHaveLength(40_000);
    expect(text.length).toBeGreaterThan(40_000);
    expect(text).toMatch(/[а-яё]/i);
    expect(text).toContain("🦊");
    expect(text).toContain("שלום");
    expect(text).toContain("\u0308");
  });

  it("result URLs are distinct and on KIE's tempfile host", () => {
    const urls = manyResultUrls("task_1", 2_000);
    expect(new Set(urls).size).toBe(2_000);
    for (const url of urls) expect(new URL(url).hostname).toBe("tempfile.aiquickdraw.com");
  });

  it("each large result kind is what its name says", () => {
    const text = largeResult("long_text", "t1");
    expect(text.state === "success" ? [...(text.text ?? "")].length : 0).toBe(40_000);
    const urls = largeResult("many_urls", "t1");
    expect(urls.state === "success" ? urls.urls : []).toHaveLength(2_000);
    const big = largeResult("big_file", "t1");
    expect(resultFileOf(big.state === "success" ? (big.urls?.[0] ?? "") : "")?.bytes).toBeGreaterThan(50 * MiB);
    const drip = largeResult("slow_drip", "t1");
    expect(resultFileOf(drip.state === "success" ? (drip.urls?.[0] ?? "") : "")).toMatchObject({
      chunkBytes: 1024,
      dripMs: 200,
    });
  });

  it("a result file URL names its size, chunking, drip and declared length", () => {
    const url = resultFileUrl({ bytes: 60 * MiB, chunkBytes: 1024, dripMs: 30, declared: "none", name: "лиса 🦊.mp4" });
    expect(resultFileOf(url)).toEqual({
      bytes: 60 * MiB,
      chunkBytes: 1024,
      dripMs: 30,
      declared: "none",
      name: "лиса 🦊.mp4",
    });
    expect(resultFileOf("https://tempfile.aiquickdraw.com/i/a.png")).toBeUndefined();
  });
});

describe("the msw fake of KIE", () => {
  let outcome: (task: FakeTask) => ReturnType<typeof successFor> = (task) => successFor(task);
  const kie = fakeKie({ outcome: (task) => outcome(task) });
  const server = setupServer(...kie.handlers);
  dropResponseClones(server);
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => {
    kie.tasks.clear();
    kie.refused.length = 0;
    kie.served.clear();
    outcome = (task) => successFor(task);
  });
  afterAll(() => server.close());
  const kieClient = client(KIE_BASE, KIE_UPLOAD_BASE);

  it("creates a task for a request KIE documents and records nothing refused", async () => {
    const taskId = await kieClient.createTask(market("google/nano-banana", { prompt: "рыжая лиса 🦊" }));
    expect(kie.tasks.get(taskId)?.body).toMatchObject({ model: "google/nano-banana" });
    expect(kie.refused).toEqual([]);
  });

  it("refuses an unknown model and an undocumented field with 422, creates nothing and records why", async () => {
    const unknown = await failure(kieClient.createTask(market("no/such-model", { prompt: "fox" })));
    expect(unknown.code).toBe("invalid_params");
    const extra = await failure(kieClient.createTask(market("google/nano-banana", { prompt: "fox", num_images: 4 })));
    expect(extra.code).toBe("invalid_params");
    expect(kie.tasks.size).toBe(0);
    expect(kie.refused.map((refusal) => [refusal.path, refusal.model, refusal.code])).toEqual([
      ["/api/v1/jobs/createTask", "no/such-model", 422],
      ["/api/v1/jobs/createTask", "google/nano-banana", 422],
    ]);
    expect(kie.refused[1]?.violations.join(" ")).toContain("num_images");
  });

  it("refuses a Suno request without callBackUrl, which Suno requires", async () => {
    const body = { prompt: "песня о лисах 🦊", customMode: false, instrumental: false, model: "V5" };
    const refused = await failure(
      kieClient.createTask({ family: "suno", method: "POST", path: "/api/v1/generate", body }),
    );
    expect(refused.code).toBe("invalid_params");
    expect(kie.refused[0]?.violations).toEqual(["callBackUrl is required"]);
  });

  it("refuses an upload without uploadPath, or with a leading slash, as KIE's upload API does", async () => {
    const form = (uploadPath?: string) => {
      const data = new FormData();
      data.set("file", new Blob([new Uint8Array(10)], { type: "audio/ogg" }), "голос.ogg");
      if (uploadPath !== undefined) data.set("uploadPath", uploadPath);
      return data;
    };
    const answers = await Promise.all(
      [undefined, "/telegram/1"].map((path) =>
        fetch(`${KIE_UPLOAD_BASE}/api/file-stream-upload`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}` },
          body: form(path),
        }).then(async (response) => ({ status: response.status, body: await response.json() })),
      ),
    );
    expect(answers).toEqual([
      { status: 400, body: { success: false, code: 400, msg: "Missing required parameter: uploadPath" } },
      { status: 400, body: { success: false, code: 400, msg: "uploadPath must not start or end with /" } },
    ]);
    const url = await kieClient.uploadFile(
      { bytes: new Uint8Array(10), fileName: "голос.ogg", mimeType: "audio/ogg" },
      "telegram/1",
    );
    expect(url).toMatch(/^https:\/\/tempfile\.redpandaai\.co\/kieai\/uploads\/telegram\/1\//);
    expect(kie.uploads.at(-1)).toEqual({ fileName: "голос.ogg", bytes: 10, uploadPath: "telegram/1" });
  });

  it("a status read without taskId is answered 400, an unknown task 422", async () => {
    const read = (query: string) =>
      fetch(`${KIE_BASE}/api/v1/jobs/recordInfo${query}`, { headers: { authorization: `Bearer ${KEY}` } }).then(
        (response) => response.json(),
      );
    expect(await read("")).toMatchObject({ code: 400, msg: "taskId parameter is required" });
    expect(await read("?taskId=task_nobody")).toMatchObject({ code: 422, msg: "recordInfo is null" });
  });

  it("answers a 40,000-character text and 2,000 URLs, which the client reads whole", async () => {
    const text = longResultText(40_000);
    outcome = (task) => ({ state: "success", urls: manyResultUrls(task.taskId, 2_000), text });
    const taskId = await kieClient.createTask(market("google/nano-banana", { prompt: "fox" }));
    const status = await kieClient.status("market", taskId);
    expect(status).toMatchObject({ state: "succeeded", text });
    expect(status.state === "succeeded" ? status.urls : []).toHaveLength(2_000);
  });

  it("serves a result file larger than RESULT_MAX_MB chunk by chunk: a reader that stops makes it stop", async () => {
    const url = resultFileUrl({ bytes: 200 * MiB, name: "big.mp4" });
    const response = await fetch(url);
    expect(response.headers.get("content-length")).toBe(String(200 * MiB));
    expect(response.headers.get("content-type")).toBe("video/mp4");
    const { total } = await readSome(response, MiB);
    expect(total).toBe(MiB);
    const served = kie.served.get(new URL(url).pathname) ?? 0;
    expect(served).toBeLessThan(2 * MiB);
  });

  it("drips a file in small chunks, without a content-length when asked", async () => {
    const url = resultFileUrl({ bytes: 10 * 1024, chunkBytes: 1024, dripMs: 5, declared: "none" });
    const response = await fetch(url);
    expect(response.headers.get("content-length")).toBeNull();
    const { total, chunks } = await readSome(response);
    expect(total).toBe(10 * 1024);
    expect(chunks.every((size) => size <= 1024)).toBe(true);
  });
});

describe("the HTTP server fake of KIE", () => {
  it("checks creates of every family, answers each family's status, refuses what KIE refuses", async () => {
    const text = longResultText(40_000);
    const kie = await startFakeKieServer({
      apiKey: KEY,
      generationMs: 0,
      result: (task) =>
        task.family === "market"
          ? { state: "success", urls: manyResultUrls(task.taskId, 300), text }
          : defaultSuccess(task.family, task.taskId),
    });
    try {
      const kieClient = client(kie.baseUrl);
      const suno = await kieClient.createTask({
        family: "suno",
        method: "POST",
        path: "/api/v1/generate",
        body: { prompt: "песня 🦊", customMode: false, instrumental: false, model: "V5", callBackUrl: CALLBACK },
      });
      expect(await kieClient.status("suno", suno)).toMatchObject({ state: "succeeded" });
      const flux = await kieClient.createTask({
        family: "flux-kontext",
        method: "POST",
        path: "/api/v1/flux/kontext/generate",
        body: { prompt: "лиса", callBackUrl: CALLBACK },
      });
      expect(await kieClient.status("flux-kontext", flux)).toMatchObject({ state: "succeeded" });
      const image = await kieClient.createTask(market("google/nano-banana", { prompt: "fox" }));
      const status = await kieClient.status("market", image);
      expect(status).toMatchObject({ state: "succeeded", text });
      expect(status.state === "succeeded" ? status.urls : []).toHaveLength(300);
      // A callback address under .invalid reaches nobody: the fake calls no one for these tasks.
      expect(kie.counts.callbackUnreachable).toBe(3);

      const refused = await failure(kieClient.createTask(market("kling/ai-avatar-v1-pro", { prompt: "fox" })));
      expect(refused.code).toBe("invalid_params");
      expect(kie.refused).toEqual([
        expect.objectContaining({ path: "/api/v1/jobs/createTask", model: "kling/ai-avatar-v1-pro", code: 422 }),
      ]);
      expect(kie.counts.refused).toBe(1);

      const uploaded = await kieClient.uploadFile(
        { bytes: new Uint8Array(100), fileName: "фото 🦊.jpg", mimeType: "image/jpeg" },
        "telegram/1",
      );
      expect(new URL(uploaded).hostname).toBe("tempfile.redpandaai.co");
      expect(kie.uploads).toEqual([{ fileName: "фото 🦊.jpg", bytes: 100, uploadPath: "telegram/1" }]);
    } finally {
      await kie.close();
    }
  });

  it("serves a result file larger than RESULT_MAX_MB as a stream: a reader that stops early is sent little more", async () => {
    const kie = await startFakeKieServer({ apiKey: KEY, generationMs: 0 });
    try {
      const url = resultFileUrl({ bytes: 1024 * MiB, name: "huge.mp4" });
      const response = await fetch(kie.resultFileOnServer(url));
      expect(response.headers.get("content-length")).toBe(String(1024 * MiB));
      const { total } = await readSome(response, 2 * MiB);
      expect(total).toBeGreaterThanOrEqual(2 * MiB);
      // Generation follows the socket: far less than the file was produced (socket buffers hold a few MiB).
      expect(kie.served.get(new URL(url).pathname) ?? 0).toBeLessThan(64 * MiB);
    } finally {
      await kie.close();
    }
  });
});
