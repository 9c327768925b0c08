/**
 * The KIE request for a model and parameters: endpoint, method and JSON
 * body with KIE's own field names and media URLs in the right fields.
 */
import type { IndexedModel, Params } from "./build.ts";
import { dialogueOf, isDialogueField } from "./dialogue.ts";
import type { EndpointFamily } from "./schema.ts";
import { type FieldError, validateParams } from "./validate.ts";

/** Create-task paths of each KIE API family (see shared/reference/kie-api.md). */
export const CREATE_PATHS: Readonly<Record<EndpointFamily, string>> = {
  market: "/api/v1/jobs/createTask",
  veo: "/api/v1/veo/generate",
  suno: "/api/v1/generate",
  runway: "/api/v1/runway/generate",
  "gpt4o-image": "/api/v1/gpt4o-image/generate",
  "flux-kontext": "/api/v1/flux/kontext/generate",
  midjourney: "/api/v1/mj/generate",
};

/** A request to create a KIE task. */
export interface KieRequest {
  readonly family: EndpointFamily;
  readonly method: "POST";
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The request, or the field errors that prevent it. */
export type KieRequestResult =
  | { readonly ok: true; readonly request: KieRequest }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/**
 * Builds the create request. Market models nest the inputs under `input`
 * next to `model`; dedicated APIs take them at the top level. Media fields
 * that take one URL get a string, the others an array.
 */
export function kieRequestFor(indexed: IndexedModel, params: Params, callBackUrl?: string): KieRequestResult {
  const validation = validateParams(indexed, params);
  if (!validation.ok) return validation;
  const { model } = indexed;
  const input: Record<string, unknown> = { ...model.constants };
  for (const field of model.fields) {
    const value = validation.params[field.name];
    if (value === undefined) continue;
    if (field.kind === "media") {
      const urls = typeof value === "string" ? [value] : (value as readonly string[]);
      input[field.name] = field.multiple ? [...urls] : urls[0];
    } else if (isDialogueField(field)) {
      const dialogue = dialogueOf(field, String(value));
      // Validated above: a dialogue that does not parse never gets here.
      if (dialogue.ok) input[field.name] = dialogue.turns;
    } else {
      input[field.name] = value;
    }
  }
  const callback = callBackUrl === undefined ? {} : { callBackUrl };
  const body = model.endpoint === "market" ? { model: model.kieModel, input, ...callback } : { ...input, ...callback };
  return { ok: true, request: { family: model.endpoint, method: "POST", path: CREATE_PATHS[model.endpoint], body } };
}
