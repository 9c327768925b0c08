/**
 * The input plan of a model: the wizard's steps in order. Media first (what
 * the user must send), then the prompt, then required options; optional
 * parameters with their defaults sit behind a "Parameters" screen.
 */
import type { IndexedModel, ParamValue } from "./build.ts";
import type { Field, InputMedia, Localized, OptionValue } from "./schema.ts";

/** One step of the wizard. */
export type PlanStep =
  | {
      readonly kind: "media";
      readonly field: string;
      readonly media: InputMedia;
      readonly minItems: number;
      readonly maxItems: number;
      readonly maxMb: number;
      readonly required: boolean;
    }
  | {
      readonly kind: "prompt";
      readonly field: string;
      readonly maxLength: number;
      readonly minLength: number;
      /** For a dialogue: the voices' names, given to speakers in the order they first speak. */
      readonly voices?: readonly Localized[];
    }
  | { readonly kind: "link"; readonly field: string; readonly hosts: readonly string[] }
  | {
      readonly kind: "option";
      readonly field: string;
      readonly values: readonly OptionValue[];
      readonly priced: boolean;
    }
  | { readonly kind: "boolean"; readonly field: string; readonly priced: boolean }
  | {
      readonly kind: "number";
      readonly field: string;
      readonly min: number;
      readonly max: number;
      readonly integer: boolean;
    }
  | { readonly kind: "text"; readonly field: string; readonly maxLength: number };

/** A step of the "Parameters" screen, with the value used when the user changes nothing. */
export type OptionalStep = PlanStep & { readonly default: ParamValue | undefined };

/** The wizard of a model. */
export interface InputPlan {
  readonly modelId: string;
  readonly steps: readonly PlanStep[];
  readonly optional: readonly OptionalStep[];
}

/** Builds the input plan from the model's fields. */
export function inputPlan(indexed: IndexedModel): InputPlan {
  const { model } = indexed;
  const rank = (field: Field) =>
    field.kind === "media"
      ? 0
      : field.kind === "prompt" || field.kind === "link"
        ? 1
        : indexed.pricedFields.includes(field.name)
          ? 2
          : 3;
  const asked = model.fields.filter((field) => field.required);
  const steps = [...asked].sort((a, b) => rank(a) - rank(b)).map((field) => stepOf(indexed, field));
  const optional = model.fields
    .filter((field) => !asked.includes(field))
    .map((field) => ({ ...stepOf(indexed, field), default: indexed.defaults[field.name] }));
  return { modelId: model.id, steps, optional };
}

function stepOf(indexed: IndexedModel, field: Field): PlanStep {
  const priced = indexed.pricedFields.includes(field.name);
  switch (field.kind) {
    case "media":
      return {
        kind: "media",
        field: field.name,
        media: field.media,
        minItems: field.minItems,
        maxItems: field.maxItems,
        maxMb: field.maxMb,
        required: field.required,
      };
    case "prompt":
      return {
        kind: "prompt",
        field: field.name,
        maxLength: field.maxLength,
        minLength: field.minLength ?? 1,
        ...(field.dialogue ? { voices: field.dialogue.voices.map((voice) => voice.name) } : {}),
      };
    case "link":
      return { kind: "link", field: field.name, hosts: field.hosts };
    case "enum":
      return { kind: "option", field: field.name, values: indexed.offered.get(field.name) ?? [], priced };
    case "boolean":
      return { kind: "boolean", field: field.name, priced };
    case "number":
      return { kind: "number", field: field.name, min: field.min, max: field.max, integer: field.integer };
    case "text":
      return { kind: "text", field: field.name, maxLength: field.maxLength };
  }
}
