/**
 * The YooKassa REST client: create a payment or a refund (with an
 * Idempotence-Key that a retry reuses), read a payment back and list a
 * payment's refunds. Every answer is parsed with zod;
 * amounts cross the boundary as kopecks. 429 and 5xx are retried with the
 * same key, as YooKassa asks; other errors are typed and carry no secrets.
 */
import { z } from "zod";

/** How the client reaches YooKassa. */
export interface YooKassaOptions {
  readonly shopId: string;
  readonly secretKey: string;
  /** `https://api.yookassa.ru/v3` in production. */
  readonly apiUrl: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const Amount = z.object({ value: z.string().regex(/^\d+\.\d{2}$/), currency: z.string() });

/** A payment as YooKassa reports it (the fields the bot relies on). */
export const YooPayment = z.looseObject({
  id: z.string().min(1).max(64),
  status: z.enum(["pending", "waiting_for_capture", "succeeded", "canceled"]),
  paid: z.boolean(),
  amount: Amount,
  confirmation: z.looseObject({ type: z.string(), confirmation_url: z.url().optional() }).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  cancellation_details: z.looseObject({ reason: z.string() }).optional(),
});
export type YooPayment = z.infer<typeof YooPayment>;

/** A refund as YooKassa reports it. */
export const YooRefund = z.looseObject({
  id: z.string().min(1),
  status: z.enum(["pending", "succeeded", "canceled"]),
  payment_id: z.string(),
  amount: Amount.optional(),
});
export type YooRefund = z.infer<typeof YooRefund>;

/** A page of a list (`GET /refunds`): its items and the cursor of the next page, if any. */
const YooRefundList = z.looseObject({
  type: z.literal("list"),
  items: z.array(YooRefund),
  next_cursor: z.string().min(1).optional(),
});

/** Pages of a payment's refunds read at most (a payment has a handful). */
const MAX_REFUND_PAGES = 5;

const YooErrorBody = z.looseObject({
  type: z.literal("error"),
  code: z.string().optional(),
  description: z.string().optional(),
});

export type YooKassaErrorCode =
  | "unauthorized" // 401, 403: the shop id or key is wrong: an operator problem
  | "bad_request" // 400
  | "not_found" // 404
  | "rate_limited" // 429
  | "server_error" // 5xx
  | "network" // no answer
  | "malformed"; // an answer that does not parse

/** A failed YooKassa call. */
export class YooKassaError extends Error {
  override readonly name = "YooKassaError";
  constructor(
    readonly code: YooKassaErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** True when the same request (with the same key) may succeed later. */
  get retryable(): boolean {
    return this.code === "rate_limited" || this.code === "server_error" || this.code === "network";
  }

  /**
   * True when the request may have been carried out although no clear answer
   * came back (retryable, or an answer that does not parse): what it did is
   * found by asking again under the same key, never assumed.
   */
  get ambiguous(): boolean {
    return this.retryable || this.code === "malformed";
  }
}

/** `"100.00"` for 10,000 kopecks. */
export function rubValue(kopecks: number): string {
  return `${Math.floor(kopecks / 100)}.${String(kopecks % 100).padStart(2, "0")}`;
}

/** Kopecks of a YooKassa amount value (`"100.00"`). */
export function kopecksOf(value: string): number {
  const [rub = "0", kop = "0"] = value.split(".");
  return Number(rub) * 100 + Number(kop.padEnd(2, "0").slice(0, 2));
}

export class YooKassaClient {
  readonly #options: YooKassaOptions;
  readonly #auth: string;

  constructor(options: YooKassaOptions) {
    this.#options = options;
    this.#auth = `Basic ${btoa(`${options.shopId}:${options.secretKey}`)}`;
  }

  /** Creates a payment; a retry of the same attempt must pass the same `idempotenceKey`. */
  createPayment(request: {
    readonly idempotenceKey: string;
    readonly kopecks: number;
    readonly description: string;
    readonly metadata: Readonly<Record<string, string>>;
    readonly returnUrl: string;
  }): Promise<YooPayment> {
    const body = {
      amount: { value: rubValue(request.kopecks), currency: "RUB" },
      capture: true,
      confirmation: { type: "redirect", return_url: request.returnUrl },
      description: request.description.slice(0, 128),
      metadata: request.metadata,
    };
    return this.#call("POST", "/payments", request.idempotenceKey, body, YooPayment);
  }

  /** Refunds `kopecks` of a payment; a retry of the same refund must pass the same `idempotenceKey`. */
  async createRefund(request: {
    readonly idempotenceKey: string;
    readonly paymentId: string;
    readonly kopecks: number;
  }): Promise<YooRefund> {
    const body = { payment_id: request.paymentId, amount: { value: rubValue(request.kopecks), currency: "RUB" } };
    const answer = await this.#call("POST", "/refunds", request.idempotenceKey, body, YooRefund);
    if (answer.status === "canceled") throw new YooKassaError("bad_request", "YooKassa canceled the refund");
    return answer;
  }

  /**
   * The refunds of a payment (`GET /refunds?payment_id=`), every page: how a
   * refund is found once YooKassa no longer keeps its Idempotence-Key.
   */
  async listRefunds(paymentId: string): Promise<YooRefund[]> {
    const refunds: YooRefund[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_REFUND_PAGES; page++) {
      const query = new URLSearchParams({ payment_id: paymentId, limit: "100", ...(cursor ? { cursor } : {}) });
      const listed = await this.#call("GET", `/refunds?${query}`, undefined, undefined, YooRefundList);
      refunds.push(...listed.items);
      cursor = listed.next_cursor;
      if (cursor === undefined) return refunds;
    }
    throw new YooKassaError("malformed", "YooKassa listed more refunds of one payment than expected");
  }

  /** Reads a payment (the only source the bot trusts for its status and amount). */
  getPayment(id: string): Promise<YooPayment> {
    return this.#call("GET", `/payments/${encodeURIComponent(id)}`, undefined, undefined, YooPayment);
  }

  async #call<T>(
    method: "GET" | "POST",
    path: string,
    idempotenceKey: string | undefined,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const attempts = this.#options.maxAttempts ?? 3;
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(method, path, idempotenceKey, body, schema);
      } catch (error) {
        if (!(error instanceof YooKassaError) || !error.retryable || attempt >= attempts) throw error;
        await sleep(500 * 2 ** (attempt - 1));
      }
    }
  }

  async #once<T>(
    method: "GET" | "POST",
    path: string,
    idempotenceKey: string | undefined,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.#options.fetch(`${this.#options.apiUrl}${path}`, {
        method,
        headers: {
          authorization: this.#auth,
          ...(idempotenceKey ? { "idempotence-key": idempotenceKey } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 15_000),
      });
    } catch {
      throw new YooKassaError("network", `${method} ${path.split(/[/?]/)[1] ?? ""}: no answer`);
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const described = YooErrorBody.safeParse(json);
      const detail = described.success ? `${described.data.code ?? ""} ${described.data.description ?? ""}`.trim() : "";
      throw new YooKassaError(codeOfStatus(response.status), `YooKassa answered ${response.status} ${detail}`.trim());
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new YooKassaError(
        "malformed",
        `YooKassa answered ${method} ${path.split(/[/?]/)[1] ?? ""} with an unknown shape`,
      );
    return parsed.data;
  }
}

function codeOfStatus(status: number): YooKassaErrorCode {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  return "bad_request";
}
