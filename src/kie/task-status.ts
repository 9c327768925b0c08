/**
 * Status responses of every KIE endpoint family, parsed with zod into one
 * shape. Each family reports progress and results its own way (see
 * shared/reference/kie-api.md §1.2 and §5); the rest of the bot sees only
 * `TaskStatus`.
 */
import { z } from "zod";
import type { EndpointFamily } from "../../catalog/schema.ts";

/** Where a KIE task is. */
export type TaskStatus =
  | { readonly state: "pending" | "running"; readonly progress?: number }
  | { readonly state: "succeeded"; readonly urls: readonly string[]; readonly text?: string }
  | { readonly state: "failed"; readonly failCode?: string; readonly failMessage?: string };

/** Poll paths of each family; the task id goes in the `taskId` query parameter. */
export const STATUS_PATHS: Readonly<Record<EndpointFamily, string>> = {
  market: "/api/v1/jobs/recordInfo",
  veo: "/api/v1/veo/record-info",
  suno: "/api/v1/generate/record-info",
  runway: "/api/v1/runway/record-detail",
  "gpt4o-image": "/api/v1/gpt4o-image/record-info",
  "flux-kontext": "/api/v1/flux/kontext/record-info",
  midjourney: "/api/v1/mj/record-info",
};

const text = z.string().nullish();
const flag = z.coerce.number().int();

/** A `resultJson` that is documented as a JSON string but may arrive as an object. */
const ResultJson = z.preprocess(
  // An empty string (sent while a task runs) means no result yet.
  (value) => (typeof value !== "string" ? value : value === "" ? undefined : JSON.parse(value)),
  z.looseObject({ resultUrls: z.array(z.string()).optional(), resultObject: z.unknown().optional() }).nullish(),
);

const Market = z.looseObject({
  state: z.enum(["waiting", "queuing", "generating", "success", "fail"]),
  resultJson: ResultJson,
  failCode: text,
  failMsg: text,
  // Documented for Sora 2 only (0-100); other models send null or nothing.
  progress: z.number().nullish(),
});

const Flagged = z.looseObject({
  successFlag: flag,
  errorCode: z.union([z.string(), z.number()]).nullish(),
  errorMessage: text,
  progress: z.union([z.string(), z.number()]).nullish(),
  response: z
    .looseObject({
      resultUrls: z.array(z.string()).nullish(),
      resultImageUrl: z.string().nullish(),
    })
    .nullish(),
  resultInfoJson: z.looseObject({ resultUrls: z.array(z.looseObject({ resultUrl: z.string() })).nullish() }).nullish(),
});

const Suno = z.looseObject({
  status: z.string(),
  errorMessage: text,
  response: z.looseObject({ sunoData: z.array(z.looseObject({ audioUrl: z.string().nullish() })).nullish() }).nullish(),
});

const Runway = z.looseObject({
  state: z.enum(["wait", "queueing", "generating", "success", "fail"]),
  failMsg: text,
  failCode: z.union([z.string(), z.number()]).nullish(),
  videoInfo: z.looseObject({ videoUrl: z.string().nullish() }).nullish(),
});

const failed = (failCode?: unknown, failMessage?: unknown): TaskStatus => ({
  state: "failed",
  ...(failCode === undefined || failCode === null || failCode === "" ? {} : { failCode: String(failCode) }),
  ...(typeof failMessage === "string" && failMessage !== "" ? { failMessage } : {}),
});

const succeeded = (urls: readonly (string | null | undefined)[], resultText?: string): TaskStatus => ({
  state: "succeeded",
  urls: urls.filter((url): url is string => typeof url === "string" && url !== ""),
  ...(resultText === undefined ? {} : { text: resultText }),
});

/** Parses the `data` of a status response; throws a ZodError (or SyntaxError) on a shape it does not know. */
export function parseTaskStatus(family: EndpointFamily, data: unknown): TaskStatus {
  switch (family) {
    case "market": {
      const task = Market.parse(data);
      if (task.state === "waiting" || task.state === "queuing") return { state: "pending" };
      if (task.state === "generating") {
        return task.progress === undefined || task.progress === null
          ? { state: "running" }
          : { state: "running", progress: task.progress };
      }
      if (task.state === "fail") return failed(task.failCode, task.failMsg);
      const result = task.resultJson;
      const object = result?.resultObject;
      const resultText =
        object === undefined ? undefined : typeof object === "string" ? object : JSON.stringify(object, null, 2);
      return succeeded(result?.resultUrls ?? [], resultText);
    }
    case "suno": {
      const task = Suno.parse(data);
      if (task.status === "SUCCESS") return succeeded((task.response?.sunoData ?? []).map((track) => track.audioUrl));
      if (["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"].includes(task.status)) return { state: "running" };
      return failed(task.status, task.errorMessage);
    }
    case "runway": {
      const task = Runway.parse(data);
      if (task.state === "wait" || task.state === "queueing") return { state: "pending" };
      if (task.state === "generating") return { state: "running" };
      if (task.state === "fail") return failed(task.failCode, task.failMsg);
      return succeeded([task.videoInfo?.videoUrl]);
    }
    case "veo":
    case "gpt4o-image":
    case "flux-kontext":
    case "midjourney": {
      const task = Flagged.parse(data);
      if (task.successFlag === 0) {
        const progress = task.progress === undefined || task.progress === null ? undefined : Number(task.progress);
        return progress === undefined || Number.isNaN(progress)
          ? { state: "running" }
          : { state: "running", progress: progress <= 1 ? Math.round(progress * 100) : progress };
      }
      if (task.successFlag !== 1) return failed(task.errorCode ?? task.successFlag, task.errorMessage);
      if (family === "flux-kontext") return succeeded([task.response?.resultImageUrl]);
      if (family === "midjourney")
        return succeeded((task.resultInfoJson?.resultUrls ?? []).map((url) => url.resultUrl));
      return succeeded(task.response?.resultUrls ?? []);
    }
  }
}

/** The task id in a callback body of any family (KIE is inconsistent about where and how it names it). */
export function callbackTaskId(body: unknown): string | undefined {
  const parsed = z
    .looseObject({
      taskId: z.string().optional(),
      task_id: z.string().optional(),
      data: z.looseObject({ taskId: z.string().optional(), task_id: z.string().optional() }).nullish(),
    })
    .safeParse(body);
  if (!parsed.success) return undefined;
  const { data } = parsed;
  return data.data?.taskId ?? data.data?.task_id ?? data.taskId ?? data.task_id;
}
