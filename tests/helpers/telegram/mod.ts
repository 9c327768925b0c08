/**
 * A strict fake Telegram for tests: the Bot API's documented limits and
 * Telegram's own refusals (`rules.ts`), its HTML parse mode (`html.ts`),
 * the messages it has sent and flood waits on demand (`fake-telegram.ts`),
 * and request bodies as the server reads them (`body.ts`). Both fake Bot
 * APIs (`../bot-harness.ts` over msw, `../fake-bot-api.ts` over HTTP)
 * answer through a `FakeTelegram`.
 */
export { type DecodedBody, decodeBody, type UploadedFile } from "./body.ts";
export {
  FakeTelegram,
  messageObject,
  type RefusalRecord,
  sharedTelegram,
  summarize,
  type TelegramAnswer,
} from "./fake-telegram.ts";
export { hasLoneSurrogate, type ParsedEntity, parseTelegramHtml, utf8Length } from "./html.ts";
export {
  type ChatView,
  checkCall,
  DESCRIPTIONS,
  type FormattedText,
  formattedText,
  LIMITS,
  PRE_CHECKOUT_ANSWER_MS,
  type PreCheckoutView,
  type Refusal,
  type StarsChargeView,
  type StoredMessage,
  utf16Length,
} from "./rules.ts";
