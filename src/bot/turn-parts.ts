/**
 * Small pieces of user turns shared by commands, buttons and messages:
 * answering a button, showing a view, the wizard's next screen.
 */
import type { Turn } from "../../actors/mod.ts";
import type { InfoPage } from "./callback-data.ts";
import type { UserState } from "./state.ts";
import type { BotEffect, Notice, Target, View } from "./views.ts";
import { applyInput, type WizardInput } from "./wizard.ts";

/** One turn of the user actor. */
export type UserTurn = Turn<UserState, unknown, BotEffect>;

/** The history is a view of its own (it reads KV); the other pages are static. */
export function infoView(state: UserState, page: InfoPage): View {
  return page === "history" ? { kind: "history", page: 0, total: state.historySeq } : { kind: "info", page };
}

/** A short id for a wizard, unique per user: from the update that started it. */
export function wizardIdOf(updateId: number): string {
  return (updateId % 36 ** 6).toString(36);
}

/** Applies a wizard input and shows where the wizard is now (or the model's card when it was left). */
export function onWizardInput(state: UserState, input: WizardInput, target: Target): UserTurn {
  const wizard = state.wizard;
  if (wizard === undefined) return { state, effects: [show(state, target, { kind: "main" })] };
  const outcome = applyInput(wizard, input);
  if (outcome.wizard === undefined) {
    const next = { ...state, wizard: undefined };
    return { state: next, effects: [show(next, target, { kind: "card", modelId: wizard.modelId, page: wizard.page })] };
  }
  const next = { ...state, wizard: outcome.wizard };
  return { state: next, effects: [show(next, target, { kind: "wizard", wizard: outcome.wizard }, outcome.notice)] };
}

/** Answers a button press, with a line of text when there is something to say. */
export function answer(state: UserState, callbackId: string, notice?: Notice): BotEffect {
  return notice
    ? { type: "answer", callbackId, lang: state.lang, notice }
    : { type: "answer", callbackId, lang: state.lang };
}

/** Shows a view in the target (the shell edits or sends). */
export function show(state: UserState, target: Target, view: View, notice?: Notice): BotEffect {
  return notice
    ? { type: "show", target, lang: state.lang, view, notice }
    : { type: "show", target, lang: state.lang, view };
}
