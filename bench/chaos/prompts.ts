/**
 * Prompts as people type them: Cyrillic, emoji (with skin tones, ZWJ
 * families and flags), right-to-left scripts, combining marks and the
 * characters HTML cares about, at the lengths that break screens: short,
 * straddling the 300-unit preview cut, long, and at Telegram's own limit of
 * 4096 UTF-16 units for a message. Each starts with the order's tag, which
 * names its user and wizard (`chaos u<user> w<wizard>`).
 */
import type { Dice } from "./random.ts";

/** Telegram's limit for a message's text, in UTF-16 units. */
export const MESSAGE_LIMIT = 4096;

const PIECES = [
  " кошка в космосе",
  " 🦊",
  " 👩‍👩‍👧‍👦",
  " 🇷🇺🇺🇦",
  " مرحبا بالعالم",
  " שלום עולם",
  " e\u0301te\u0301 n\u0303",
  " <b>&amp; a < b > c</b>",
  " 👍🏽",
  " 日本語のテキスト",
  " Ёжик в тумане",
] as const;

/** UTF-16 lengths a prompt is built to: just the tag, around the preview cut, long, and the limit itself. */
const TARGETS = [0, 299, 300, 301, 1_000, MESSAGE_LIMIT] as const;

/** The order's tag, and what a prompt's tag says of its order. */
export const promptTag = (userId: number, wizardId: string) => `chaos u${userId} w${wizardId}`;
export const TAG = /^chaos u(\d+) w(\w+)(?=\s|$)/;

/**
 * A prompt of exactly the drawn length (never ending in a space or inside a
 * grapheme): whole pieces while they fit, then single Cyrillic letters.
 */
export function unicodePrompt(tag: string, dice: Dice): string {
  const target = Math.max(tag.length, dice.pick(TARGETS));
  let prompt = tag;
  for (;;) {
    const piece = dice.pick(PIECES);
    if (prompt.length + piece.length > target - 1) break;
    prompt += piece;
  }
  return prompt + "ы".repeat(target - prompt.length);
}
