/**
 * Structured JSON logging (pino) with secrets removed from every line.
 *
 * pino's `redact` only knows fixed paths, but a bot token also hides inside
 * URLs of failed requests and error messages, so every string that is
 * logged goes through `redactSecrets` as well.
 */
import pino from "pino";
import type { Log } from "../actors/behavior.ts";

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How to log: plain data, so it can be handed to workers. */
export interface LogSettings {
  readonly level: LogLevel;
  /** Secret values (tokens, keys) that must never appear in output, in any of their `secretForms`. */
  readonly secrets: readonly string[];
}

const BOT_TOKEN_IN_TEXT = /\d{5,}:[A-Za-z0-9_-]{30,}/g;
/** An `Authorization` (or `Proxy-Authorization`) value, as a header line, a JSON field or a form field. */
const AUTHORIZATION_VALUE =
  /(authorization\\?["']?\s*[:=]\s*\\?["']?)(?:(basic|bearer|digest|token)\s+)?[^\s"'\\,;&}]+/gi;
/** A header object's credential field (`{ headers: { authorization: "..." } }`). */
const AUTHORIZATION_FIELD = /^(proxy-)?authorization$/i;
/** A `Basic`/`Bearer` credential outside a header (an echoed request, an error text); not a plain lowercase word. */
const SCHEME_CREDENTIAL = /\b(Basic|Bearer)\s+(?![a-z]+\b)[A-Za-z0-9\-._~+/]{12,}=*/g;
const REDACTED = "[redacted]";

function base64Of(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Every form a secret travels in: itself, its Base64 (standard and URL-safe,
 * without padding so padded copies match too), its URL encodings (percent,
 * lowercase percent, form `+`), and its escaped form inside JSON text. The
 * YooKassa credential is listed as `shopId:secretKey`, so its Basic header value
 * is one of these. Longest first, so a form is not broken up by a shorter one.
 */
export function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    const base64 = base64Of(secret).replace(/=+$/, "");
    const percent = encodeURIComponent(secret);
    for (const form of [
      secret,
      base64,
      base64.replace(/\+/g, "-").replace(/\//g, "_"),
      encodeURIComponent(base64),
      percent,
      percent.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      new URLSearchParams({ s: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ]) {
      if (form.length >= 4) forms.add(form);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * Replaces every secret form in `text` (from `secretForms`; a raw list works for
 * the raw values only), any `Authorization` value or `Basic`/`Bearer` credential,
 * and anything shaped like a bot token.
 */
export function redactSecrets(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (form.length >= 4) out = out.split(form).join(REDACTED);
  return out
    .replace(AUTHORIZATION_VALUE, (_match, label: string, scheme: string | undefined) =>
      scheme === undefined ? `${label}${REDACTED}` : `${label}${scheme} ${REDACTED}`,
    )
    .replace(SCHEME_CREDENTIAL, (_match, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(BOT_TOKEN_IN_TEXT, REDACTED);
}

function redactDeep(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === "string") return redactSecrets(value, secrets);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  // pino applies `formatters.log` before serializers: errors are serialized here.
  if (value instanceof Error) return redactDeep(serializeError(value), secrets, depth + 1);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // A header object's credential field hides whatever it holds, known secret or not.
    out[key] =
      typeof item === "string" && AUTHORIZATION_FIELD.test(key)
        ? redactSecrets(`${key}: ${item}`, secrets).slice(key.length + 2)
        : redactDeep(item, secrets, depth + 1);
  }
  return out;
}

/** Serializes errors with their cause and code, redacted. */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, error_code, description } = error as Error & Record<string, unknown>;
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    ...(code === undefined ? {} : { code }),
    ...(error_code === undefined ? {} : { error_code, description }),
    ...(error.cause === undefined ? {} : { cause: serializeError(error.cause) }),
  };
}

/** Creates a thread's logger; `destination` defaults to standard output. */
export function createLogger(
  settings: LogSettings,
  bindings: Record<string, unknown> = {},
  destination?: { write(line: string): void },
): Log {
  const secrets = secretForms(settings.secrets);
  return pino(
    {
      level: settings.level,
      base: bindings,
      formatters: { log: (object) => redactDeep(object, secrets, 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === "string" ? redactSecrets(arg, secrets) : arg)) as Parameters<
              typeof method
            >,
          );
        },
      },
    },
    ...(destination ? [destination] : []),
  );
}
