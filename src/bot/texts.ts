/** What the bot says, in Russian and English. Plain text: user input is never parsed as markup. */

/** Languages the bot speaks. */
export type Lang = "ru" | "en";

const RUSSIAN_SPEAKING = new Set(["ru", "uk", "be", "kk", "uz", "ky", "tg", "hy", "az"]);

/** The language for a Telegram `language_code`; Russian unless the user's app says otherwise. */
export function langFor(languageCode: string | undefined): Lang {
  if (languageCode === undefined) return "ru";
  return RUSSIAN_SPEAKING.has(languageCode.slice(0, 2).toLowerCase()) ? "ru" : "en";
}

/** Texts by key and language. */
export const texts = {
  greeting: {
    ru: (name: string) =>
      `Привет, ${name}! Я делаю картинки, видео, музыку и озвучку с помощью лучших AI-моделей.\n\nОткройте меню командой /menu.`,
    en: (name: string) =>
      `Hi, ${name}! I make images, videos, music and speech with the best AI models.\n\nOpen the menu with /menu.`,
  },
  unknownInput: {
    ru: () => "Я понимаю команды и кнопки. Нажмите /start, чтобы начать.",
    en: () => "I understand commands and buttons. Press /start to begin.",
  },
} as const;
