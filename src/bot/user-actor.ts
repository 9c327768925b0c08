/**
 * The user actor: one per Telegram user. Its pure core (`core.ts`) turns
 * updates into state and effects; its shell (`perform.ts`) shows screens.
 * When the core throws, the user still gets an answer: `recover` answers the
 * button and shows the menu with an apology (the failure is logged).
 */
import type { ActorBehavior } from "../../actors/mod.ts";
import { JobInput } from "../jobs/job.ts";
import { jobKey } from "../jobs/keys.ts";
import { denseCopy, serializedSize, ValueOverBudget } from "../jobs/kv-size.ts";
import { receiveUserMessage, type UserMessage } from "./core.ts";
import { jobRecordReads, type UserRules } from "./job-core.ts";
import { langFor } from "./lang.ts";
import { checkSavable, initialUserState, restoreUserState, type UserState } from "./state.ts";
import type { BotEffect } from "./views.ts";

/**
 * Largest record a user's turn may write besides its state: every record
 * has a smaller budget of its own (see `src/jobs/kv-size.ts`); this catches
 * one that outgrew it before KV would refuse the whole commit.
 */
const RECORD_LIMIT = 48 * 1024;

/** The user actor's behaviour; `perform` comes from the shard that hosts it. */
export function userBehavior(shell: {
  /** Free-quota and job rules of this deployment. */
  readonly rules: UserRules;
  prepare(effect: BotEffect, id: number | string): Promise<unknown>;
  perform(
    effect: BotEffect,
    id: number | string,
    tellSelf: (message: UserMessage) => void,
    prepared: unknown,
  ): Promise<void>;
}): ActorBehavior<UserState, UserMessage, unknown, BotEffect> {
  return {
    kind: "user",
    persistent: true,
    initialState: () => initialUserState(),
    restoreState: (stored) => restoreUserState(stored),
    // The records of the open jobs a message may move: the state keeps no prompts or parameters.
    reads: (message, state, id) => jobRecordReads(state, message).map((jobId) => jobKey(Number(id), jobId)),
    receive: (state, message, ctx) => {
      const ids = ctx.read === undefined ? [] : jobRecordReads(state, message);
      const jobInputs = new Map<string, JobInput>();
      for (const [i, jobId] of ids.entries()) {
        const input = JobInput.safeParse(ctx.read?.[i]);
        if (input.success) jobInputs.set(jobId, denseCopy(input.data));
      }
      const turn = receiveUserMessage(state, message, {
        userId: Number(ctx.id),
        now: ctx.now,
        rules: shell.rules,
        jobInputs,
      });
      // What is saved must load again and fit in KV: a turn that would break that fails, and nothing is written.
      if (turn.state !== state) checkSavable(turn.state);
      for (const write of turn.writes ?? []) {
        if (write.op !== "set") continue;
        const bytes = serializedSize(write.value);
        if (bytes > RECORD_LIMIT)
          throw new ValueOverBudget(`the record ${JSON.stringify(write.key)}`, bytes, RECORD_LIMIT);
      }
      return turn;
    },
    describe: (message) =>
      message.type === "update" ? { updateId: message.update.update_id } : { message: message.type },
    recover(message, _error, done) {
      if (message.type !== "update") return [];
      const { update } = message;
      const query = update.callback_query;
      const from = update.message?.from ?? query?.from;
      const lang = langFor(from?.language_code);
      const chatId = update.message?.chat.id ?? query?.message?.chat.id ?? from?.id;
      const effects: BotEffect[] = [];
      // The button may have been answered already, before the failed commit.
      if (query && !done.immediate) effects.push({ type: "answer", callbackId: query.id, lang });
      if (chatId !== undefined) {
        effects.push({ type: "show", target: { chatId }, lang, view: { kind: "main" }, notice: { key: "error" } });
      }
      return effects;
    },
    prepare: (effect, ctx) => shell.prepare(effect, ctx.id),
    perform: (effect, ctx, prepared) => shell.perform(effect, ctx.id, ctx.tellSelf, prepared),
  };
}
