/**
 * Translations from Fluent files (`locales/<lang>.ftl`), read once when a
 * shard starts. `t(lang, key, args)` falls back to the key itself, so a
 * missing string shows up in tests instead of crashing a screen.
 */
import { FluentBundle, FluentResource } from "@fluent/bundle";

/** The bot's languages. */
export const LANGS = ["ru", "en"] as const;
export type Lang = (typeof LANGS)[number];

/** Arguments of a translated string. */
export type TArgs = Record<string, string | number>;

/** A translation function. */
export type Translate = (lang: Lang, key: string, args?: TArgs) => string;

/** Where the Fluent files are. */
export const LOCALES_DIR = new URL("./locales/", import.meta.url);

/** Builds the translator from the Fluent sources by language. */
export function createTranslator(sources: Readonly<Record<Lang, string>>): Translate {
  const bundles = new Map<Lang, FluentBundle>();
  for (const lang of LANGS) {
    const bundle = new FluentBundle(lang, { useIsolating: false });
    const errors = bundle.addResource(new FluentResource(sources[lang]));
    if (errors.length > 0) throw new Error(`locales/${lang}.ftl: ${errors.map((error) => error.message).join("; ")}`);
    bundles.set(lang, bundle);
  }
  return (lang, key, args) => {
    const bundle = bundles.get(lang);
    const message = bundle?.getMessage(key);
    if (bundle === undefined || message?.value == null) return key;
    return bundle.formatPattern(message.value, args);
  };
}

/** Reads the Fluent files through the platform's file reader. */
export async function loadTranslator(read: (url: URL) => Promise<string | undefined>): Promise<Translate> {
  const sources = {} as Record<Lang, string>;
  for (const lang of LANGS) {
    const text = await read(new URL(`${lang}.ftl`, LOCALES_DIR));
    if (text === undefined) throw new Error(`locales/${lang}.ftl is missing`);
    sources[lang] = text;
  }
  return createTranslator(sources);
}
