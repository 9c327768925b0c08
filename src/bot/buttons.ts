/**
 * Button presses of the user actor, pure: each is answered exactly once
 * (the answer goes out before the commit), then the screen it asks for.
 * Wizard buttons work only for the wizard in progress.
 */
import type { Action } from "./callback-data.ts";
import { cancelJob, confirmOrder, type UserContext } from "./job-core.ts";
import type { UserState } from "./state.ts";
import { answer, infoView, onWizardInput, show, type UserTurn, wizardIdOf } from "./turn-parts.ts";
import type { Target } from "./views.ts";
import type { WizardInput } from "./wizard.ts";

/** Handles a decoded button press. */
export function onAction(
  state: UserState,
  action: Action,
  callbackId: string,
  target: Target,
  updateId: number,
  ctx: UserContext,
): UserTurn {
  const answered = answer(state, callbackId);
  switch (action.a) {
    case "menu":
      return { state, effects: [answered, show(state, target, { kind: "main" })] };
    case "section":
      return {
        state,
        effects: [answered, show(state, target, { kind: "section", section: action.section, page: action.page })],
      };
    case "card":
      return {
        state,
        effects: [answered, show(state, target, { kind: "card", modelId: action.model, page: action.page })],
      };
    case "generate": {
      const wizardId = wizardIdOf(updateId);
      const page = state.wizard?.page ?? 0;
      return {
        state,
        effects: [answered, { type: "plan", target, lang: state.lang, modelId: action.model, page, wizardId }],
      };
    }
    case "cancel": {
      const next = { ...state, wizard: undefined };
      return {
        state: next,
        effects: [answer(state, callbackId, { key: "cancelled" }), show(next, target, { kind: "main" })],
      };
    }
    case "page":
      return { state, effects: [answered, show(state, target, infoView(state, action.page))] };
    case "history":
      return {
        state,
        effects: [answered, show(state, target, { kind: "history", page: action.page, total: state.historySeq })],
      };
    case "entry":
      return { state, effects: [answered, show(state, target, { kind: "historyEntry", seq: action.seq })] };
    case "resend":
      return { state, effects: [answered, { type: "resend", target, lang: state.lang, seq: action.seq }] };
    case "again":
    case "change": {
      const at = action.a === "again" ? "confirm" : "params";
      const wizardId = wizardIdOf(updateId);
      return { state, effects: [answered, { type: "reuse", target, lang: state.lang, seq: action.seq, at, wizardId }] };
    }
    case "yoo":
      return {
        state,
        effects: [answered, { type: "yooPay", chatId: target.chatId, lang: state.lang, amount: { index: action.i } }],
      };
    case "yooAmount": {
      const next = { ...state, awaitingAmount: true };
      return { state: next, effects: [answered, show(next, target, { kind: "notice" }, { key: "yoo-enter-amount" })] };
    }
    case "yooCheck":
      return {
        state,
        effects: [answer(state, callbackId, { key: "yoo-checking" }), { type: "yooCheck", attemptId: action.attempt }],
      };
    case "stars":
      return {
        state,
        effects: [answered, { type: "invoice", chatId: target.chatId, lang: state.lang, index: action.i }],
      };
    case "cancelJob": {
      const canceled = cancelJob(state, action.job, ctx);
      if (canceled === undefined) return { state, effects: [answer(state, callbackId, { key: "job-not-running" })] };
      return {
        ...canceled,
        effects: [answer(state, callbackId, { key: "job-canceled" }), ...(canceled.effects ?? [])],
      };
    }
    case "lang": {
      const next: UserState = { ...state, lang: action.lang, langChosen: true };
      return { state: next, effects: [answered, show(next, target, { kind: "main" }, { key: "language-set" })] };
    }
    default:
      break;
  }
  // One job per confirmation: a Generate press whose job exists shows that job (its own status
  // message, which the job keeps current, only gets the answer: a double tap edits nothing).
  const existing = action.a === "go" ? state.jobs[action.w] : undefined;
  if (existing !== undefined) {
    const answered = answer(state, callbackId, { key: "job-exists" });
    if (target.messageId !== undefined && target.messageId === existing.statusMessageId) {
      return { state, effects: [answered] };
    }
    return { state, effects: [answered, show(state, target, { kind: "job", job: existing, now: ctx.now })] };
  }
  // Wizard buttons: only those of the wizard in progress still work.
  const wizard = state.wizard;
  if (wizard === undefined || wizard.id !== action.w) {
    return { state, effects: [answer(state, callbackId, { key: "outdated" }), show(state, target, { kind: "main" })] };
  }
  if (action.a === "go") {
    const order = confirmOrder(state, wizard, target, ctx);
    if (typeof order === "string") {
      return {
        state,
        effects: [
          answer(state, callbackId, { key: order }),
          show(state, target, { kind: "wizard", wizard }, { key: order }),
        ],
      };
    }
    return { ...order, effects: [answered, ...(order.effects ?? [])] };
  }
  const input: WizardInput =
    action.a === "option"
      ? { kind: "option", i: action.i }
      : action.a === "param"
        ? { kind: "param", i: action.i }
        : { kind: action.a };
  const outcome = onWizardInput(state, input, target);
  return { ...outcome, effects: [answered, ...(outcome.effects ?? [])] };
}
