/**
 * Typed outcomes that cross threads as plain data.
 *
 * Errors thrown across a comlink boundary lose their class and fields, so the
 * runtime answers with a discriminated union instead of throwing.
 */

/** Why a message to an actor did not produce a reply. */
export type ActorErrorCode =
  /** The actor's mailbox (or its host's) is full: try again later. */
  | "overloaded"
  /** No reply within the ask's deadline; the message may still run. */
  | "timeout"
  /** The state kept changing under the actor (another instance wrote it) after all retries. */
  | "conflict"
  /** The actor's handler threw; the actor was restarted from KV. */
  | "actor_failed"
  /** The worker hosting the actor died or hung while the message was in flight. */
  | "worker_crashed"
  /** KV could not be read or written. */
  | "store_failed"
  /** The runtime is stopping and takes no new messages. */
  | "stopped"
  /** No worker group hosts this kind of actor. */
  | "unknown_kind";

/** A typed actor error, safe to post between threads. */
export interface ActorError {
  readonly code: ActorErrorCode;
  readonly message: string;
}

/** Success with a value, or a typed error. */
export type Result<T, E = ActorError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** A successful result. */
export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

/** A failed result with an actor error. */
export function fail(code: ActorErrorCode, message: string): Result<never, ActorError> {
  return { ok: false, error: { code, message } };
}
