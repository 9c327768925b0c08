/**
 * A local KIE for benchmarks and worker-mode tests: a real HTTP server on 127.0.0.1 (reachable from
 * worker threads and other processes, unlike msw), as strict as KIE and as
 * `tests/helpers/fake-kie.ts`: every create request of every endpoint family
 * is checked against KIE's documented schema for its endpoint and model
 * (`catalog/kie-schema.ts`) and an invalid one is refused as KIE refuses it
 * (recorded in `refused`: the chaos suite counts each as a violation).
 * Uploads to `/api/file-stream-upload` are checked as documented. A task
 * reports `generating` until `generationMs` after its creation, then its
 * `result` (default: `success` with one result URL on KIE's tempfile host;
 * the bot hands it to Telegram by URL, so nothing is downloaded). Large
 * results on demand: `result` may answer a 40,000-character text
 * (`longResultText`), hundreds of URLs (`manyResultUrls`) or files of any
 * size, streamed and optionally dripped (`resultFileUrl`); the server serves
 * those files at the same path on its own address (`resultFileOnServer`).
 * Every API request must carry `authorization: Bearer <apiKey>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EndpointFamily } from "../../catalog/schema.ts";
import { signCallback } from "../../src/kie/callback-signature.ts";
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
  type KieRefusal,
  type LargeResultKind,
  largeResult,
  longResultText,
  manyResultUrls,
  RESULT_HOST,
  type ResultFileSpec,
  resultFileUrl,
} from "./fake-kie-core.ts";

/** A task as the fake created it. */
export interface FakeKieTask {
  readonly taskId: string;
  readonly family: EndpointFamily;
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** `performance.now()` of its creation. */
  readonly createdAt: number;
  /** When each status read arrived, in ms after the creation. */
  readonly readsAt: number[];
  /** `performance.now()` of the first status read that answered `success`. */
  succeededAt?: number;
}

export interface FakeKieOptions {
  readonly apiKey: string;
  /** How long a task generates before it succeeds. */
  readonly generationMs: number;
  /**
   * What a finished task reports (read once its `generationMs` is over).
   * Default: `success` with the family's usual result (one image, a video,
   * two tracks). Large results: `longResultText`, `manyResultUrls`, `resultFileUrl`.
   */
  readonly result?: (task: FakeKieTask) => FakeOutcome;
  /** Sees every task right after it was created (the answer is on its way). */
  readonly onCreate?: (task: FakeKieTask) => void;
  /** Faults to inject (chaos runs); without them every request is answered as documented. */
  readonly faults?: FakeKieFaults;
  /** KIE's callbacks to the bot (chaos runs); without them the fake calls no one. */
  readonly callbacks?: FakeKieCallbacks;
  /** The account's balance `/api/v1/chat/credit` answers at first (default {@link DEFAULT_FAKE_CREDITS}). */
  readonly credits?: number;
}

/**
 * Shares (0 to 1) of requests answered with a fault instead of their
 * answer, drawn in this order for each create and status read.
 */
export interface FakeKieFaults {
  /**
   * Requests held open for `hangMs` and then dropped, beyond the client's
   * timeout. A create that hangs still creates its task: KIE got it, only
   * the answer was lost (the outcome the bot cannot know).
   */
  readonly timeout?: number;
  /** How long a hanging request is held (default 25 s: the bot's KIE timeout is 20 s). */
  readonly hangMs?: number;
  /** HTTP 500 with KIE's error envelope; nothing is created. */
  readonly serverError?: number;
  /** HTTP 429 with KIE's error envelope; nothing is created. */
  readonly rateLimited?: number;
  /** HTTP 200 whose body is not JSON; nothing is created. */
  readonly malformedJson?: number;
  /** Share of tasks (decided at creation) that end in `success` without any result URL. */
  readonly emptyResult?: number;
  /** Random numbers in [0, 1), for reproducible runs (default `Math.random`). */
  readonly random?: () => number;
}

/**
 * KIE calls back a task's `callBackUrl` when it finishes. The fake posts,
 * signed as KIE signs (`src/kie/callback-signature.ts`), to the bot's
 * current local address instead of the public URL in the request; some
 * callbacks go twice, some early (while the task still generates) and
 * each batch goes out shuffled, so they arrive duplicated and out of order.
 */
export interface FakeKieCallbacks {
  readonly hmacKey: string;
  /** The bot's callback URL now; undefined while it is down (the callback is dropped, as after KIE's retries). */
  readonly target: () => string | undefined;
  /** Share of callbacks sent twice (the second up to a second later). */
  readonly duplicate?: number;
  /** Share of tasks whose callback is sent while they still generate (before `success`). */
  readonly early?: number;
  /** Callbacks due within this window go out together, shuffled (default 200 ms). */
  readonly batchMs?: number;
}

/** Faults and callback irregularities injected so far, by kind. */
export interface FakeKieFaultCounts {
  timeout: number;
  server_error: number;
  rate_limited: number;
  malformed_json: number;
  empty_result: number;
  callback_duplicate: number;
  callback_early: number;
  /** Batches of callbacks sent in another order than they fell due. */
  callback_reordered: number;
}

/** Callbacks sent, by the bot's answer ("dropped": the bot was down; "error": no answer). */
export type FakeKieCallbackCounts = Record<string, number>;

/** Request counts, for the benchmark's report. */
export interface FakeKieCounts {
  creates: number;
  statusReads: number;
  /** Status reads that answered `success`. */
  successReads: number;
  unauthorized: number;
  unknownTask: number;
  notFound: number;
  /** Create and upload requests refused as KIE refuses them (each is in `refused`). */
  refused: number;
  uploads: number;
  /** Callbacks not sent because the task's `callBackUrl` reaches nobody (the bot polls). */
  callbackUnreachable: number;
}

/** A callback waiting to be sent. */
interface DueCallback {
  readonly taskId: string;
  readonly dueAt: number;
  readonly seq: number;
}

export async function startFakeKieServer(options: FakeKieOptions) {
  const tasks = new Map<string, FakeKieTask>();
  const faults = options.faults;
  const random = faults?.random ?? Math.random;
  const emptyResultTasks = new Set<string>();
  const faultCounts: FakeKieFaultCounts = {
    timeout: 0,
    server_error: 0,
    rate_limited: 0,
    malformed_json: 0,
    empty_result: 0,
    callback_duplicate: 0,
    callback_early: 0,
    callback_reordered: 0,
  };
  const callbackCounts: FakeKieCallbackCounts = {};
  const callbacks = options.callbacks === undefined ? undefined : startCallbacks(options.callbacks);
  const counts: FakeKieCounts = {
    creates: 0,
    statusReads: 0,
    successReads: 0,
    unauthorized: 0,
    unknownTask: 0,
    notFound: 0,
    refused: 0,
    uploads: 0,
    callbackUnreachable: 0,
  };
  const refused: KieRefusal[] = [];
  const uploads: FakeUpload[] = [];
  /** Bytes of result files handed out, by path. */
  const served: ServedBytes = new Map();
  /** The account's balance: what `/api/v1/chat/credit` answers (a test may change it). */
  const account = { credits: options.credits ?? DEFAULT_FAKE_CREDITS };
  let next = 1;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  /** Answers with a fault drawn for this request, if one is; true when it did. `onHang` runs before a hang. */
  const injectFault = (res: ServerResponse, onHang: () => void = () => undefined): boolean => {
    if (faults === undefined) return false;
    if (random() < (faults.timeout ?? 0)) {
      faultCounts.timeout++;
      onHang();
      const timer = setTimeout(() => res.destroy(), faults.hangMs ?? 25_000);
      res.once("close", () => clearTimeout(timer));
      return true;
    }
    if (random() < (faults.serverError ?? 0)) {
      faultCounts.server_error++;
      send(res, 500, { code: 500, msg: "Server Error", data: null });
      return true;
    }
    if (random() < (faults.rateLimited ?? 0)) {
      faultCounts.rate_limited++;
      send(res, 429, { code: 429, msg: "Too many requests", data: null });
      return true;
    }
    if (random() < (faults.malformedJson ?? 0)) {
      faultCounts.malformed_json++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"code": 200, "msg": "success", "data": {"taskId": ');
      return true;
    }
    return false;
  };

  const create = (res: ServerResponse, path: string, family: EndpointFamily, text: string) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      counts.refused++;
      refused.push({ path, code: 422, violations: ["the body is not JSON"] });
      return send(res, 422, { code: 422, msg: "Parameter validation failed: the body is not JSON", data: null });
    }
    const check = checkCreate(path, body, refused);
    if (!check.ok) {
      counts.refused++;
      return send(res, check.answer.status, check.answer.body);
    }
    const fields = body as Record<string, unknown>;
    const make = () => {
      const taskId = `task_${family}_${next++}`;
      const task: FakeKieTask = { taskId, family, path, body: fields, createdAt: performance.now(), readsAt: [] };
      tasks.set(taskId, task);
      counts.creates++;
      if (faults !== undefined && random() < (faults.emptyResult ?? 0)) {
        faultCounts.empty_result++;
        emptyResultTasks.add(taskId);
      }
      if (typeof fields.callBackUrl === "string") {
        // KIE's call to an address under .invalid fails at DNS: nobody hears of the task.
        if (unreachable(fields.callBackUrl)) counts.callbackUnreachable++;
        else callbacks?.schedule(taskId);
      }
      return task;
    };
    // A create that hangs was received: its task exists, only the answer is lost.
    if (injectFault(res, () => options.onCreate?.(make()))) return;
    const task = make();
    send(res, 200, { code: 200, msg: "success", data: { taskId: task.taskId } });
    options.onCreate?.(task);
  };

  const status = (res: ServerResponse, family: EndpointFamily, url: URL) => {
    const taskId = url.searchParams.get("taskId");
    if (taskId === null || taskId === "") {
      return send(res, 200, { code: 400, msg: "taskId parameter is required", data: null });
    }
    const task = tasks.get(taskId);
    if (task === undefined || task.family !== family) {
      counts.unknownTask++;
      return send(res, 200, { code: 422, msg: "recordInfo is null", data: null });
    }
    if (injectFault(res)) return;
    counts.statusReads++;
    const age = performance.now() - task.createdAt;
    task.readsAt.push(age);
    if (age < options.generationMs) {
      return send(res, 200, { code: 200, msg: "success", data: statusData(family, task, { state: "pending" }) });
    }
    const outcome: FakeOutcome = emptyResultTasks.has(task.taskId)
      ? { state: "success", urls: [] }
      : (options.result?.(task) ?? defaultSuccess(family, task.taskId));
    if (outcome.state === "success") {
      counts.successReads++;
      task.succeededAt ??= performance.now();
    }
    send(res, 200, { code: 200, msg: "success", data: statusData(family, task, outcome) });
  };

  const upload = async (res: ServerResponse, req: IncomingMessage, bytes: Buffer) => {
    let form: FormData;
    try {
      form = await new Request("http://127.0.0.1/upload", {
        method: "POST",
        headers: { "content-type": String(req.headers["content-type"] ?? "") },
        body: new Uint8Array(bytes),
      }).formData();
    } catch {
      counts.refused++;
      refused.push({ path: UPLOAD_PATH, code: 400, violations: ["the body is not multipart/form-data"] });
      return send(res, 400, { success: false, code: 400, msg: "Missing required parameter: file" });
    }
    const before = refused.length;
    const answer = checkUpload(form, refused, uploads);
    if (refused.length > before) counts.refused++;
    else counts.uploads++;
    send(res, answer.status, answer.body);
  };

  /** Streams a result file (generated as the client reads it) without holding it. */
  const resultFile = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const response = resultResponse(`${RESULT_HOST}${url.pathname}${url.search}`, served);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    const reader = response.body?.getReader();
    let closed = false;
    req.on("close", () => {
      closed = true;
      void reader?.cancel();
    });
    while (reader !== undefined && !closed) {
      const { done, value } = await reader.read();
      if (done) break;
      // Wait for the socket to drain: a slow reader slows the generation.
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off("drain", go).off("close", go);
            resolve();
          };
          res.on("drain", go).on("close", go);
        });
      }
    }
    res.end();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // Result files are public, as on KIE's tempfile hosts.
    if (req.method === "GET" && url.pathname.startsWith("/f/")) {
      void resultFile(req, res, url).catch(() => res.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
        counts.unauthorized++;
        return send(res, 401, { code: 401, msg: "You do not have access permissions" });
      }
      const createFamily = req.method === "POST" ? CREATE_FAMILIES[url.pathname] : undefined;
      if (createFamily !== undefined) {
        return create(res, url.pathname, createFamily, Buffer.concat(chunks).toString("utf8"));
      }
      const statusFamily = req.method === "GET" ? STATUS_FAMILIES[url.pathname] : undefined;
      if (statusFamily !== undefined) return status(res, statusFamily, url);
      if (req.method === "GET" && url.pathname === CREDIT_PATH) return send(res, 200, creditAnswer(account.credits));
      if (req.method === "POST" && url.pathname === UPLOAD_PATH) {
        void upload(res, req, Buffer.concat(chunks)).catch(() => res.destroy());
        return;
      }
      counts.notFound++;
      send(res, 404, { code: 404, msg: `no route ${req.method} ${url.pathname}` });
    });
  });
  // Thousands of concurrent requests arrive in a burst; the default backlog (511) is not the limit under test.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    tasks,
    counts,
    /** Every request refused as KIE refuses it: path, model and what is wrong (empty when the bot is right). */
    refused,
    /** Files uploaded to `/api/file-stream-upload`. */
    uploads,
    /** The account's balance in credits, as `/api/v1/chat/credit` answers it (set `credits` to change it). */
    account,
    /** Bytes of result files handed out so far, by path. */
    served,
    /** The address on this server that serves a result file URL from `resultFileUrl`. */
    resultFileOnServer: (resultUrl: string) => {
      const parsed = new URL(resultUrl);
      return `http://127.0.0.1:${port}${parsed.pathname}${parsed.search}`;
    },
    /** Faults injected so far, by kind (all zero without `faults` and `callbacks`). */
    faultCounts,
    /** Callbacks sent so far, by the bot's HTTP status ("dropped", "error"). */
    callbackCounts,
    close: () =>
      new Promise<void>((resolve) => {
        callbacks?.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  /**
   * KIE's callbacks: due when a task finishes (or early, while it still
   * generates), sent in shuffled batches, some twice.
   */
  function startCallbacks(settings: FakeKieCallbacks) {
    const due: DueCallback[] = [];
    let seq = 0;
    const queue = (taskId: string, dueAt: number) => due.push({ taskId, dueAt, seq: seq++ });
    const post = async (taskId: string) => {
      const target = settings.target();
      if (target === undefined) {
        callbackCounts.dropped = (callbackCounts.dropped ?? 0) + 1;
        return;
      }
      const task = tasks.get(taskId);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const finished = task !== undefined && performance.now() - task.createdAt >= options.generationMs;
      const body = {
        code: 200,
        msg: finished ? "success" : "generating",
        data: { taskId, model: String(task?.body.model ?? ""), state: finished ? "success" : "generating" },
      };
      try {
        const response = await fetch(target, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-webhook-timestamp": timestamp,
            "x-webhook-signature": await signCallback(settings.hmacKey, taskId, timestamp),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        await response.body?.cancel();
        const key = String(response.status);
        callbackCounts[key] = (callbackCounts[key] ?? 0) + 1;
      } catch {
        callbackCounts.error = (callbackCounts.error ?? 0) + 1;
      }
    };
    const flush = () => {
      const now = performance.now();
      const ready = due.filter((callback) => callback.dueAt <= now);
      if (ready.length === 0) return;
      for (const callback of ready) due.splice(due.indexOf(callback), 1);
      const shuffled = shuffle(ready);
      if (shuffled.some((callback, index) => callback.seq !== ready[index]?.seq)) faultCounts.callback_reordered++;
      for (const callback of shuffled) void post(callback.taskId);
    };
    const timer = setInterval(flush, settings.batchMs ?? 200);
    return {
      schedule(taskId: string) {
        const doneAt = performance.now() + options.generationMs;
        queue(taskId, doneAt);
        if (random() < (settings.duplicate ?? 0)) {
          faultCounts.callback_duplicate++;
          queue(taskId, doneAt + random() * 1_000);
        }
        if (random() < (settings.early ?? 0)) {
          faultCounts.callback_early++;
          queue(taskId, doneAt - random() * options.generationMs);
        }
      },
      stop: () => clearInterval(timer),
    };
  }

  /** A shuffled copy (Fisher-Yates with the fake's random numbers). */
  function shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

/** True for a callback address that reaches nobody: a host under the reserved `.invalid` domain (RFC 6761 §6.4). */
function unreachable(callBackUrl: string): boolean {
  try {
    const host = new URL(callBackUrl).hostname;
    return host === "invalid" || host.endsWith(".invalid");
  } catch {
    return true;
  }
}
