/**
 * The user actor: one per Telegram user, holding that user's session. Its
 * core is pure: an update in, the new state and the Bot API calls out.
 */
import type { Update } from "grammy/types";
import { z } from "zod";
import type { ActorBehavior, Turn } from "../../actors/mod.ts";
import { type TelegramCall, telegramCall } from "../telegram/call.ts";
import { type Lang, langFor, texts } from "./texts.ts";

/** What the actor keeps for a user (one KV value under `["user", id]`). */
export interface UserState {
  readonly v: 1;
  readonly lang: Lang;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly starts: number;
}

const UserStateSchema = z.object({
  v: z.literal(1),
  lang: z.enum(["ru", "en"]),
  firstSeenAt: z.number(),
  lastSeenAt: z.number(),
  starts: z.number().int().nonnegative(),
});

/** Messages the user actor handles. */
export type UserMessage = { readonly type: "update"; readonly update: Update };

/** Effects of the user actor. */
export type UserEffect = TelegramCall;

const START = /^\/start(?:@\w+)?(?:\s|$)/;

/** The pure reaction to one update. */
export function receiveUpdate(state: UserState, update: Update, now: number): Turn<UserState, void, UserEffect> {
  const message = update.message;
  if (message === undefined) return { state };
  const lang = state.starts === 0 ? langFor(message.from?.language_code) : state.lang;
  const seen: UserState = { ...state, lang, lastSeenAt: now };
  if (message.text !== undefined && START.test(message.text)) {
    const name = message.from?.first_name ?? "";
    return {
      state: { ...seen, starts: state.starts + 1 },
      effects: [telegramCall("sendMessage", { chat_id: message.chat.id, text: texts.greeting[lang](name) })],
    };
  }
  return {
    state: seen,
    effects: [telegramCall("sendMessage", { chat_id: message.chat.id, text: texts.unknownInput[lang]() })],
  };
}

/** The user actor's behaviour; `perform` is given by the shard that hosts it. */
export function userBehavior(
  perform: (effect: UserEffect) => Promise<void>,
): ActorBehavior<UserState, UserMessage, void, UserEffect> {
  return {
    kind: "user",
    persistent: true,
    initialState: () => ({ v: 1, lang: "ru", firstSeenAt: 0, lastSeenAt: 0, starts: 0 }),
    restoreState: (stored) => UserStateSchema.parse(stored),
    receive: (state, message, ctx) => {
      const turn = receiveUpdate(state, message.update, ctx.now);
      return state.firstSeenAt === 0 ? { ...turn, state: { ...turn.state, firstSeenAt: ctx.now } } : turn;
    },
    perform: (effect) => perform(effect),
  };
}
