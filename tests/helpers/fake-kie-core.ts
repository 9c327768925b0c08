/**
 * What both fakes of KIE share (the msw one in `fake-kie.ts`, the HTTP
 * server in `fake-kie-server.ts`): the endpoint families by path, status
 * answers in each family's own shape, the check of every create request
 * against KIE's documented schema (`catalog/kie-schema.ts`), the check of
 * uploads, and large results on demand: long texts, hundreds of URLs, and
 * result files of any size, streamed (never held in memory) and optionally
 * dripped slowly.
 */

import { checkKieCreate } from "../../catalog/kie-schema.ts";
import type { EndpointFamily } from "../../catalog/schema.ts";

export const KIE_BASE = "https://api.kie.ai";
export const KIE_UPLOAD_BASE = "https://kieai.redpandaai.co";
/** KIE's tempfile host (one of the bot's default `RESULT_HOSTS`). */
export const RESULT_HOST = "https://tempfile.aiquickdraw.com";

/** Create paths of each family (shared/reference/kie-api.md §1 and §5). */
export const CREATE_FAMILIES: Readonly<Record<string, EndpointFamily>> = {
  "/api/v1/jobs/createTask": "market",
  "/api/v1/veo/generate": "veo",
  "/api/v1/generate": "suno",
  "/api/v1/runway/generate": "runway",
  "/api/v1/gpt4o-image/generate": "gpt4o-image",
  "/api/v1/flux/kontext/generate": "flux-kontext",
  "/api/v1/mj/generate": "midjourney",
};

/** Status paths of each family; the task id goes in the `taskId` query parameter. */
export const STATUS_FAMILIES: Readonly<Record<string, EndpointFamily>> = {
  "/api/v1/jobs/recordInfo": "market",
  "/api/v1/veo/record-info": "veo",
  "/api/v1/generate/record-info": "suno",
  "/api/v1/runway/record-detail": "runway",
  "/api/v1/gpt4o-image/record-info": "gpt4o-image",
  "/api/v1/flux/kontext/record-info": "flux-kontext",
  "/api/v1/mj/record-info": "midjourney",
};

export const UPLOAD_PATH = "/api/file-stream-upload";

/** The account's remaining credits (shared/reference/kie-api.md §3: `GET`, no parameters). */
export const CREDIT_PATH = "/api/v1/chat/credit";

/** The balance both fakes start with, in credits. */
export const DEFAULT_FAKE_CREDITS = 100_000;

/**
 * KIE's answer to `GET /api/v1/chat/credit`: `data` is the integer count of
 * remaining credits (a fractional balance a test sets is rounded down, as
 * KIE documents only integers).
 */
export function creditAnswer(credits: number): { code: 200; msg: "success"; data: number } {
  return { code: 200, msg: "success", data: Math.max(0, Math.floor(credits)) };
}

/** What a task reports when read: still working, done with URLs or text, or failed. */
export type FakeOutcome =
  | { readonly state: "pending" }
  | { readonly state: "success"; readonly urls?: readonly string[]; readonly text?: string }
  | { readonly state: "fail"; readonly code?: string; readonly message?: string };

/** A request the fake refused as KIE would: what was asked and why it is not what KIE documents. */
export interface KieRefusal {
  readonly path: string;
  /** The `model` of the body (Market model string or a dedicated API's model field), when it has one. */
  readonly model?: string;
  /** The body code KIE answers with (422 invalid parameters, 404 no such endpoint, 400 a bad upload). */
  readonly code: number;
  readonly violations: readonly string[];
}

/** KIE's answer to a refused request: HTTP status and body. */
export interface KieRefusalAnswer {
  readonly status: number;
  readonly body: { readonly code: number; readonly msg: string; readonly data: null };
}

/**
 * Checks a create request against KIE's documented schema for its path and
 * model; a refusal is recorded in `refused` and comes with KIE's answer.
 */
export function checkCreate(
  path: string,
  body: unknown,
  refused: KieRefusal[],
): { ok: true } | { ok: false; answer: KieRefusalAnswer } {
  const check = checkKieCreate(path, body);
  if (check.ok) return { ok: true };
  const model = (body as { model?: unknown } | null)?.model;
  refused.push({
    path,
    ...(typeof model === "string" ? { model } : {}),
    code: check.code,
    violations: [...check.violations],
  });
  return { ok: false, answer: { status: check.status, body: { code: check.code, msg: check.msg, data: null } } };
}

/** What an upload to `/api/file-stream-upload` carried. */
export interface FakeUpload {
  readonly fileName: string;
  readonly bytes: number;
  readonly uploadPath: string;
}

/**
 * Checks a stream upload as KIE documents it (docs.kie.ai/file-upload-api/upload-file-stream):
 * `file` is required and a file, `uploadPath` is required, without a
 * leading or trailing `/`. The answer is the documented one: the union of
 * the endpoint's and the quickstart's shapes (shared/reference/kie-api.md §4).
 */
export function checkUpload(
  form: FormData,
  refused: KieRefusal[],
  uploads: FakeUpload[],
): { status: number; body: Record<string, unknown> } {
  const file = form.get("file");
  const uploadPath = form.get("uploadPath");
  const fileName = form.get("fileName");
  const problem = !(file instanceof Blob)
    ? "Missing required parameter: file"
    : typeof uploadPath !== "string" || uploadPath === ""
      ? "Missing required parameter: uploadPath"
      : uploadPath.startsWith("/") || uploadPath.endsWith("/")
        ? "uploadPath must not start or end with /"
        : fileName !== null && typeof fileName !== "string"
          ? "fileName must be a string"
          : undefined;
  if (problem !== undefined || !(file instanceof Blob) || typeof uploadPath !== "string") {
    refused.push({ path: UPLOAD_PATH, code: 400, violations: [problem ?? "invalid upload"] });
    return { status: 400, body: { success: false, code: 400, msg: problem ?? "invalid upload" } };
  }
  const name = typeof fileName === "string" && fileName !== "" ? fileName : `upload-${uploads.length + 1}`;
  uploads.push({ fileName: name, bytes: file.size, uploadPath });
  const downloadUrl = `https://tempfile.redpandaai.co/kieai/uploads/${uploadPath}/${encodeURIComponent(name)}`;
  const now = new Date().toISOString();
  return {
    status: 200,
    body: {
      success: true,
      code: 200,
      msg: "File uploaded successfully",
      data: {
        fileName: name,
        filePath: `${uploadPath}/${name}`,
        downloadUrl,
        fileUrl: downloadUrl,
        fileSize: file.size,
        mimeType: file.type || "application/octet-stream",
        uploadPath,
        uploadedAt: now,
      },
    },
  };
}

/** The default success of a family: an image, a video, tracks or a transcript. */
export function defaultSuccess(family: EndpointFamily, taskId: string): FakeOutcome {
  switch (family) {
    case "suno":
      return { state: "success", urls: [`${RESULT_HOST}/s/${taskId}-1.mp3`, `${RESULT_HOST}/s/${taskId}-2.mp3`] };
    case "veo":
    case "runway":
      return { state: "success", urls: [`${RESULT_HOST}/v/${taskId}.mp4`] };
    default:
      return { state: "success", urls: [`${RESULT_HOST}/i/${taskId}.png`] };
  }
}

/**
 * The `data` of a status answer in the family's own shape, with the fields
 * KIE sends besides the ones the bot reads (nulls included: `progress` is
 * null on every model but Sora 2).
 */
export function statusData(
  family: EndpointFamily,
  task: { readonly taskId: string; readonly body: Readonly<Record<string, unknown>> },
  outcome: FakeOutcome,
): unknown {
  const { taskId } = task;
  const urls = outcome.state === "success" ? [...(outcome.urls ?? [])] : [];
  const failCode = outcome.state === "fail" ? (outcome.code ?? "500") : undefined;
  const failMessage = outcome.state === "fail" ? (outcome.message ?? "internal error") : undefined;
  switch (family) {
    case "market": {
      const common = {
        taskId,
        model: String(task.body.model ?? ""),
        param: JSON.stringify(task.body),
        progress: null,
        createTime: Date.now(),
      };
      if (outcome.state === "pending") return { ...common, state: "generating", resultJson: "" };
      if (outcome.state === "fail")
        return { ...common, state: "fail", resultJson: null, failCode, failMsg: failMessage };
      return {
        ...common,
        state: "success",
        resultJson: JSON.stringify(
          outcome.text === undefined ? { resultUrls: urls } : { resultUrls: urls, resultObject: outcome.text },
        ),
        failCode: "",
        failMsg: "",
        costTime: 15_000,
        completeTime: Date.now(),
      };
    }
    case "suno":
      if (outcome.state === "pending") return { taskId, status: "PENDING", response: null, errorMessage: null };
      if (outcome.state === "fail") return { taskId, status: "GENERATE_AUDIO_FAILED", errorMessage: failMessage };
      return {
        taskId,
        status: "SUCCESS",
        errorMessage: null,
        response: {
          taskId,
          sunoData: urls.map((audioUrl, index) => ({
            id: `${taskId}-${index + 1}`,
            audioUrl,
            streamAudioUrl: audioUrl,
          })),
        },
      };
    case "runway":
      if (outcome.state === "pending")
        return { taskId, state: "queueing", videoInfo: null, failCode: null, failMsg: null };
      if (outcome.state === "fail") return { taskId, state: "fail", videoInfo: null, failCode, failMsg: failMessage };
      return { taskId, state: "success", videoInfo: { videoUrl: urls[0] }, expireFlag: 0 };
    default: {
      if (outcome.state === "pending") {
        // 4o Image reports progress as a string "0.00"-"1.00"; the others send null.
        return { taskId, successFlag: 0, response: null, progress: family === "gpt4o-image" ? "0.40" : null };
      }
      if (outcome.state === "fail") {
        return {
          taskId,
          successFlag: 2,
          response: null,
          errorCode: failCode,
          errorMessage: failMessage,
          progress: null,
        };
      }
      if (family === "flux-kontext") return { taskId, successFlag: 1, response: { resultImageUrl: urls[0] } };
      if (family === "midjourney") {
        return { taskId, successFlag: 1, resultInfoJson: { resultUrls: urls.map((resultUrl) => ({ resultUrl })) } };
      }
      return { taskId, successFlag: 1, response: { resultUrls: urls }, progress: "1.00" };
    }
  }
}

// ---------------------------------------------------------------- large results

/** Pieces of text as people write it: Cyrillic, emoji (with ZWJ), RTL, combining marks, markup characters. */
const TEXT_PIECES = [
  "Лиса бежит по снегу, ",
  "🦊 ",
  "и ищет мышей. ",
  "Ёжик в тумане ",
  "👩‍💻 ",
  "שלום עולם ",
  "й̈ ",
  "<b>не тег</b> & ",
  "🇷🇺 ",
  "fox\n",
];

/**
 * A text of exactly `chars` code points, as a long transcript or answer
 * would be: Cyrillic with emoji, RTL and combining marks; its UTF-16
 * length is larger. Never ends inside a grapheme (padded with `.`).
 */
export function longResultText(chars: number): string {
  const out: string[] = [];
  let count = 0;
  for (let i = 0; ; i++) {
    const piece = TEXT_PIECES[i % TEXT_PIECES.length] as string;
    const length = [...piece].length;
    if (count + length > chars) break;
    out.push(piece);
    count += length;
  }
  return out.join("") + ".".repeat(chars - count);
}

/** `count` distinct result URLs of a task on KIE's tempfile host. */
export function manyResultUrls(taskId: string, count: number, extension = "png"): string[] {
  return Array.from({ length: count }, (_, i) => `${RESULT_HOST}/i/${taskId}-${i + 1}.${extension}`);
}

/** A result file the fakes serve: its size, how it is sent and what its headers say. */
export interface ResultFileSpec {
  readonly bytes: number;
  /** Bytes per chunk (default 64 KiB). */
  readonly chunkBytes?: number;
  /** Pause before each chunk after the first, for a slow drip (default 0). */
  readonly dripMs?: number;
  /**
   * `content-length` sent: the true size (default), none (chunked), or a
   * smaller number than what follows (a server that lies).
   */
  readonly declared?: "exact" | "none" | number;
  /** File name with extension (default `result.bin`). */
  readonly name?: string;
}

const FILE_PATH = /^\/f\/(\d+)\/(\d+)\/(\d+)\/(exact|none|\d+)\/([^/]+)$/;

/**
 * A result URL on KIE's tempfile host for a file of `spec.bytes` bytes that
 * both fakes serve: the msw fake at that address, the HTTP server at the
 * same path on its own address (`resultFileOnServer`).
 */
export function resultFileUrl(spec: ResultFileSpec): string {
  const declared = spec.declared ?? "exact";
  return `${RESULT_HOST}/f/${spec.bytes}/${spec.chunkBytes ?? 65_536}/${spec.dripMs ?? 0}/${declared}/${encodeURIComponent(spec.name ?? "result.bin")}`;
}

/** The file a result URL names, or undefined for a URL that is no result file (any host). */
export function resultFileOf(url: string): Required<ResultFileSpec> | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const match = FILE_PATH.exec(parsed.pathname);
  if (match === null) return undefined;
  const [, bytes, chunkBytes, dripMs, declared, name] = match;
  return {
    bytes: Number(bytes),
    chunkBytes: Math.max(1, Number(chunkBytes)),
    dripMs: Number(dripMs),
    declared: declared === "exact" || declared === "none" ? declared : Number(declared),
    name: decodeURIComponent(name ?? "result.bin"),
  };
}

const MIME: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  mp4: "video/mp4",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  txt: "text/plain; charset=utf-8",
};

/** The content type a result file's name implies. */
export function contentTypeOf(name: string): string {
  return MIME[name.split(".").at(-1)?.toLowerCase() ?? ""] ?? "application/octet-stream";
}

/** Counts of what the result host served: bytes handed to readers, by URL path. */
export type ServedBytes = Map<string, number>;

/**
 * The response of a result host for `url`: a result file is generated
 * chunk by chunk as the reader pulls (memory stays one chunk whatever the
 * size), with a pause before each chunk for a drip; any other path is a
 * small file of 2,048 bytes. `served` counts the bytes each path handed out.
 */
export function resultResponse(url: string, served?: ServedBytes): Response {
  const spec = resultFileOf(url);
  const path = new URL(url).pathname;
  if (spec === undefined) {
    served?.set(path, (served.get(path) ?? 0) + 2048);
    return new Response(new Uint8Array(2048).fill(7), {
      headers: { "content-type": contentTypeOf(path), "content-length": "2048" },
    });
  }
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (sent >= spec.bytes) {
          controller.close();
          return;
        }
        if (sent > 0 && spec.dripMs > 0) await new Promise((resolve) => setTimeout(resolve, spec.dripMs));
        const size = Math.min(spec.chunkBytes, spec.bytes - sent);
        const chunk = new Uint8Array(size).fill(sent % 251);
        sent += size;
        served?.set(path, (served.get(path) ?? 0) + size);
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  const headers: Record<string, string> = { "content-type": contentTypeOf(spec.name) };
  if (spec.declared === "exact") headers["content-length"] = String(spec.bytes);
  else if (typeof spec.declared === "number") headers["content-length"] = String(spec.declared);
  return new Response(stream, { headers });
}

/** The large results a fake can answer on demand (for the chaos suite's mix). */
export type LargeResultKind = "long_text" | "many_urls" | "big_file" | "slow_drip";

/**
 * A large success for a task: a 40,000-character text, 2,000 URLs, a file
 * of `bigFileBytes` (default 1 GiB, past any `RESULT_MAX_MB`) or a file
 * that drips 1 KiB every 200 ms.
 */
export function largeResult(kind: LargeResultKind, taskId: string, bigFileBytes = 1024 * 1024 * 1024): FakeOutcome {
  switch (kind) {
    case "long_text":
      return { state: "success", urls: [], text: longResultText(40_000) };
    case "many_urls":
      return { state: "success", urls: manyResultUrls(taskId, 2_000) };
    case "big_file":
      return { state: "success", urls: [resultFileUrl({ bytes: bigFileBytes, name: `${taskId}.mp4` })] };
    case "slow_drip":
      return {
        state: "success",
        urls: [resultFileUrl({ bytes: 5 * 1024 * 1024, chunkBytes: 1024, dripMs: 200, name: `${taskId}.png` })],
      };
  }
}
