/**
 * Bot API calls as data: the user actor's pure core returns them as effects
 * and the shell performs them after the state change is durable.
 */

import type { Opts } from "grammy/types";
import type { Api } from "grammy/web";

/** Methods the bot calls as effects. */
export type TelegramMethod =
  | "sendMessage"
  | "editMessageText"
  | "editMessageReplyMarkup"
  | "answerCallbackQuery"
  | "deleteMessage"
  | "sendPhoto"
  | "sendVideo"
  | "sendAudio"
  | "sendDocument";

/** One Bot API call with its payload. */
export type TelegramCall = {
  [M in TelegramMethod]: { readonly type: "telegram"; readonly method: M; readonly payload: Opts<M> };
}[TelegramMethod];

/** Builds a call with its payload type checked against the method. */
export function telegramCall<M extends TelegramMethod>(method: M, payload: Opts<M>): TelegramCall {
  return { type: "telegram", method, payload } as TelegramCall;
}

/** Performs a call through grammY's raw API. */
export async function performTelegramCall(api: Api, call: TelegramCall): Promise<unknown> {
  const method = api.raw[call.method] as (payload: unknown) => Promise<unknown>;
  return await method.call(api.raw, call.payload);
}
