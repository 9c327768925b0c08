/**
 * The wizard's pure transitions: one input (text, file, button) against the
 * current step of the model's input plan. Answers are kept when going back.
 */
import { dialogueProblem } from "../../catalog/dialogue.ts";
import type { PlanStep } from "../../catalog/plan.ts";
import { serializedSize, WIZARD_ANSWERS_BUDGET } from "../jobs/kv-size.ts";
import type { MediaItem, Wizard } from "./state.ts";
import type { Notice } from "./views.ts";

/** What the user did in the wizard. */
export type WizardInput =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "file";
      readonly item: MediaItem | undefined;
      readonly sentAs: "image" | "video" | "audio" | "other";
      readonly bytes: number;
    }
  | { readonly kind: "option"; readonly i: number }
  | { readonly kind: "done" }
  | { readonly kind: "back" }
  | { readonly kind: "params" }
  | { readonly kind: "param"; readonly i: number }
  | { readonly kind: "confirm" };

/** The new wizard (undefined: the user went back out of it) and a line to tell the user. */
export interface WizardOutcome {
  readonly wizard: Wizard | undefined;
  readonly notice?: Notice;
}

/** The step or optional field the wizard is asking for now, if any. */
export function currentStep(wizard: Wizard): PlanStep | undefined {
  if (wizard.editing !== undefined)
    return wizard.optional.find((step) => step.field === wizard.editing) as PlanStep | undefined;
  if (wizard.inParams) return undefined;
  return wizard.steps[wizard.step] as PlanStep | undefined;
}

/** Applies one input. */
export function applyInput(wizard: Wizard, input: WizardInput): WizardOutcome {
  switch (input.kind) {
    case "back":
      if (wizard.editing !== undefined) return { wizard: { ...wizard, editing: undefined } };
      if (wizard.inParams) return { wizard: { ...wizard, inParams: false } };
      if (wizard.step === 0) return { wizard: undefined };
      return { wizard: { ...wizard, step: wizard.step - 1 } };
    case "params":
      return { wizard: { ...wizard, inParams: true, editing: undefined } };
    case "param": {
      const step = wizard.optional[input.i];
      return step ? { wizard: { ...wizard, inParams: true, editing: step.field } } : { wizard };
    }
    case "confirm":
      return { wizard: { ...wizard, inParams: false, editing: undefined, step: wizard.steps.length } };
    default:
      break;
  }
  const step = currentStep(wizard);
  if (step === undefined) return { wizard, notice: { key: "expected-button" } };
  const answered = answer(step, wizard, input);
  if ("reject" in answered) return { wizard, notice: answered.reject };
  const next: Wizard = { ...wizard, values: answered.values ?? wizard.values, media: answered.media ?? wizard.media };
  if (answered.stay) return { wizard: next, ...(answered.notice ? { notice: answered.notice } : {}) };
  if (wizard.editing !== undefined) return { wizard: { ...next, editing: undefined } };
  return { wizard: { ...next, step: wizard.step + 1 } };
}

/** An accepted answer, or the reason it was not accepted (the step is asked again). */
type Answer =
  | {
      readonly values?: Wizard["values"];
      readonly media?: Wizard["media"];
      /** Stay on the step (more files may follow). */
      readonly stay?: boolean;
      readonly notice?: Notice;
    }
  | { readonly reject: Notice };

function answer(step: PlanStep, wizard: Wizard, input: WizardInput): Answer {
  const set = (value: string | number | boolean): Answer => ({ values: { ...wizard.values, [step.field]: value } });
  switch (step.kind) {
    case "media": {
      if (input.kind === "done") {
        const count = wizard.media[step.field]?.length ?? 0;
        return count >= step.minItems
          ? { media: wizard.media }
          : { reject: { key: "expected-media", args: { media: step.media } } };
      }
      if (input.kind !== "file") return { reject: { key: "expected-media", args: { media: step.media } } };
      if (input.sentAs !== step.media || input.item === undefined) {
        return { reject: { key: "file-wrong-type", args: { media: step.media } } };
      }
      if (input.bytes > step.maxMb * 1024 * 1024) {
        return {
          reject: { key: "file-too-big", args: { size: Math.ceil(input.bytes / 1024 / 1024), mb: step.maxMb } },
        };
      }
      const items = [...(wizard.media[step.field] ?? []), input.item];
      const media = { ...wizard.media, [step.field]: items };
      // The answers live in the user's one KV value: a file that would take them over budget is one too many.
      if (serializedSize({ values: wizard.values, media }) > WIZARD_ANSWERS_BUDGET) {
        return { reject: { key: "media-limit", args: { max: items.length - 1 } } };
      }
      if (items.length >= step.maxItems) return { media };
      return {
        media,
        stay: true,
        notice: { key: "step-media-more", args: { count: items.length, max: step.maxItems } },
      };
    }
    case "prompt":
    case "text": {
      if (input.kind !== "text") return { reject: { key: "expected-text" } };
      const length = [...input.text].length;
      if (length > step.maxLength) return { reject: { key: "text-too-long", args: { length, max: step.maxLength } } };
      const min = step.kind === "prompt" ? step.minLength : 1;
      if (length < min) return { reject: { key: "text-too-short", args: { min } } };
      const room = textRoom(wizard, step.field, input.text);
      if (length > room) return { reject: { key: "text-too-long", args: { length, max: room } } };
      const dialogue =
        step.kind === "prompt" && step.voices ? dialogueProblem(input.text, step.voices.length) : undefined;
      if (dialogue?.problem === "too_many_speakers") {
        return { reject: { key: "dialogue-too-many-speakers", args: { n: dialogue.speakers, max: dialogue.max } } };
      }
      if (dialogue?.problem === "empty") return { reject: { key: "dialogue-empty" } };
      return set(input.text);
    }
    case "link": {
      if (input.kind !== "text") return { reject: { key: "expected-text" } };
      const host = step.hosts[0] ?? "";
      try {
        const url = new URL(input.text.trim());
        if (url.protocol === "https:" && step.hosts.includes(url.hostname)) return set(url.href);
      } catch {
        // Not a URL: the same notice as a foreign host.
      }
      return { reject: { key: "link-invalid", args: { host } } };
    }
    case "option": {
      if (input.kind !== "option") return { reject: { key: "expected-button" } };
      const value = step.values[input.i];
      return value === undefined ? { reject: { key: "expected-button" } } : set(value);
    }
    case "boolean":
      if (input.kind !== "option" || input.i > 1) return { reject: { key: "expected-button" } };
      return set(input.i === 1);
    case "number": {
      if (input.kind !== "text") return { reject: { key: "number-invalid", args: { min: step.min, max: step.max } } };
      const value = Number(input.text.trim().replace(",", "."));
      const valid =
        Number.isFinite(value) && value >= step.min && value <= step.max && (!step.integer || Number.isInteger(value));
      return valid ? set(value) : { reject: { key: "number-invalid", args: { min: step.min, max: step.max } } };
    }
  }
}

/**
 * Characters of `text` that fit in field `field` without the wizard's
 * answers going over {@link WIZARD_ANSWERS_BUDGET} (as stored: a Cyrillic
 * letter takes two bytes, an emoji four). At least what `text` has when it fits.
 */
function textRoom(wizard: Wizard, field: string, text: string): number {
  const { [field]: _replaced, ...others } = wizard.values;
  const free = WIZARD_ANSWERS_BUDGET - serializedSize({ values: { ...others, [field]: "" }, media: wizard.media });
  const bytes = serializedSize(text) - serializedSize("");
  const length = [...text].length;
  if (bytes <= free) return length;
  // Over: as many characters as fit at this text's bytes per character.
  return Math.max(0, Math.floor((free * length) / Math.max(1, bytes)));
}
