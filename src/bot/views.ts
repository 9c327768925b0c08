/**
 * What the user actor asks its shell to show: a screen (view) in a chat,
 * by editing the message a button was on or by sending a new one, and
 * answers to button presses.
 */
import type { InfoPage } from "./callback-data.ts";
import type { Lang, TArgs } from "./i18n.ts";
import type { Wizard } from "./state.ts";

/** A line of text by translation key. */
export interface Notice {
  readonly key: string;
  readonly args?: TArgs;
}

/** A screen. */
export type View =
  | { readonly kind: "main"; readonly greetName?: string }
  | { readonly kind: "section"; readonly section: string; readonly page: number }
  | { readonly kind: "card"; readonly modelId: string; readonly page: number }
  | { readonly kind: "wizard"; readonly wizard: Wizard }
  | { readonly kind: "info"; readonly page: InfoPage }
  | { readonly kind: "notice" };

/** Where a view goes: edit `messageId` when given, else a new message. */
export interface Target {
  readonly chatId: number;
  readonly messageId?: number;
}

/** What screens show about the user's money and free generations, as of the turn. */
export interface Account {
  /** Balance minus holds: what the user can spend now. */
  readonly availableKopecks: number;
  readonly freeLeft: number;
}

/** Effects of the user actor, performed after its state is durable. */
export type BotEffect =
  | { readonly type: "answer"; readonly callbackId: string; readonly lang: Lang; readonly notice?: Notice }
  | {
      readonly type: "show";
      readonly target: Target;
      readonly lang: Lang;
      readonly view: View;
      readonly notice?: Notice;
      readonly account?: Account;
    }
  | {
      readonly type: "plan";
      readonly target: Target;
      readonly lang: Lang;
      readonly modelId: string;
      readonly page: number;
      readonly wizardId: string;
    };
