/**
 * Status answers shaped as KIE sends them (every documented field, nulls
 * where KIE sends null, `progress: null` on every family), parsed into the
 * bot's one task status.
 */
import { describe, expect, it } from "vitest";
import type { EndpointFamily } from "../catalog/schema.ts";
import { parseTaskStatus, type TaskStatus } from "../src/kie/task-status.ts";

const TIMES = { createTime: 1_765_178_608_584, updateTime: 1_765_178_623_584 };
const PARAM = JSON.stringify({
  model: "google/nano-banana",
  callBackUrl: "https://kie-callback.invalid/kie/callback",
  input: { prompt: "рыжая лиса 🦊" },
});

/** A market recordInfo `data` (docs.kie.ai/market/common/get-task-detail). */
const market = (fields: Record<string, unknown>) => ({
  taskId: "task_google_1765178608584",
  model: "google/nano-banana",
  param: PARAM,
  resultJson: "",
  failCode: "",
  failMsg: "",
  costTime: null,
  completeTime: null,
  progress: null,
  ...TIMES,
  ...fields,
});

/** A Veo, 4o Image, Flux Kontext or Midjourney record-info `data`. */
const flagged = (fields: Record<string, unknown>) => ({
  taskId: "veo_task_abcdef123456",
  paramJson: PARAM,
  completeTime: null,
  response: null,
  successFlag: 0,
  errorCode: null,
  errorMessage: null,
  progress: null,
  createTime: "2026-08-19 10:30:00",
  ...fields,
});

/** A Suno record-info `data` (docs.kie.ai/suno-api/get-music-details). */
const suno = (fields: Record<string, unknown>) => ({
  taskId: "5c79****be8e",
  parentMusicId: "",
  param: PARAM,
  response: null,
  status: "PENDING",
  type: "chirp-v5",
  operationType: "generate",
  errorCode: null,
  errorMessage: null,
  progress: null,
  ...fields,
});

/** A Runway record-detail `data` (docs.kie.ai/runway-api/get-ai-video-details). */
const runway = (fields: Record<string, unknown>) => ({
  taskId: "ee603959-debb-48d1-98c4-a6d1c717eba6",
  parentTaskId: "",
  generateParam: { prompt: "лиса бежит 🦊", imageUrl: "", expandPrompt: true },
  state: "wait",
  generateTime: "2026-08-19 10:30:00",
  videoInfo: null,
  failCode: null,
  failMsg: null,
  expireFlag: 0,
  progress: null,
  ...fields,
});

const URL_A = "https://tempfile.aiquickdraw.com/i/a.png";
const URL_B = "https://tempfile.aiquickdraw.com/i/b.png";

const cases: [string, EndpointFamily, unknown, TaskStatus][] = [
  ["market waiting", "market", market({ state: "waiting" }), { state: "pending" }],
  ["market generating, progress null", "market", market({ state: "generating" }), { state: "running" }],
  [
    "market generating, Sora progress",
    "market",
    market({ state: "generating", progress: 35 }),
    { state: "running", progress: 35 },
  ],
  [
    "market success, progress null",
    "market",
    market({ state: "success", resultJson: JSON.stringify({ resultUrls: [URL_A] }), costTime: 15_000 }),
    { state: "succeeded", urls: [URL_A] },
  ],
  [
    "market fail with null result",
    "market",
    market({ state: "fail", resultJson: null, failCode: "500", failMsg: "Internal server error" }),
    { state: "failed", failCode: "500", failMessage: "Internal server error" },
  ],
  ["veo generating, progress null", "veo", flagged({}), { state: "running" }],
  [
    "veo success",
    "veo",
    flagged({
      successFlag: 1,
      response: { taskId: "veo_task_abcdef123456", resultUrls: [URL_A], originUrls: null, resolution: "720p" },
    }),
    { state: "succeeded", urls: [URL_A] },
  ],
  ["gpt4o-image generating, progress null", "gpt4o-image", flagged({ status: "GENERATING" }), { state: "running" }],
  [
    "gpt4o-image generating, progress string",
    "gpt4o-image",
    flagged({ status: "GENERATING", progress: "0.40" }),
    { state: "running", progress: 40 },
  ],
  [
    "gpt4o-image failed",
    "gpt4o-image",
    flagged({ status: "GENERATE_FAILED", successFlag: 2, errorCode: 400, errorMessage: "Запрос отклонён" }),
    { state: "failed", failCode: "400", failMessage: "Запрос отклонён" },
  ],
  ["flux-kontext generating, progress null", "flux-kontext", flagged({}), { state: "running" }],
  [
    "flux-kontext success",
    "flux-kontext",
    flagged({ successFlag: 1, response: { originImageUrl: URL_B, resultImageUrl: URL_A } }),
    { state: "succeeded", urls: [URL_A] },
  ],
  ["midjourney generating, progress null", "midjourney", flagged({ resultInfoJson: null }), { state: "running" }],
  [
    "midjourney success",
    "midjourney",
    flagged({ successFlag: 1, resultInfoJson: { resultUrls: [{ resultUrl: URL_A }, { resultUrl: URL_B }] } }),
    { state: "succeeded", urls: [URL_A, URL_B] },
  ],
  ["suno pending, progress null", "suno", suno({}), { state: "running" }],
  [
    "suno text success, tracks without audio yet",
    "suno",
    suno({ status: "TEXT_SUCCESS", response: { taskId: "5c79****be8e", sunoData: [{ id: "1", audioUrl: "" }] } }),
    { state: "running" },
  ],
  [
    "suno success",
    "suno",
    suno({
      status: "SUCCESS",
      response: {
        taskId: "5c79****be8e",
        sunoData: [
          { id: "1", audioUrl: URL_A, streamAudioUrl: URL_A, title: "Лисья песня 🦊", duration: 198.44 },
          { id: "2", audioUrl: URL_B, streamAudioUrl: URL_B, title: "Лисья песня 🦊", duration: 201.1 },
        ],
      },
    }),
    { state: "succeeded", urls: [URL_A, URL_B] },
  ],
  ["runway wait, progress null", "runway", runway({}), { state: "pending" }],
  ["runway generating, progress null", "runway", runway({ state: "generating" }), { state: "running" }],
  [
    "runway success",
    "runway",
    runway({ state: "success", videoInfo: { videoId: "v1", videoUrl: URL_A, imageUrl: URL_B } }),
    { state: "succeeded", urls: [URL_A] },
  ],
];

describe("status answers as KIE sends them", () => {
  it.each(cases)("%s", (_name, family, data, expected) => {
    expect(parseTaskStatus(family, data)).toEqual(expected);
  });

  it("every family reads `progress: null` on a running task without failing", () => {
    const running: [EndpointFamily, unknown][] = [
      ["market", market({ state: "generating", progress: null })],
      ["veo", flagged({ progress: null })],
      ["gpt4o-image", flagged({ progress: null })],
      ["flux-kontext", flagged({ progress: null })],
      ["midjourney", flagged({ progress: null })],
      ["suno", suno({ progress: null })],
      ["runway", runway({ state: "generating", progress: null })],
    ];
    for (const [family, data] of running) expect(parseTaskStatus(family, data).state, family).toBe("running");
  });
});
