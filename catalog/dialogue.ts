/**
 * A dialogue as people type it in one Telegram message, one turn per line:
 *
 *     Аня: Привет! 👋
 *     Борис: Привет, как дела?
 *
 * turned into the turns KIE's dialogue models take, `[{ text, voice }]`.
 * Speakers get the model's voices in the order they first speak; a line
 * without a name continues the turn before it, and a text without any names
 * is one speaker's monologue.
 */
import type { Field } from "./schema.ts";

/** One turn as KIE takes it. */
export interface DialogueTurn {
  readonly text: string;
  readonly voice: string;
}

export type DialogueParse =
  | { readonly ok: true; readonly turns: readonly DialogueTurn[]; readonly speakers: number }
  | { readonly ok: false; readonly problem: "too_many_speakers"; readonly speakers: number; readonly max: number }
  | { readonly ok: false; readonly problem: "empty" };

/**
 * "Name: text" at a line's start. A name starts with a letter and is at most
 * 32 characters, and a colon before a digit or "//" is not a name's, so
 * "10:30 встреча", "встреча в 10:30" and "https://…" are text, not speakers.
 */
const SPEAKER_LINE = /^\s*(\p{L}[\p{L}\p{N}\p{M} ._'’-]{0,31}?)\s*[:：](?![\d/])\s?(.*)$/u;

export function parseDialogue(text: string, voices: readonly string[]): DialogueParse {
  const speakers: string[] = [];
  const turns: { speaker: number; lines: string[] }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const labelled = SPEAKER_LINE.exec(line);
    if (labelled) {
      const name = labelled[1]!.toLocaleLowerCase();
      let speaker = speakers.indexOf(name);
      if (speaker < 0) speaker = speakers.push(name) - 1;
      turns.push({ speaker, lines: [labelled[2]!.trim()] });
    } else if (line.trim() !== "") {
      const last = turns.at(-1);
      if (last) last.lines.push(line.trim());
      else turns.push({ speaker: speakers.push("") - 1, lines: [line.trim()] });
    }
  }
  if (speakers.length > voices.length) {
    return { ok: false, problem: "too_many_speakers", speakers: speakers.length, max: voices.length };
  }
  const spoken = turns
    .map((turn) => ({ text: turn.lines.filter((part) => part !== "").join("\n"), voice: voices[turn.speaker]! }))
    .filter((turn) => turn.text !== "");
  if (spoken.length === 0) return { ok: false, problem: "empty" };
  return { ok: true, turns: spoken, speakers: speakers.length };
}

/** What KIE bills a dialogue by: the characters of its turns, names left out. */
export function spokenLength(turns: readonly DialogueTurn[]): number {
  return turns.reduce((sum, turn) => sum + [...turn.text].length, 0);
}

/** A prompt field that takes a dialogue, with its voices. */
export type DialogueField = Extract<Field, { kind: "prompt" }> & {
  readonly dialogue: NonNullable<Extract<Field, { kind: "prompt" }>["dialogue"]>;
};

export function isDialogueField(field: Field | undefined): field is DialogueField {
  return field?.kind === "prompt" && field.dialogue !== undefined;
}

/** The dialogue of a field's text, with the field's voices. */
export function dialogueOf(field: DialogueField, text: string): DialogueParse {
  return parseDialogue(
    text,
    field.dialogue.voices.map((voice) => voice.id),
  );
}
