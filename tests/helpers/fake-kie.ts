/**
 * KIE as msw handlers, as strict as KIE: every create request is checked
 * against KIE's documented schema for its endpoint and model
 * (`catalog/kie-schema.ts`) and an invalid one is refused as KIE refuses it
 * (code 422 with a message; recorded in `refused`); valid ones get task
 * ids. Every status endpoint answers in its own family's shape from a
 * script the test controls; uploads are checked and return a tempfile URL;
 * the result host serves bytes, including large files streamed on demand
 * (see `fake-kie-core.ts`: long texts, hundreds of URLs, files over
 * `RESULT_MAX_MB`, slow drips).
 */
import { delay, HttpResponse, http } from "msw";
import type { SetupServer } from "msw/node";
import type { EndpointFamily } from "../../catalog/schema.ts";
import {
  CREATE_FAMILIES,
  CREDIT_PATH,
  checkCreate,
  checkUpload,
  creditAnswer,
  DEFAULT_FAKE_CREDITS,
  defaultSuccess,
  type FakeOutcome,
  type FakeUpload,
  KIE_BASE,
  KIE_UPLOAD_BASE,
  type KieRefusal,
  RESULT_HOST,
  resultResponse,
  type ServedBytes,
  STATUS_FAMILIES,
  statusData,
  UPLOAD_PATH,
} from "./fake-kie-core.ts";

export {
  type FakeOutcome,
  KIE_BASE,
  KIE_UPLOAD_BASE,
  type KieRefusal,
  type LargeResultKind,
  largeResult,
  longResultText,
  manyResultUrls,
  RESULT_HOST,
  type ResultFileSpec,
  resultFileUrl,
} from "./fake-kie-core.ts";

/** The API key tests configure (`tests/helpers/app.ts`). */
const API_KEY = "kie-test-key-123";

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
 * mid-submit); `state.credits` is the account's balance that
 * `/api/v1/chat/credit` answers (`creditReads` counts its reads). `refused`
 * lists every request KIE's docs refuse: a test of the bot expects it empty.
 */
export function fakeKie(
  options: { outcome?: (task: FakeTask) => FakeOutcome; createDelayMs?: number; credits?: number } = {},
) {
  const tasks = new Map<string, FakeTask>();
  const uploads: FakeUpload[] = [];
  const refused: KieRefusal[] = [];
  /** Bytes the result host handed out, by path (a reader that stops early takes fewer). */
  const served: ServedBytes = new Map();
  let next = 1;
  const state = {
    outcome: options.outcome ?? ((task: FakeTask) => (task.reads < 2 ? { state: "pending" } : successFor(task))),
    createDelayMs: options.createDelayMs,
    credits: options.credits ?? DEFAULT_FAKE_CREDITS,
    creditReads: 0,
  };
  const unauthorized = (request: Request) =>
    request.headers.get("authorization") === `Bearer ${API_KEY}`
      ? undefined
      : HttpResponse.json({ code: 401, msg: "You do not have access permissions" }, { status: 401 });
  const handlers = [
    ...Object.entries(CREATE_FAMILIES).map(([path, family]) =>
      http.post(`${KIE_BASE}${path}`, async ({ request }) => {
        const denied = unauthorized(request);
        if (denied) return denied;
        if (state.createDelayMs !== undefined) await delay(state.createDelayMs);
        let body: unknown;
        try {
          body = await request.json();
        } catch {
          refused.push({ path, code: 422, violations: ["the body is not JSON"] });
          return HttpResponse.json(
            { code: 422, msg: "Parameter validation failed: the body is not JSON", data: null },
            {
              status: 422,
            },
          );
        }
        const check = checkCreate(path, body, refused);
        if (!check.ok) return HttpResponse.json(check.answer.body, { status: check.answer.status });
        const taskId = `task_${family}_${next++}`;
        tasks.set(taskId, { taskId, family, path, body: body as Record<string, unknown>, reads: 0 });
        return HttpResponse.json({ code: 200, msg: "success", data: { taskId } });
      }),
    ),
    ...Object.entries(STATUS_FAMILIES).map(([path, family]) =>
      http.get(`${KIE_BASE}${path}`, ({ request }) => {
        const denied = unauthorized(request);
        if (denied) return denied;
        const taskId = new URL(request.url).searchParams.get("taskId");
        if (taskId === null || taskId === "") {
          return HttpResponse.json({ code: 400, msg: "taskId parameter is required", data: null });
        }
        const task = tasks.get(taskId);
        if (task === undefined || task.family !== family) {
          return HttpResponse.json({ code: 422, msg: "recordInfo is null", data: null });
        }
        task.reads++;
        return HttpResponse.json({ code: 200, msg: "success", data: statusData(family, task, state.outcome(task)) });
      }),
    ),
    http.post(`${KIE_UPLOAD_BASE}${UPLOAD_PATH}`, async ({ request }) => {
      if (request.headers.get("authorization") !== `Bearer ${API_KEY}`) {
        return HttpResponse.json(
          { success: false, code: 401, msg: "Authentication failed: Invalid API Key" },
          {
            status: 401,
          },
        );
      }
      let form: FormData;
      try {
        form = await request.formData();
      } catch {
        refused.push({ path: UPLOAD_PATH, code: 400, violations: ["the body is not multipart/form-data"] });
        return HttpResponse.json(
          { success: false, code: 400, msg: "Missing required parameter: file" },
          {
            status: 400,
          },
        );
      }
      const answer = checkUpload(form, refused, uploads);
      return HttpResponse.json(answer.body, { status: answer.status });
    }),
    http.get(`${KIE_BASE}${CREDIT_PATH}`, ({ request }) => {
      const denied = unauthorized(request);
      if (denied) return denied;
      state.creditReads++;
      return HttpResponse.json(creditAnswer(state.credits));
    }),
    http.get(`${RESULT_HOST}/*`, ({ request }) => resultResponse(request.url, served)),
  ];
  return { handlers, tasks, uploads, refused, served, state };
}

/** The default success of a family: an image, a video, tracks or a transcript. */
export function successFor(task: FakeTask): FakeOutcome {
  return defaultSuccess(task.family, task.taskId);
}

/**
 * msw clones every mocked response for its lifecycle events, and a clone
 * tees the body: the unread twin keeps a copy of every byte the reader
 * takes, and cancelling the body then waits forever for the twin. Call this
 * on a server that serves large result files so they stream as from a real
 * host (only what is read is made, and a cancel ends the stream).
 */
export function dropResponseClones(server: Pick<SetupServer, "events">): void {
  server.events.on("response:mocked", ({ response }) => {
    void response.body?.cancel();
  });
}
