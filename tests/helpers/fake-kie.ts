/**
 * KIE as msw handlers: every create endpoint hands out task ids, every
 * status endpoint answers in its own family's shape from a script the test
 * controls, uploads return a tempfile URL, and result hosts serve bytes.
 */
import { delay, HttpResponse, http } from "msw";
import type { EndpointFamily } from "../../catalog/schema.ts";

export const KIE_BASE = "https://api.kie.ai";
export const KIE_UPLOAD_BASE = "https://kieai.redpandaai.co";
export const RESULT_HOST = "https://tempfile.aiquickdraw.com";

/** What a task reports when read: still working, done with URLs or text, or failed. */
export type FakeOutcome =
  | { readonly state: "pending" }
  | { readonly state: "success"; readonly urls?: readonly string[]; readonly text?: string }
  | { readonly state: "fail"; readonly code?: string; readonly message?: string };

const CREATE: Record<string, EndpointFamily> = {
  "/api/v1/jobs/createTask": "market",
  "/api/v1/veo/generate": "veo",
  "/api/v1/generate": "suno",
  "/api/v1/runway/generate": "runway",
  "/api/v1/gpt4o-image/generate": "gpt4o-image",
  "/api/v1/flux/kontext/generate": "flux-kontext",
  "/api/v1/mj/generate": "midjourney",
};

const STATUS: Record<string, EndpointFamily> = {
  "/api/v1/jobs/recordInfo": "market",
  "/api/v1/veo/record-info": "veo",
  "/api/v1/generate/record-info": "suno",
  "/api/v1/runway/record-detail": "runway",
  "/api/v1/gpt4o-image/record-info": "gpt4o-image",
  "/api/v1/flux/kontext/record-info": "flux-kontext",
  "/api/v1/mj/record-info": "midjourney",
};

/** A created task as the fake saw it. */
export interface FakeTask {
  readonly taskId: string;
  readonly family: EndpointFamily;
  readonly path: string;
  readonly body: Record<string, unknown>;
  reads: number;
}

/**
 * The fake. `outcome` decides what a status read answers (by task and how
 * many reads it had); `createDelayMs` holds create requests (to catch a job
 * mid-submit).
 */
export function fakeKie(options: { outcome?: (task: FakeTask) => FakeOutcome; createDelayMs?: number } = {}) {
  const tasks = new Map<string, FakeTask>();
  const uploads: { fileName: string; bytes: number; uploadPath: string }[] = [];
  let next = 1;
  const state = {
    outcome: options.outcome ?? ((task: FakeTask) => (task.reads < 2 ? { state: "pending" } : successFor(task))),
    createDelayMs: options.createDelayMs,
  };
  const handlers = [
    ...Object.entries(CREATE).map(([path, family]) =>
      http.post(`${KIE_BASE}${path}`, async ({ request }) => {
        if (request.headers.get("authorization") !== "Bearer kie-test-key-123") {
          return HttpResponse.json({ code: 401, msg: "You do not have access permissions" }, { status: 401 });
        }
        if (state.createDelayMs !== undefined) await delay(state.createDelayMs);
        const taskId = `task_${family}_${next++}`;
        tasks.set(taskId, { taskId, family, path, body: (await request.json()) as Record<string, unknown>, reads: 0 });
        return HttpResponse.json({ code: 200, msg: "success", data: { taskId } });
      }),
    ),
    ...Object.entries(STATUS).map(([path, family]) =>
      http.get(`${KIE_BASE}${path}`, ({ request }) => {
        const task = tasks.get(new URL(request.url).searchParams.get("taskId") ?? "");
        if (task === undefined || task.family !== family) {
          return HttpResponse.json({ code: 422, msg: "recordInfo is null", data: null });
        }
        task.reads++;
        return HttpResponse.json({ code: 200, msg: "success", data: statusData(family, task, state.outcome(task)) });
      }),
    ),
    http.post(`${KIE_UPLOAD_BASE}/api/file-stream-upload`, async ({ request }) => {
      const form = await request.formData();
      const file = form.get("file");
      const fileName = String(form.get("fileName") ?? "file");
      uploads.push({
        fileName,
        bytes: file instanceof Blob ? file.size : 0,
        uploadPath: String(form.get("uploadPath") ?? ""),
      });
      return HttpResponse.json({
        success: true,
        code: 200,
        msg: "File uploaded successfully",
        data: { fileName, downloadUrl: `https://tempfile.redpandaai.co/kieai/uploads/${fileName}` },
      });
    }),
    http.get(`${RESULT_HOST}/*`, () => HttpResponse.arrayBuffer(new Uint8Array(2048).fill(7).buffer)),
  ];
  return { handlers, tasks, uploads, state };
}

/** The default success of a family: an image, a video, tracks or a transcript. */
export function successFor(task: FakeTask): FakeOutcome {
  switch (task.family) {
    case "suno":
      return {
        state: "success",
        urls: [`${RESULT_HOST}/s/${task.taskId}-1.mp3`, `${RESULT_HOST}/s/${task.taskId}-2.mp3`],
      };
    case "veo":
    case "runway":
      return { state: "success", urls: [`${RESULT_HOST}/v/${task.taskId}.mp4`] };
    default:
      return { state: "success", urls: [`${RESULT_HOST}/i/${task.taskId}.png`] };
  }
}

/** The `data` of a status answer in the family's own shape. */
function statusData(family: EndpointFamily, task: FakeTask, outcome: FakeOutcome): unknown {
  const urls = outcome.state === "success" ? [...(outcome.urls ?? [])] : [];
  const failCode = outcome.state === "fail" ? (outcome.code ?? "500") : undefined;
  const failMessage = outcome.state === "fail" ? (outcome.message ?? "internal error") : undefined;
  switch (family) {
    case "market":
      if (outcome.state === "pending") return { taskId: task.taskId, state: "generating", resultJson: "" };
      if (outcome.state === "fail") return { taskId: task.taskId, state: "fail", failCode, failMsg: failMessage };
      return {
        taskId: task.taskId,
        state: "success",
        resultJson: JSON.stringify(
          outcome.text === undefined ? { resultUrls: urls } : { resultUrls: urls, resultObject: outcome.text },
        ),
        failCode: "",
        failMsg: "",
      };
    case "suno":
      if (outcome.state === "pending") return { taskId: task.taskId, status: "PENDING" };
      if (outcome.state === "fail")
        return { taskId: task.taskId, status: "GENERATE_AUDIO_FAILED", errorMessage: failMessage };
      return { taskId: task.taskId, status: "SUCCESS", response: { sunoData: urls.map((audioUrl) => ({ audioUrl })) } };
    case "runway":
      if (outcome.state === "pending") return { taskId: task.taskId, state: "queueing" };
      if (outcome.state === "fail") return { taskId: task.taskId, state: "fail", failCode, failMsg: failMessage };
      return { taskId: task.taskId, state: "success", videoInfo: { videoUrl: urls[0] } };
    default: {
      if (outcome.state === "pending") return { taskId: task.taskId, successFlag: 0, progress: "0.40" };
      if (outcome.state === "fail")
        return { taskId: task.taskId, successFlag: 2, errorCode: failCode, errorMessage: failMessage };
      if (family === "flux-kontext")
        return { taskId: task.taskId, successFlag: 1, response: { resultImageUrl: urls[0] } };
      if (family === "midjourney") {
        return {
          taskId: task.taskId,
          successFlag: 1,
          resultInfoJson: { resultUrls: urls.map((resultUrl) => ({ resultUrl })) },
        };
      }
      return { taskId: task.taskId, successFlag: 1, response: { resultUrls: urls } };
    }
  }
}
