/** Choosing a user's language from Telegram's `language_code`. */
import type { Lang } from "./i18n.ts";

const RUSSIAN_SPEAKING = new Set(["ru", "uk", "be", "kk", "uz", "ky", "tg", "hy", "az"]);

/** Russian for Russian-speaking regions and when the app does not say; English otherwise. */
export function langFor(languageCode: string | undefined): Lang {
  if (languageCode === undefined) return "ru";
  return RUSSIAN_SPEAKING.has(languageCode.slice(0, 2).toLowerCase()) ? "ru" : "en";
}
