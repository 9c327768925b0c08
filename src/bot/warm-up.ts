/**
 * Warm-up of a user shard before it takes traffic: a short dry session
 * (/start, a section, a model, a prompt, in both languages) runs through the
 * same core, catalog asks, rendering and Bot API request building as a real
 * user, against a transport that answers locally. The first user after a
 * start therefore pays for no cold code, KV page or connection.
 */
import type { Update } from "grammy/types";
import type { HostServices } from "../../actors/mod.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { receiveUserMessage, type UserMessage } from "./core.ts";
import type { Lang } from "./i18n.ts";
import type { UserRules } from "./job-core.ts";
import { type BotShell, performBotEffect } from "./perform.ts";
import { ShownScreens } from "./screen-digest.ts";
import { initialUserState, restoreUserState } from "./state.ts";

/** Answers every Bot API call as a sent message, without leaving the thread. */
const dryFetch: typeof fetch = async () =>
  Response.json({ ok: true, result: { message_id: 1, date: 0, chat: { id: 0, type: "private" } } });

/** Runs the dry session; `shell` is the shard's real one (its API is used only for the connection). */
export async function warmUpShard(
  shell: BotShell,
  services: HostServices,
  telegram: TelegramSettings,
  rules: UserRules,
): Promise<void> {
  // No rate limit: the dry session sends nothing to Telegram, and must neither wait nor use up its budget.
  const dry: BotShell = {
    ...shell,
    api: createTelegramApi({ ...telegram, messagesPerSecond: undefined }, dryFetch),
    shown: new ShownScreens(),
  };
  await Promise.all([
    shell.api.getMe().catch(() => undefined),
    services.loadMany([["user", 0]]),
    drySession(dry, "ru", rules),
    drySession(dry, "en", rules),
  ]);
}

async function drySession(shell: BotShell, lang: Lang, rules: UserRules): Promise<void> {
  const from = { id: 0, is_bot: false, first_name: "warm-up", language_code: lang };
  const chat = { id: 0, type: "private" as const, first_name: "warm-up" };
  const message = (text: string): Update => ({
    update_id: 0,
    message: { message_id: 1, date: 0, chat, from, text },
  });
  const press = (data: string): Update => ({
    update_id: 0,
    callback_query: {
      id: "warm-up",
      from,
      chat_instance: "0",
      data,
      message: { message_id: 1, date: 0, chat, text: "" },
    },
  });
  const queue: UserMessage[] = [
    message("/start"),
    press("1|s|images|0"),
    press("1|g|z-image"),
    message("A red fox in the snow"),
  ].map((update) => ({ type: "update", update }));
  let state = initialUserState(lang);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const turn = receiveUserMessage(state, next, { userId: 0, now: Date.now(), rules });
    state = restoreUserState(JSON.parse(JSON.stringify(turn.state)));
    for (const effect of [...(turn.immediate ?? []), ...(turn.effects ?? [])]) {
      await performBotEffect(shell, effect, 0, (reply) => queue.push(reply));
    }
  }
}
