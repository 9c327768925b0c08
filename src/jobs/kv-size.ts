/**
 * How big a value is once Deno KV stores it, and the size budgets of the
 * records kept in KV. Deno KV refuses a value over 64 KiB, and it stores
 * values in V8's serialization format (Deno's `core.serialize`, `v8.serialize`
 * in `@deno/kv` on Node), so a value is measured in that format's bytes, not
 * in JSON characters: a Cyrillic or emoji string takes two bytes per UTF-16
 * unit, a Latin one one byte per character.
 *
 * `serializedSize` is an upper bound of `v8.serialize(value).length` for
 * plain data (objects, dense arrays, strings, numbers, booleans, null):
 * `tests/jobs.kv-budget.test.ts` checks it against `node:v8`. An array that
 * zod or `Array(n)` built is holey and serializes larger (every element then
 * carries its index): {@link denseCopy} rebuilds restored values densely so
 * that what was written once can be written again.
 */

/** Deno KV's largest value (denokv `MAX_VALUE_SIZE_BYTES`). */
export const KV_VALUE_LIMIT = 65_536;

/** Deno KV's largest total size of one atomic operation's mutations (denokv `MAX_TOTAL_MUTATION_SIZE_BYTES`). */
export const KV_COMMIT_LIMIT = 819_200;

/** The user actor's state: one value, kept under half the limit whatever the user does (proven by tests). */
export const USER_STATE_BUDGET = 32 * 1024;

/**
 * The largest user state a turn may save: KV would refuse a larger one with
 * the rest of the commit. Between the budget and this, a state still saves
 * (one that grew past its budget, say one saved by an older version, must
 * not lock its user out).
 */
export const USER_STATE_LIMIT = KV_VALUE_LIMIT - 4 * 1024;

/**
 * The answers of a wizard in progress (prompts and files, as stored): two
 * prompts of 5,000 Cyrillic letters fit, two of 5,000 emoji do not. The job
 * made from them and its history entry carry the same answers.
 */
export const WIZARD_ANSWERS_BUDGET = 20 * 1024;

/** A job record (its prompts, parameters and files) and the history entry made from it. */
export const JOB_RECORD_BUDGET = 28 * 1024;

/** One record of a job's result (a share of its URLs and text). */
export const RESULT_CHUNK_BUDGET = 32 * 1024;

/**
 * Records one result may take: at most `MAX_RESULT_CHUNKS * RESULT_CHUNK_BUDGET`
 * (384 KiB) in the commit of the job's success, which also carries the
 * state, the job record and the history entry, well under {@link KV_COMMIT_LIMIT}.
 */
export const MAX_RESULT_CHUNKS = 12;

/** Bytes V8 uses for the unsigned varint `n`. */
function varintSize(n: number): number {
  let size = 1;
  let rest = Math.floor(n / 128);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 128);
  }
  return size;
}

/** True when every UTF-16 unit of `text` fits in one byte (V8 then writes a one-byte string). */
function isOneByte(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function stringSize(text: string): number {
  // One-byte: tag, length, bytes. Two-byte: maybe a padding byte, tag, byte length, two bytes a unit.
  if (isOneByte(text)) return 1 + varintSize(text.length) + text.length;
  return 2 + varintSize(text.length * 2) + text.length * 2;
}

/**
 * A number takes 9 bytes (a tag and a double) at most. V8 writes small
 * integers shorter, but only when they are not held as doubles (an object
 * field that once held a fraction keeps doubles), so 9 is what is certain.
 */
function numberSize(_n: number): number {
  return 9;
}

function valueSize(value: unknown): number {
  switch (typeof value) {
    case "string":
      return stringSize(value);
    case "number":
      return numberSize(value);
    case "boolean":
    case "undefined":
      return 1;
    case "bigint":
      return 2 + varintSize(value.toString(16).length) + Math.ceil(value.toString(16).length / 2) + 8;
    case "object": {
      if (value === null) return 1;
      if (Array.isArray(value)) {
        // Tag, length, elements, end tag, property count, length. A holey array (one zod or `Array(n)`
        // built) is written sparse, each element after its index: counted so, as JS cannot tell which.
        let size = 1 + varintSize(value.length) + 1 + varintSize(value.length) + varintSize(value.length);
        for (const [index, element] of value.entries()) size += 1 + varintSize(index * 2) + valueSize(element);
        return size;
      }
      if (value instanceof Uint8Array) return 4 + 2 * varintSize(value.byteLength) + value.byteLength;
      // Object: tag, key/value pairs, end tag, property count.
      const entries = Object.entries(value);
      let size = 2 + varintSize(entries.length);
      for (const [key, element] of entries) size += stringSize(key) + valueSize(element);
      return size;
    }
    default:
      throw new TypeError(`a ${typeof value} cannot be stored in KV`);
  }
}

/**
 * Bytes `value` takes in KV (an upper bound of its V8 serialization, with
 * the format's two header bytes). Properties set to `undefined` count, as V8 keeps them.
 *
 * @example
 * ```ts
 * serializedSize({ prompt: "лиса" }); // 24: Cyrillic takes two bytes a letter
 * ```
 */
export function serializedSize(value: unknown): number {
  return 2 + valueSize(value);
}

/**
 * A copy of `value` whose arrays are dense (packed): zod's parsed arrays
 * are preallocated and V8 serializes them as sparse arrays, each element
 * with its index. Plain objects are copied; other values are kept.
 */
export function denseCopy<T>(value: T): T {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const element of value) out.push(denseCopy(element));
    return out as T;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, element] of Object.entries(value)) out[key] = denseCopy(element);
    return out as T;
  }
  return value;
}

/** A value over its size budget; the turn that would write it is refused instead. */
export class ValueOverBudget extends Error {
  override readonly name = "ValueOverBudget";
  readonly code = "value_over_budget";
  constructor(
    readonly what: string,
    readonly bytes: number,
    readonly budget: number,
  ) {
    super(`${what} takes ${bytes} bytes in KV, over its budget of ${budget}`);
  }
}
