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
  return [...folded].map((char) => LATIN[char] ?? char).join("");
}

/** What a model is found by, folded: names, ids and aliases, in Cyrillic and in Latin spelling. */
export function searchTextOf(model: Model): string {
  const folded = [model.name.ru, model.name.en, model.id, model.kieModel ?? "", ...model.aliases].map(foldText);
  return [...new Set([...folded, ...folded.map(latin)])].join(" | ");
}

/**
 * How well `text` (a model's `searchText`) matches a query: 0 for no match;
 * higher for a match at the start of a name, then for every word found.
 */
export function matchScore(searchText: string, query: string): number {
  const folded = foldText(query);
  if (folded.length < 2) return 0;
  const variants = [...new Set([folded, latin(folded)])];
  let best = 0;
  for (const variant of variants) {
    const words = variant.split(" ");
    // Every word must start a word of the text ("nano ban" finds "Nano Banana").
    if (!words.every((word) => startsWord(searchText, word))) continue;
    const score = startsName(searchText, variant) ? 3 : startsWord(searchText, variant) ? 2 : 1;
    best = Math.max(best, score);
  }
  // Typed without spaces ("nanobanana", "seedance2"): from a word's start, against names without them.
  if (best === 0) {
    const squeezed = variants.map((variant) => variant.replaceAll(" ", "")).filter((variant) => variant.length >= 3);
    const tails = searchText.split(" | ").flatMap((name) => {
      const words = name.split(" ");
      return words.map((_, i) => words.slice(i).join(""));
    });
    if (squeezed.some((variant) => tails.some((tail) => tail.startsWith(variant)))) best = 1;
  }
  return best;
}

function startsWord(text: string, word: string): boolean {
  let at = text.indexOf(word);
  while (at >= 0) {
    if (at === 0 || text[at - 1] === " ") return true;
    at = text.indexOf(word, at + 1);
  }
  return false;
}

function startsName(text: string, phrase: string): boolean {
  return text.split(" | ").some((name) => name.startsWith(phrase));
}
