/**
 * Telegram updates at the boundary: parsed with zod before anything acts on
 * them, and mapped to the user whose actor handles them.
 */
import type { Update } from "grammy/types";
import { z } from "zod";

const User = z.looseObject({
  id: z.number().int().positive(),
  is_bot: z.boolean(),
  first_name: z.string(),
  username: z.string().max(32).optional(),
  language_code: z.string().optional(),
});
const Chat = z.looseObject({ id: z.number().int(), type: z.string() });
/** A payment Telegram took (Stars); the payment actor checks it against its invoice. */
const SuccessfulPayment = z.looseObject({
  currency: z.string(),
  total_amount: z.number().int().positive(),
  invoice_payload: z.string().max(128),
  telegram_payment_charge_id: z.string().min(1).max(256),
});
/**
 * A file in a message (photo size, video, audio, voice, document). What the
 * wizard keeps of it is saved in the user's state and must load again, so
 * a size or a duration Telegram would never send (negative, fractional
 * bytes) makes the update malformed here instead of a state that cannot load.
 */
export const TelegramFile = z.looseObject({
  file_id: z.string().min(1).max(1024),
  file_unique_id: z.string().min(1).max(256),
  file_size: z.number().int().nonnegative().optional(),
  duration: z.number().nonnegative().optional(),
});
const Message = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int(),
  chat: Chat,
  from: User.optional(),
  text: z.string().optional(),
  photo: z.array(TelegramFile).optional(),
  video: TelegramFile.optional(),
  audio: TelegramFile.optional(),
  voice: TelegramFile.optional(),
  document: TelegramFile.extend({ mime_type: z.string().optional() }).optional(),
  successful_payment: SuccessfulPayment.optional(),
});
const CallbackQuery = z.looseObject({ id: z.string(), from: User, data: z.string().optional() });
const FromUser = z.looseObject({ from: User });

/** The fields of an update the bot relies on; everything else passes through untouched. */
export const UpdateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: Message.optional(),
  edited_message: Message.optional(),
  callback_query: CallbackQuery.optional(),
  pre_checkout_query: FromUser.extend({
    id: z.string(),
    currency: z.string(),
    total_amount: z.number().int(),
    invoice_payload: z.string().max(128),
  }).optional(),
  my_chat_member: FromUser.extend({ chat: Chat }).optional(),
});

/** Why an update cannot be routed. */
export type UpdateRejection =
  | { readonly code: "malformed_update"; readonly issues: string }
  | { readonly code: "no_user" };

/**
 * Parses an update and finds the user it belongs to (the key of its actor).
 * Updates with no user (channel posts, polls) are not routed.
 */
export function routeUpdate(
  input: unknown,
): { ok: true; update: Update; userId: number } | { ok: false; rejection: UpdateRejection } {
  const parsed = UpdateSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, rejection: { code: "malformed_update", issues: z.prettifyError(parsed.error) } };
  const update = parsed.data;
  const userId =
    update.message?.from?.id ??
    update.edited_message?.from?.id ??
    update.callback_query?.from.id ??
    update.pre_checkout_query?.from.id ??
    update.my_chat_member?.from.id;
  if (userId === undefined) return { ok: false, rejection: { code: "no_user" } };
  return { ok: true, update: update as unknown as Update, userId };
}
