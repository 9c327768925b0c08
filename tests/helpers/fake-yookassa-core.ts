/**
 * What YooKassa's API v3 answers, without the transport (the HTTP server in
 * `fake-yookassa-server.ts` wraps it): as strict as YooKassa as documented
 * (`shared/reference/payments.md`, yookassa.ru/developers): Basic auth with
 * the shop id and secret key, an `Idempotence-Key` (at most 64 characters)
 * on every POST, the same key giving the same object back for a day and
 * the same key with another body refused, amounts as `{value: "100.00",
 * currency: "RUB"}`, a redirect confirmation that needs its `return_url`,
 * metadata of at most 16 string values, refunds only of a succeeded payment
 * and never beyond what is left of it. Error bodies are YooKassa's
 * `{type: "error", id, code, description, parameter?}`. Every refusal is
 * recorded (`refused`), and so is what the fake really did: payments that
 * succeeded, refunds made.
 */

/** A request as the transport read it (the path without the `/v3` prefix). */
export interface YooRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly idempotenceKey: string | undefined;
  readonly body: string;
}

export interface YooAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface YooAmount {
  readonly value: string;
  readonly currency: string;
}

/** A payment object as YooKassa returns it. */
export interface FakeYooPayment {
  id: string;
  status: "pending" | "waiting_for_capture" | "succeeded" | "canceled";
  paid: boolean;
  amount: YooAmount;
  income_amount?: YooAmount;
  refunded_amount?: YooAmount;
  description?: string;
  recipient: { account_id: string; gateway_id: string };
  created_at: string;
  captured_at?: string;
  confirmation?: { type: "redirect"; confirmation_url: string; return_url: string };
  test: boolean;
  refundable: boolean;
  metadata: Record<string, string>;
  cancellation_details?: { party: string; reason: string };
  payment_method?: { type: string; id: string; saved: boolean; title: string };
}

/** A refund object as YooKassa returns it. */
export interface FakeYooRefund {
  readonly id: string;
  readonly payment_id: string;
  readonly status: "succeeded";
  readonly created_at: string;
  readonly amount: YooAmount;
  readonly description?: string;
}

/** A request YooKassa refused, with why. */
export interface YooRefusal {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly code: string;
  readonly description: string;
  readonly parameter?: string;
  readonly idempotenceKey?: string;
  /** The request's body (its first 500 characters). */
  readonly body: string;
}

/** The longest Idempotence-Key YooKassa takes. */
export const IDEMPOTENCE_KEY_MAX = 64;
/** How long YooKassa remembers a key. */
export const IDEMPOTENCE_KEY_TTL_MS = 24 * 3_600_000;
const METADATA_KEYS_MAX = 16;
const METADATA_KEY_CHARS_MAX = 32;
const METADATA_VALUE_CHARS_MAX = 512;
const DESCRIPTION_MAX = 128;
/** What YooKassa says when a refund asks for more than the payment has left. */
export const REFUND_EXCEEDS_DESCRIPTION = "Refund amount exceeds the payment amount available for refund";

/** Kopecks of an amount value, or undefined when the value is not YooKassa's `"123.45"`. */
export function kopecksOfValue(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^\d{1,10}\.\d{2}$/.test(value)) return undefined;
  const [rub = "0", kop = "0"] = value.split(".");
  return Number(rub) * 100 + Number(kop);
}

/** `"100.00"` for 10,000 kopecks. */
export function valueOfKopecks(kopecks: number): string {
  return `${Math.floor(kopecks / 100)}.${String(kopecks % 100).padStart(2, "0")}`;
}

export interface FakeYooKassaCoreOptions {
  readonly shopId: string;
  readonly secretKey: string;
  /** Wall-clock ms (default `Date.now`): for `created_at` and the keys' day. */
  readonly now?: () => number;
  /** Sees each payment right after its creation (its answer is on its way). */
  readonly onPaymentCreated?: (payment: FakeYooPayment) => void;
}

interface KeyRecord {
  readonly fingerprint: string;
  readonly answer: YooAnswer;
  readonly at: number;
}

/** YooKassa's state and rules for one shop. */
export class FakeYooKassaCore {
  readonly payments = new Map<string, FakeYooPayment>();
  readonly refunds = new Map<string, FakeYooRefund>();
  /** Every request refused, oldest first. */
  readonly refused: YooRefusal[] = [];
  /** Requests answered, by endpoint (`POST /payments`, `GET /payments/{id}`, ...). */
  readonly counts: Record<string, number> = {};
  readonly #keys = new Map<string, KeyRecord>();
  /** Payments created with `capture: false`: paid, they wait for a capture. */
  readonly #manualCapture = new Set<string>();
  readonly #auth: string;
  readonly #now: () => number;
  #next = 1;

  constructor(private readonly options: FakeYooKassaCoreOptions) {
    this.#auth = `Basic ${Buffer.from(`${options.shopId}:${options.secretKey}`).toString("base64")}`;
    this.#now = options.now ?? Date.now;
  }

  /** Payments that succeeded (the money the shop took), oldest first. */
  succeeded(): FakeYooPayment[] {
    return [...this.payments.values()].filter((payment) => payment.status === "succeeded");
  }

  /** Refunds made of `paymentId`, oldest first. */
  refundsOf(paymentId: string): FakeYooRefund[] {
    return [...this.refunds.values()].filter((refund) => refund.payment_id === paymentId);
  }

  /** Kopecks refunded of `paymentId` so far. */
  refundedKopecks(paymentId: string): number {
    return this.refundsOf(paymentId).reduce((sum, refund) => sum + (kopecksOfValue(refund.amount.value) ?? 0), 0);
  }

  /**
   * The user paid (`succeeded`; `waiting_for_capture` for a payment created
   * with `capture: false`) or the payment was canceled. Returns the payment
   * as it is now, or undefined when it was already final.
   */
  settle(paymentId: string, outcome: "paid" | "canceled"): FakeYooPayment | undefined {
    const payment = this.payments.get(paymentId);
    if (payment === undefined || payment.status !== "pending") return undefined;
    if (outcome === "canceled") {
      payment.status = "canceled";
      payment.cancellation_details = { party: "yoo_money", reason: "expired_on_confirmation" };
      delete payment.confirmation;
      return { ...payment };
    }
    payment.paid = true;
    payment.payment_method = { type: "bank_card", id: payment.id, saved: false, title: "Bank card *4477" };
    delete payment.confirmation;
    if (this.#manualCapture.has(payment.id)) {
      payment.status = "waiting_for_capture";
    } else {
      payment.status = "succeeded";
      payment.captured_at = this.#iso();
      payment.income_amount = { ...payment.amount };
      payment.refundable = true;
    }
    return { ...payment };
  }

  /** Answers one API request. */
  handle(request: YooRequest): YooAnswer {
    const route = routeOf(request.method, request.path);
    if (route === undefined) return this.#refuse(request, 404, "not_found", "Unknown API method");
    this.counts[route.name] = (this.counts[route.name] ?? 0) + 1;
    if (request.authorization !== this.#auth) {
      return this.#refuse(request, 401, "invalid_credentials", "Login or password is incorrect");
    }
    if (request.method === "GET") return this.#get(request, route);
    const key = request.idempotenceKey;
    if (key === undefined || key === "") {
      return this.#refuse(request, 400, "invalid_request", "Idempotence key is missing", "Idempotence-Key");
    }
    if (key.length > IDEMPOTENCE_KEY_MAX) {
      return this.#refuse(
        request,
        400,
        "invalid_request",
        `Idempotence key is longer than ${IDEMPOTENCE_KEY_MAX} characters`,
        "Idempotence-Key",
      );
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(request.body);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      return this.#refuse(request, 400, "invalid_request", "Request body is not a JSON object");
    }
    // The same key again: the first answer, if the request is the same; refused if it is not.
    const fingerprint = `${route.name} ${JSON.stringify(body)}`;
    const seen = this.#keys.get(key);
    if (seen !== undefined && this.#now() - seen.at < IDEMPOTENCE_KEY_TTL_MS) {
      if (seen.fingerprint === fingerprint) return seen.answer;
      return this.#refuse(
        request,
        400,
        "invalid_request",
        "Idempotence key duplicated: a request with this key had other parameters",
        "Idempotence-Key",
      );
    }
    const answer = route.name === "POST /payments" ? this.#createPayment(request, body) : this.#refund(request, body);
    // Only what was done is remembered: a refused request may be sent again with the same key.
    if (answer.status === 200) this.#keys.set(key, { fingerprint, answer, at: this.#now() });
    return answer;
  }

  #get(request: YooRequest, route: { name: string; id?: string }): YooAnswer {
    if (route.name === "GET /payments/{id}") {
      const payment = this.payments.get(route.id ?? "");
      if (payment === undefined) return this.#refuse(request, 404, "not_found", "Payment doesn't exist");
      return { status: 200, body: { ...payment } };
    }
    if (route.name === "GET /refunds/{id}") {
      const refund = this.refunds.get(route.id ?? "");
      if (refund === undefined) return this.#refuse(request, 404, "not_found", "Refund doesn't exist");
      return { status: 200, body: refund };
    }
    // GET /refunds: newest first, as YooKassa lists them; filtered by payment_id when given.
    const paymentId = request.query.get("payment_id");
    const items = [...this.refunds.values()]
      .filter((refund) => paymentId === null || refund.payment_id === paymentId)
      .reverse();
    return { status: 200, body: { type: "list", items } };
  }

  #createPayment(request: YooRequest, body: Record<string, unknown>): YooAnswer {
    const amount = this.#amount(request, body.amount, "amount");
    if ("refusal" in amount) return amount.refusal;
    const confirmation = body.confirmation as { type?: unknown; return_url?: unknown } | undefined;
    if (typeof confirmation !== "object" || confirmation === null || confirmation.type !== "redirect") {
      return this.#refuse(
        request,
        400,
        "invalid_request",
        "Confirmation type is missing or not redirect",
        "confirmation",
      );
    }
    if (typeof confirmation.return_url !== "string" || !/^https?:\/\/\S+$/.test(confirmation.return_url)) {
      return this.#refuse(
        request,
        400,
        "invalid_request",
        "Return URL is missing or invalid",
        "confirmation.return_url",
      );
    }
    if (body.capture !== undefined && typeof body.capture !== "boolean") {
      return this.#refuse(request, 400, "invalid_request", "Capture must be a boolean", "capture");
    }
    if (body.description !== undefined) {
      if (typeof body.description !== "string" || body.description.length > DESCRIPTION_MAX) {
        return this.#refuse(
          request,
          400,
          "invalid_request",
          `Description must be a string of at most ${DESCRIPTION_MAX} characters`,
          "description",
        );
      }
    }
    const metadata = this.#metadata(request, body.metadata);
    if ("refusal" in metadata) return metadata.refusal;
    const id = this.#id();
    const payment: FakeYooPayment = {
      id,
      status: "pending",
      paid: false,
      amount: { value: valueOfKopecks(amount.kopecks), currency: "RUB" },
      ...(typeof body.description === "string" ? { description: body.description } : {}),
      recipient: { account_id: this.options.shopId, gateway_id: "100500" },
      created_at: this.#iso(),
      confirmation: {
        type: "redirect",
        confirmation_url: `https://yoomoney.ru/checkout/payments/v2/contract?orderId=${id}`,
        return_url: confirmation.return_url,
      },
      test: true,
      refundable: false,
      metadata: metadata.values,
    };
    if (body.capture === false) this.#manualCapture.add(id);
    this.payments.set(id, payment);
    this.options.onPaymentCreated?.({ ...payment });
    return { status: 200, body: { ...payment } };
  }

  #refund(request: YooRequest, body: Record<string, unknown>): YooAnswer {
    if (typeof body.payment_id !== "string" || body.payment_id === "") {
      return this.#refuse(request, 400, "invalid_request", "Payment id is missing", "payment_id");
    }
    const payment = this.payments.get(body.payment_id);
    if (payment === undefined) {
      return this.#refuse(request, 400, "invalid_request", "Payment doesn't exist", "payment_id");
    }
    const amount = this.#amount(request, body.amount, "amount");
    if ("refusal" in amount) return amount.refusal;
    if (payment.status !== "succeeded") {
      return this.#refuse(
        request,
        400,
        "invalid_request",
        `A payment with status ${payment.status} can't be refunded`,
        "payment_id",
      );
    }
    const paid = kopecksOfValue(payment.amount.value) ?? 0;
    if (amount.kopecks > paid - this.refundedKopecks(payment.id)) {
      return this.#refuse(request, 400, "invalid_request", REFUND_EXCEEDS_DESCRIPTION, "amount");
    }
    if (body.description !== undefined && (typeof body.description !== "string" || body.description.length > 250)) {
      return this.#refuse(request, 400, "invalid_request", "Description is too long", "description");
    }
    const refund: FakeYooRefund = {
      id: this.#id(),
      payment_id: payment.id,
      status: "succeeded",
      created_at: this.#iso(),
      amount: { value: valueOfKopecks(amount.kopecks), currency: "RUB" },
      ...(typeof body.description === "string" ? { description: body.description } : {}),
    };
    this.refunds.set(refund.id, refund);
    const refunded = this.refundedKopecks(payment.id);
    payment.refunded_amount = { value: valueOfKopecks(refunded), currency: "RUB" };
    payment.refundable = refunded < paid;
    return { status: 200, body: refund };
  }

  #amount(
    request: YooRequest,
    amount: unknown,
    parameter: string,
  ): { readonly kopecks: number } | { readonly refusal: YooAnswer } {
    const given = amount as { value?: unknown; currency?: unknown } | undefined;
    if (typeof given !== "object" || given === null) {
      return { refusal: this.#refuse(request, 400, "invalid_request", "Amount is missing", parameter) };
    }
    const kopecks = kopecksOfValue(given.value);
    if (kopecks === undefined || kopecks <= 0) {
      return {
        refusal: this.#refuse(
          request,
          400,
          "invalid_request",
          "Amount value must be a positive number with two decimals, as a string",
          `${parameter}.value`,
        ),
      };
    }
    if (given.currency !== "RUB") {
      return {
        refusal: this.#refuse(request, 400, "invalid_request", "Currency must be RUB", `${parameter}.currency`),
      };
    }
    return { kopecks };
  }

  #metadata(
    request: YooRequest,
    metadata: unknown,
  ): { readonly values: Record<string, string> } | { readonly refusal: YooAnswer } {
    if (metadata === undefined) return { values: {} };
    const refuse = (description: string) => ({
      refusal: this.#refuse(request, 400, "invalid_request", description, "metadata"),
    });
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      return refuse("Metadata must be an object");
    }
    const entries = Object.entries(metadata);
    if (entries.length > METADATA_KEYS_MAX) return refuse(`Metadata may have at most ${METADATA_KEYS_MAX} keys`);
    const values: Record<string, string> = {};
    for (const [key, value] of entries) {
      if (key.length > METADATA_KEY_CHARS_MAX)
        return refuse(`Metadata keys are at most ${METADATA_KEY_CHARS_MAX} characters`);
      if (typeof value !== "string" || value.length > METADATA_VALUE_CHARS_MAX) {
        return refuse(`Metadata values are strings of at most ${METADATA_VALUE_CHARS_MAX} characters`);
      }
      values[key] = value;
    }
    return { values };
  }

  #refuse(request: YooRequest, status: number, code: string, description: string, parameter?: string): YooAnswer {
    this.refused.push({
      method: request.method,
      path: request.path,
      status,
      code,
      description,
      ...(parameter ? { parameter } : {}),
      ...(request.idempotenceKey ? { idempotenceKey: request.idempotenceKey } : {}),
      body: request.body.slice(0, 500),
    });
    return {
      status,
      body: { type: "error", id: this.#id(), code, description, ...(parameter ? { parameter } : {}) },
    };
  }

  /** An id shaped like YooKassa's (a UUID-like string). */
  #id(): string {
    const n = (this.#next++).toString(16).padStart(12, "0");
    return `2e${n.slice(0, 6)}-000f-5000-a000-${n}`;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

/** The endpoint a request names, with the id in its path. */
function routeOf(method: string, path: string): { name: string; id?: string } | undefined {
  const clean = path.replace(/\/+$/, "");
  if (method === "POST" && clean === "/payments") return { name: "POST /payments" };
  if (method === "POST" && clean === "/refunds") return { name: "POST /refunds" };
  if (method === "GET" && clean === "/refunds") return { name: "GET /refunds" };
  const payment = clean.match(/^\/payments\/([^/]+)$/);
  if (method === "GET" && payment?.[1]) return { name: "GET /payments/{id}", id: decodeURIComponent(payment[1]) };
  const refund = clean.match(/^\/refunds\/([^/]+)$/);
  if (method === "GET" && refund?.[1]) return { name: "GET /refunds/{id}", id: decodeURIComponent(refund[1]) };
  return undefined;
}
