/**
 * KIE failures as typed errors: each has a `code` that callers branch on, a
 * message key users see (translated in the bot's Fluent files) and a line
 * for operators. Nothing here carries the API key.
 */

/** Every way a KIE call can fail. */
export const KIE_ERROR_CODES = [
  "unauthorized", // 401: the API key is wrong: an operator problem
  "insufficient_credits", // 402: the KIE account ran dry: an operator problem
  "not_found", // 404, 422 "recordInfo is null"
  "invalid_params", // 422
  "rate_limited", // 429, 433
  "maintenance", // 455
  "server_error", // 500, other 5xx
  "generation_failed", // 501 and a task's own failure
  "feature_disabled", // 505
  "timeout", // no answer in time: the outcome is unknown
  "network", // no connection: the request certainly did not arrive
  "malformed", // an answer that does not parse
  "circuit_open", // KIE failed repeatedly: failing fast for a while
] as const;
export type KieErrorCode = (typeof KIE_ERROR_CODES)[number];

/** True for the codes of {@link KieError} (jobs store failure codes as plain strings). */
export function isKieErrorCode(code: string): code is KieErrorCode {
  return (KIE_ERROR_CODES as readonly string[]).includes(code);
}

/** The Fluent message key that tells a user what a failure means, without internals. */
export function userMessageKeyOf(code: KieErrorCode): string {
  switch (code) {
    case "invalid_params":
      return "kie-error-params";
    case "generation_failed":
      return "kie-error-generation";
    case "rate_limited":
    case "maintenance":
    case "circuit_open":
    case "server_error":
    case "timeout":
    case "network":
      return "kie-error-busy";
    default:
      // 401, 402, 505, not found, malformed: our side must act; the user can only wait.
      return "kie-error-service";
  }
}

const BY_STATUS: Readonly<Record<number, KieErrorCode>> = {
  401: "unauthorized",
  402: "insufficient_credits",
  404: "not_found",
  408: "timeout",
  422: "invalid_params",
  429: "rate_limited",
  433: "rate_limited",
  455: "maintenance",
  500: "server_error",
  501: "generation_failed",
  505: "feature_disabled",
};

/** A failed KIE call. `status` is KIE's body code (or the HTTP status). */
export class KieError extends Error {
  override readonly name = "KieError";
  constructor(
    readonly code: KieErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }

  /** The error for a KIE body code (or HTTP status) other than 200. */
  static fromStatus(status: number, message: string): KieError {
    const code = BY_STATUS[status] ?? (status >= 500 ? "server_error" : "invalid_params");
    return new KieError(code, `KIE answered ${status}: ${message}`, status);
  }

  /** True when the service may answer differently soon (worth retrying a read). */
  get transient(): boolean {
    return ["rate_limited", "maintenance", "server_error", "timeout", "network"].includes(this.code);
  }

  /** The Fluent message key that tells a user what happened, without internals. */
  get userMessageKey(): string {
    return userMessageKeyOf(this.code);
  }
}
