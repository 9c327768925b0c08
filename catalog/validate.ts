/**
 * Validation of parameter values against a model's fields: every problem
 * is a typed error naming its field, so the wizard can say what is wrong.
 */
import type { IndexedModel, Params, ParamValue } from "./build.ts";
import { dialogueProblem, isDialogueField } from "./dialogue.ts";
import type { Field } from "./schema.ts";

/** Why one field's value is not accepted. */
export type FieldErrorCode =
  | "unknown_field"
  | "required"
  | "not_an_option"
  | "wrong_type"
  | "too_short"
  | "too_long"
  | "below_min"
  | "above_max"
  | "not_an_integer"
  | "too_few_items"
  | "too_many_items"
  | "bad_url"
  | "host_not_allowed"
  | "too_many_speakers";

/** A typed validation error of one field. */
export interface FieldError {
  readonly field: string;
  readonly code: FieldErrorCode;
  /** The limit that was crossed (length, bound, item count), when there is one. */
  readonly limit?: number;
}

/** The parameters with defaults applied, or every field error. */
export type Validation =
  | { readonly ok: true; readonly params: Params }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/** Checks a full parameter set (defaults fill what is missing). */
export function validateParams(indexed: IndexedModel, params: Params): Validation {
  const errors: FieldError[] = [];
  for (const name of Object.keys(params)) {
    if (!indexed.fieldsByName.has(name)) errors.push({ field: name, code: "unknown_field" });
  }
  const full: Record<string, ParamValue> = { ...indexed.defaults };
  for (const [name, value] of Object.entries(params)) if (indexed.fieldsByName.has(name)) full[name] = value;
  for (const field of indexed.model.fields) {
    const value = full[field.name];
    if (value === undefined) {
      if (field.required) errors.push({ field: field.name, code: "required" });
      continue;
    }
    const error = checkField(field, value, indexed.offered.get(field.name));
    if (error) errors.push(error);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, params: full };
}

/** Checks one value of one field. */
export function checkField(field: Field, value: ParamValue, offered?: readonly unknown[]): FieldError | undefined {
  const error = (code: FieldErrorCode, limit?: number): FieldError =>
    limit === undefined ? { field: field.name, code } : { field: field.name, code, limit };
  switch (field.kind) {
    case "prompt":
    case "text": {
      if (typeof value !== "string") return error("wrong_type");
      const length = [...value].length;
      if (field.kind === "prompt" && length < (field.minLength ?? 1)) return error("too_short", field.minLength ?? 1);
      if (length > field.maxLength) return error("too_long", field.maxLength);
      const dialogue = isDialogueField(field) ? dialogueProblem(value, field.dialogue.voices.length) : undefined;
      if (dialogue?.problem === "empty") return error("too_short", 1);
      if (dialogue?.problem === "too_many_speakers") return error("too_many_speakers", dialogue.max);
      return undefined;
    }
    case "link": {
      if (typeof value !== "string") return error("wrong_type");
      if (value.length > field.maxLength) return error("too_long", field.maxLength);
      const url = parseHttps(value);
      if (url === undefined) return error("bad_url");
      return field.hosts.includes(url.hostname) ? undefined : error("host_not_allowed");
    }
    case "enum":
      return (offered ?? field.values).some((option) => String(option) === String(value))
        ? undefined
        : error("not_an_option");
    case "boolean":
      return typeof value === "boolean" ? undefined : error("wrong_type");
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return error("wrong_type");
      if (field.integer && !Number.isInteger(value)) return error("not_an_integer");
      if (value < field.min) return error("below_min", field.min);
      if (value > field.max) return error("above_max", field.max);
      return undefined;
    case "media": {
      const urls = typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined;
      if (urls === undefined || urls.some((url) => typeof url !== "string")) return error("wrong_type");
      if (urls.length < field.minItems) return error("too_few_items", field.minItems);
      if (urls.length > field.maxItems) return error("too_many_items", field.maxItems);
      return urls.every((url) => parseHttps(url) !== undefined) ? undefined : error("bad_url");
    }
  }
}

function parseHttps(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}
