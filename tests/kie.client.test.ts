import { delay, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KieClient } from "../src/kie/client.ts";
import { CreateLimit } from "../src/kie/create-limit.ts";
import { KieError } from "../src/kie/errors.ts";
import { callbackTaskId, parseTaskStatus } from "../src/kie/task-status.ts";

const BASE = "https://api.kie.test";
const UPLOAD = "https://upload.kie.test";
const KEY = "kie-secret-key-123";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function client(options: Partial<ConstructorParameters<typeof KieClient>[0]> = {}) {
  let clock = 0;
  return new KieClient({
    apiKey: KEY,
    baseUrl: BASE,
    uploadBaseUrl: UPLOAD,
    fetch: (input, init) => fetch(input, init),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    random: () => 0.5,
    timeoutMs: 200,
    ...options,
  });
}

const marketRequest = {
  family: "market",
  method: "POST",
  path: "/api/v1/jobs/createTask",
  body: { model: "z-image", input: { prompt: "fox" } },
} as const;

async function failure(promise: Promise<unknown>): Promise<KieError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KieError) return error;
    throw error;
  }
  throw new Error("expected a KieError");
}

describe("KIE client", () => {
  it("creates a task with the bearer key and the JSON body", async () => {
    let seen: { auth: string | null; body: unknown } | undefined;
    server.use(
      http.post(`${BASE}/api/v1/jobs/createTask`, async ({ request }) => {
        seen = { auth: request.headers.get("authorization"), body: await request.json() };
        return HttpResponse.json({ code: 200, msg: "success", data: { taskId: "task_1" } });
      }),
    );
    expect(await client().createTask(marketRequest)).toBe("task_1");
    expect(seen).toEqual({ auth: `Bearer ${KEY}`, body: marketRequest.body });
  });

  it("retries createTask after 429 and 5xx (not accepted) and creates one task", async () => {
    const answers = [
      HttpResponse.json({ code: 429, msg: "Rate limit exceeded" }, { status: 429 }),
      HttpResponse.json({ code: 500, msg: "Internal error" }, { status: 500 }),
      HttpResponse.json({ code: 200, msg: "success", data: { taskId: "task_2" } }),
    ];
    let calls = 0;
    server.use(http.post(`${BASE}/api/v1/jobs/createTask`, () => answers[calls++]));
    expect(await client().createTask(marketRequest)).toBe("task_2");
    expect(calls).toBe(3);
  });

  it("never retries createTask after a timeout, whose outcome is unknown", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/jobs/createTask`, async () => {
        calls++;
        await delay(1_000);
        return HttpResponse.json({ code: 200, data: { taskId: "late" } });
      }),
    );
    const error = await failure(client().createTask(marketRequest));
    expect(error.code).toBe("timeout");
    expect(calls).toBe(1);
  });

  it("maps KIE body codes (also inside HTTP 200) to typed errors and user messages", async () => {
    const cases = [
      [401, "unauthorized", "kie-error-service"],
      [402, "insufficient_credits", "kie-error-service"],
      [422, "invalid_params", "kie-error-params"],
      [455, "maintenance", "kie-error-busy"],
      [501, "generation_failed", "kie-error-generation"],
      [505, "feature_disabled", "kie-error-service"],
    ] as const;
    for (const [code, expected, messageKey] of cases) {
      server.use(http.post(`${BASE}/api/v1/jobs/createTask`, () => HttpResponse.json({ code, msg: "nope" })));
      const error = await failure(client({ maxAttempts: 1 }).createTask(marketRequest));
      expect([error.code, error.status, error.userMessageKey]).toEqual([expected, code, messageKey]);
      expect(error.message).not.toContain(KEY);
    }
  });

  it("treats malformed JSON and an unknown status shape as malformed", async () => {
    server.use(
      http.post(`${BASE}/api/v1/jobs/createTask`, () => new HttpResponse("{not json", { status: 200 })),
      http.get(`${BASE}/api/v1/jobs/recordInfo`, () => HttpResponse.json({ code: 200, data: { state: "exploded" } })),
    );
    expect((await failure(client({ maxAttempts: 1 }).createTask(marketRequest))).code).toBe("malformed");
    expect((await failure(client({ maxAttempts: 1 }).status("market", "t"))).code).toBe("malformed");
  });

  it("retries status reads on 5xx with backoff and reads the result", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/jobs/recordInfo`, ({ request }) => {
        calls++;
        if (calls === 1) return HttpResponse.json({ code: 500, msg: "busy" }, { status: 500 });
        expect(new URL(request.url).searchParams.get("taskId")).toBe("task 3");
        return HttpResponse.json({
          code: 200,
          data: {
            state: "success",
            resultJson: JSON.stringify({ resultUrls: ["https://tempfile.aiquickdraw.com/a.png"] }),
          },
        });
      }),
    );
    expect(await client().status("market", "task 3")).toEqual({
      state: "succeeded",
      urls: ["https://tempfile.aiquickdraw.com/a.png"],
    });
    expect(calls).toBe(2);
  });

  it("opens the circuit after repeated failures and then fails fast without calling KIE", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/chat/credit`, () => {
        calls++;
        return HttpResponse.json({ code: 500, msg: "down" }, { status: 500 });
      }),
    );
    const kie = client({ maxAttempts: 1, circuit: { threshold: 3, openMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await failure(kie.credits())).code).toBe("server_error");
    expect((await failure(kie.credits())).code).toBe("circuit_open");
    expect(calls).toBe(3);
    expect(kie.circuit.state).toBe("open");
  });

  it("uploads bytes as multipart and returns the download URL", async () => {
    let fields: Record<string, string> = {};
    server.use(
      http.post(`${UPLOAD}/api/file-stream-upload`, async ({ request }) => {
        const form = await request.formData();
        const file = form.get("file") as File;
        fields = { uploadPath: String(form.get("uploadPath")), name: file.name, size: String(file.size) };
        return HttpResponse.json({
          success: true,
          code: 200,
          msg: "File uploaded successfully",
          data: { downloadUrl: "https://tempfile.redpandaai.co/u/photo.jpg" },
        });
      }),
    );
    const url = await client().uploadFile(
      { bytes: new Uint8Array([1, 2, 3]), fileName: "photo.jpg", mimeType: "image/jpeg" },
      "users/42",
    );
    expect(url).toBe("https://tempfile.redpandaai.co/u/photo.jpg");
    expect(fields).toEqual({ uploadPath: "users/42", name: "photo.jpg", size: "3" });
  });
});

describe("task status of every endpoint family", () => {
  const cases: [Parameters<typeof parseTaskStatus>[0], unknown, unknown][] = [
    ["market", { state: "queuing" }, { state: "pending" }],
    ["market", { state: "generating", resultJson: "" }, { state: "running" }],
    ["market", { state: "generating", progress: 40 }, { state: "running", progress: 40 }],
    [
      "market",
      { state: "fail", failCode: "500", failMsg: "Internal" },
      { state: "failed", failCode: "500", failMessage: "Internal" },
    ],
    [
      "market",
      { state: "success", resultJson: JSON.stringify({ resultObject: { text: "привет" } }) },
      { state: "succeeded", urls: [], text: JSON.stringify({ text: "привет" }, null, 2) },
    ],
    ["veo", { successFlag: 0 }, { state: "running" }],
    [
      "veo",
      { successFlag: 1, response: { resultUrls: ["https://x.test/v.mp4"] } },
      { state: "succeeded", urls: ["https://x.test/v.mp4"] },
    ],
    ["veo", { successFlag: 3, errorMessage: "flagged" }, { state: "failed", failCode: "3", failMessage: "flagged" }],
    ["gpt4o-image", { successFlag: 0, progress: "0.45" }, { state: "running", progress: 45 }],
    [
      "flux-kontext",
      { successFlag: 1, response: { resultImageUrl: "https://x.test/f.png" } },
      { state: "succeeded", urls: ["https://x.test/f.png"] },
    ],
    [
      "midjourney",
      { successFlag: 1, resultInfoJson: { resultUrls: [{ resultUrl: "https://x.test/m.png" }] } },
      { state: "succeeded", urls: ["https://x.test/m.png"] },
    ],
    ["suno", { status: "FIRST_SUCCESS" }, { state: "running" }],
    [
      "suno",
      {
        status: "SUCCESS",
        response: { sunoData: [{ audioUrl: "https://x.test/1.mp3" }, { audioUrl: "https://x.test/2.mp3" }] },
      },
      { state: "succeeded", urls: ["https://x.test/1.mp3", "https://x.test/2.mp3"] },
    ],
    [
      "suno",
      { status: "SENSITIVE_WORD_ERROR", errorMessage: "lyrics" },
      { state: "failed", failCode: "SENSITIVE_WORD_ERROR", failMessage: "lyrics" },
    ],
    ["runway", { state: "wait" }, { state: "pending" }],
    [
      "runway",
      { state: "success", videoInfo: { videoUrl: "https://x.test/r.mp4" } },
      { state: "succeeded", urls: ["https://x.test/r.mp4"] },
    ],
  ];
  it.each(cases)("%s %j", (family, data, expected) => {
    expect(parseTaskStatus(family, data)).toEqual(expected);
  });

  it("finds the task id of a callback wherever KIE puts it", () => {
    expect(callbackTaskId({ code: 200, data: { taskId: "a" } })).toBe("a");
    expect(callbackTaskId({ code: 200, data: { task_id: "b", callbackType: "complete" } })).toBe("b");
    expect(callbackTaskId({ taskId: "c", data: null })).toBe("c");
    expect(callbackTaskId("garbage")).toBeUndefined();
  });
});

describe("create limit", () => {
  it("lets a burst of creates through in order, at most `count` per window, waiting instead of failing", async () => {
    let now = 0;
    const started: number[] = [];
    const limit = new CreateLimit({
      count: 3,
      windowMs: 10_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limit.take().then(() => {
          started.push(now);
          return i;
        }),
      ),
    );
    expect(started).toEqual([0, 0, 0, 10_000, 10_000, 10_000, 20_000]);
  });
});
