/**
 * Finding a model by what people type at the main menu: its name in either
 * language, its id or KIE model string, or an alias ("нано банана",
 * "клинг 3"). Text is folded once at build time (case, ё/е, punctuation,
 * Cyrillic spelled in Latin letters), so a search is a few string scans.
 */
import type { Model } from "./schema.ts";

/** Russian letters as Latin ones, so "клинг" finds Kling and "вео" finds Veo. */
const LATIN: Record<string, string> = {
  а: "a",
  б: "b",
  в: "v",
  г: "g",
  д: "d",
  е: "e",
  ж: "zh",
  з: "z",
  и: "i",
  й: "i",
  к: "k",
  л: "l",
  м: "m",
  н: "n",
  о: "o",
  п: "p",
  р: "r",
  с: "s",
  т: "t",
  у: "u",
  ф: "f",
  х: "h",
  ц: "ts",
  ч: "ch",
  ш: "sh",
  щ: "sch",
  ъ: "",
  ы: "y",
  ь: "",
  э: "e",
  ю: "yu",
  я: "ya",
};

/** Lower case, letters and digits only, words separated by one space ("Veo 3.1 · Fast" → "veo 3 1 fast"). */
export function foldText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replaceAll("ё", "е")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The folded text with Russian letters spelled in Latin ones. */
function latin(folded: string): string {
  let out = "";
  for (const char of folded) out += LATIN[char] ?? char;
  return out;
}

/** What a model is found by, folded once at build time. */
export interface SearchKey {
  /** Names, ids and aliases, in Cyrillic and in Latin spelling. */
  readonly names: readonly string[];
  /** The names joined by " | ", to reject a model with one scan per query word. */
  readonly joined: string;
  /** Every name from each of its words on, without spaces, each after a newline ("\nnanobanana2\nbanana2…"). */
  readonly tails: string;
}

export function searchKeyOf(model: Model): SearchKey {
  const folded = [model.name.ru, model.name.en, model.id, model.kieModel ?? "", ...model.aliases].map(foldText);
  const names = [...new Set([...folded, ...folded.map(latin)])].filter((name) => name !== "");
  const tails = new Set(
    names.flatMap((name) => {
      const words = name.split(" ");
      return words.map((_, i) => words.slice(i).join(""));
    }),
  );
  return { names, joined: names.join(" | "), tails: [...tails].map((tail) => `\n${tail}`).join("") };
}

/** A query folded once for a whole search. */
export interface SearchQuery {
  readonly variants: readonly { readonly phrase: string; readonly words: readonly string[] }[];
  /** The query without spaces, after a newline, to find among a key's `tails`. */
  readonly squeezed: readonly string[];
}

/** Undefined for a query too short to search by (under two letters or digits). */
export function searchQueryOf(text: string): SearchQuery | undefined {
  const folded = foldText(text);
  if (folded.length < 2) return undefined;
  const phrases = [...new Set([folded, latin(folded)])];
  return {
    variants: phrases.map((phrase) => ({ phrase, words: phrase.split(" ") })),
    squeezed: phrases
      .map((phrase) => phrase.replaceAll(" ", ""))
      .filter((phrase) => phrase.length >= 3)
      .map((phrase) => `\n${phrase}`),
  };
}

/**
 * How well a model matches a query: 0 for no match; 3 when a name starts
 * with it, 2 when a word does, 1 when every word starts a word of a name
 * or the query typed without spaces ("nanobanana", "seedance2") starts a tail.
 */
export function matchScore(key: SearchKey, query: SearchQuery): number {
  let best = 0;
  for (const { phrase, words } of query.variants) {
    if (!words.every((word) => startsWord(key.joined, word))) continue;
    for (const name of key.names) {
      // Every word must start a word of the name ("nano ban" finds "Nano Banana").
      if (!words.every((word) => startsWord(name, word))) continue;
      best = Math.max(best, name.startsWith(phrase) ? 3 : startsWord(name, phrase) ? 2 : 1);
      if (best === 3) return best;
    }
  }
  if (best > 0) return best;
  return query.squeezed.some((phrase) => key.tails.includes(phrase)) ? 1 : 0;
}

function startsWord(text: string, word: string): boolean {
  let at = text.indexOf(word);
  while (at >= 0) {
    if (at === 0 || text[at - 1] === " ") return true;
    at = text.indexOf(word, at + 1);
  }
  return false;
}
