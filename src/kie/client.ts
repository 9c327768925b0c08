/**
 * The KIE client: create a task, read its status, credits, download links
 * and file uploads. Every call has a timeout and every answer is parsed with
 * zod. Reads are retried with capped, jittered backoff. `createTask` is
 * retried only when KIE certainly did not accept the request (no
 * connection, 429, 5xx without a task id), never after a timeout, whose
 * outcome is unknown. A circuit breaker fails calls fast while KIE is down.
 */
import { z } from "zod";
import type { KieRequest } from "../../catalog/kie-request.ts";
import type { EndpointFamily } from "../../catalog/schema.ts";
import { CircuitBreaker } from "./circuit.ts";
import { CreateLimit } from "./create-limit.ts";
import { KieError } from "./errors.ts";
import { parseTaskStatus, STATUS_PATHS, type TaskStatus } from "./task-status.ts";

/** How the client reaches KIE. */
export interface KieClientOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly uploadBaseUrl: string;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly timeoutMs?: number;
  /** Upload calls move files and get longer. */
  readonly uploadTimeoutMs?: number;
  readonly maxAttempts?: number;
  readonly backoffMs?: { readonly base: number; readonly max: number };
  readonly circuit?: { readonly threshold: number; readonly openMs: number };
  /** New tasks per window this client may create (KIE's account limit is 20 per 10 s). */
  readonly createLimit?: { readonly count: number; readonly windowMs: number };
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Sees every HTTP call's endpoint (its path) and outcome ("ok" or the error code), for metrics. */
  readonly observe?: (endpoint: string, outcome: string) => void;
}

const Envelope = z.looseObject({
  code: z.number().int(),
  msg: z.string().nullish(),
  message: z.string().nullish(),
  data: z.unknown().optional(),
});

const TaskCreated = z.looseObject({ taskId: z.string().min(1) });
/** The two documented upload answers name the URL differently. */
const Uploaded = z
  .looseObject({ downloadUrl: z.string().url().optional(), fileUrl: z.string().url().optional() })
  .transform((data) => data.downloadUrl ?? data.fileUrl)
  .pipe(z.string());

/** Errors after which KIE certainly did not start a task. */
const NOT_ACCEPTED = new Set(["network", "rate_limited", "server_error", "maintenance"]);

export class KieClient {
  readonly circuit: CircuitBreaker;
  readonly #createLimit: CreateLimit;
  readonly #options: KieClientOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: KieClientOptions) {
    this.#options = options;
    this.circuit = new CircuitBreaker({ threshold: 5, openMs: 30_000, ...options.circuit, now: options.now });
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#createLimit = new CreateLimit({
      count: 20,
      windowMs: 10_000,
      ...options.createLimit,
      now: options.now,
      sleep: this.#sleep,
    });
  }

  /** Creates a task and returns its id; waits its turn under the create limit. */
  async createTask(request: KieRequest): Promise<string> {
    await this.#createLimit.take();
    const created = await this.#parsed(
      () => this.#call("POST", this.#options.baseUrl, request.path, request.body),
      TaskCreated,
      "createTask answered without a task id",
      (error) => NOT_ACCEPTED.has(error.code),
    );
    return created.taskId;
  }

  /** Reads where a task is. */
  async status(family: EndpointFamily, taskId: string): Promise<TaskStatus> {
    const path = `${STATUS_PATHS[family]}?taskId=${encodeURIComponent(taskId)}`;
    const data = await this.#withRetries(
      () => this.#call("GET", this.#options.baseUrl, path),
      (error) => error.transient,
    );
    try {
      return parseTaskStatus(family, data);
    } catch {
      throw new KieError("malformed", `the ${family} status of a task does not parse`);
    }
  }

  /** Remaining KIE credits of the account (admin statistics). */
  credits(): Promise<number> {
    return this.#parsed(
      () => this.#call("GET", this.#options.baseUrl, "/api/v1/chat/credit"),
      z.number(),
      "credit answered without a number",
    );
  }

  /** A 20-minute download link for a file KIE generated. */
  downloadUrl(url: string): Promise<string> {
    return this.#parsed(
      () => this.#call("POST", this.#options.baseUrl, "/api/v1/common/download-url", { url }),
      z.string().url(),
      "download-url answered without a URL",
    );
  }

  /**
   * Uploads a file's bytes (a user's photo, video or audio) and returns the
   * URL KIE will read it from. Bytes, not a URL: a Telegram file URL carries
   * the bot token and must not leave the bot.
   */
  uploadFile(
    file: { bytes: Uint8Array<ArrayBuffer>; fileName: string; mimeType: string },
    uploadPath: string,
  ): Promise<string> {
    return this.#parsed(
      () => {
        const form = new FormData();
        form.set("file", new Blob([file.bytes], { type: file.mimeType }), file.fileName);
        form.set("uploadPath", uploadPath);
        form.set("fileName", file.fileName);
        return this.#call("POST", this.#options.uploadBaseUrl, "/api/file-stream-upload", form);
      },
      Uploaded,
      "the upload answered without a URL",
    );
  }

  /** A call with retries whose `data` must match `schema` (else `malformed` with `problem`). */
  async #parsed<T>(
    call: () => Promise<unknown>,
    schema: z.ZodType<T>,
    problem: string,
    retryable: (error: KieError) => boolean = (error) => error.transient,
  ): Promise<T> {
    const parsed = schema.safeParse(await this.#withRetries(call, retryable));
    if (!parsed.success) throw new KieError("malformed", problem);
    return parsed.data;
  }

  async #withRetries(call: () => Promise<unknown>, retryable: (error: KieError) => boolean): Promise<unknown> {
    const attempts = this.#options.maxAttempts ?? 3;
    const { base, max } = this.#options.backoffMs ?? { base: 500, max: 8_000 };
    for (let attempt = 1; ; attempt++) {
      if (!this.circuit.allow())
        throw new KieError("circuit_open", "KIE failed repeatedly; not calling it for a while");
      try {
        const data = await call();
        this.circuit.succeeded();
        return data;
      } catch (error) {
        const kieError = error instanceof KieError ? error : new KieError("malformed", String(error));
        // Only failures of the service open the circuit; a refused parameter is not one.
        if (kieError.transient || kieError.code === "malformed") this.circuit.failed();
        else this.circuit.succeeded();
        if (attempt >= attempts || !retryable(kieError)) throw kieError;
        const ceiling = Math.min(max, base * 2 ** (attempt - 1));
        await this.#sleep(ceiling / 2 + this.#random() * (ceiling / 2));
      }
    }
  }

  async #call(method: "GET" | "POST", baseUrl: string, path: string, body?: unknown): Promise<unknown> {
    try {
      const data = await this.#request(method, baseUrl, path, body);
      this.#options.observe?.(pathOnly(path), "ok");
      return data;
    } catch (error) {
      this.#options.observe?.(pathOnly(path), error instanceof KieError ? error.code : "error");
      throw error;
    }
  }

  async #request(method: "GET" | "POST", baseUrl: string, path: string, body?: unknown): Promise<unknown> {
    const form = body instanceof FormData;
    const timeoutMs = form ? (this.#options.uploadTimeoutMs ?? 120_000) : (this.#options.timeoutMs ?? 20_000);
    let response: Response;
    try {
      response = await this.#options.fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#options.apiKey}`,
          ...(body === undefined || form ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: form ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw transportError(error, method, path);
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      if (response.status >= 500 || response.status === 429) throw KieError.fromStatus(response.status, "no JSON body");
      throw new KieError("malformed", `${method} ${pathOnly(path)} answered HTTP ${response.status} without JSON`);
    }
    const envelope = Envelope.safeParse(json);
    if (!envelope.success) {
      if (!response.ok) throw KieError.fromStatus(response.status, "unexpected body");
      throw new KieError("malformed", `${method} ${pathOnly(path)} answered an unknown shape`);
    }
    const { code, msg, message, data } = envelope.data;
    if (code !== 200) throw KieError.fromStatus(code, msg ?? message ?? "");
    return data;
  }
}

function pathOnly(path: string): string {
  return path.split("?")[0] ?? path;
}

/**
 * A failed request: `timeout` when the outcome is unknown (KIE may have
 * accepted it), `network` only when the connection was never made.
 */
function transportError(error: unknown, method: string, path: string): KieError {
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new KieError("timeout", `${method} ${pathOnly(path)} timed out`);
  }
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  if (cause === "ECONNREFUSED" || cause === "ENOTFOUND" || cause === "EAI_AGAIN") {
    return new KieError("network", `${method} ${pathOnly(path)}: ${cause}`);
  }
  return new KieError("timeout", `${method} ${pathOnly(path)} failed mid-request (${cause ?? name ?? "unknown"})`);
}
