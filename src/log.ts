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
  /** Secret values (tokens, keys) that must never appear in output. */
  readonly secrets: readonly string[];
}

const BOT_TOKEN_IN_TEXT = /\d{5,}:[A-Za-z0-9_-]{30,}/g;
const REDACTED = "[redacted]";

/** Replaces every secret (and anything shaped like a bot token) in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  return out.replace(BOT_TOKEN_IN_TEXT, REDACTED);
}

function redactDeep(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === "string") return redactSecrets(value, secrets);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  // pino applies `formatters.log` before serializers: errors are serialized here.
  if (value instanceof Error) return redactDeep(serializeError(value), secrets, depth + 1);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactDeep(item, secrets, depth + 1);
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
  const secrets = settings.secrets.filter((secret) => secret.length > 0);
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
