/**
 * A dialogue as people type it in one Telegram message, one turn per line:
 *
 *     Аня: Привет! 👋
 *     Борис: Привет, как дела?
 *
 * turned into the turns KIE's dialogue models take, `[{ text, voice }]`.
 * Speakers get the model's voices in the order they first speak; a line
 * without a name continues the turn before it, lines before the first name
 * are the first speaker's, and a text without any names is a monologue.
 */
import type { Field } from "./schema.ts";

/** One turn as KIE takes it. */
export interface DialogueTurn {
  readonly text: string;
  readonly voice: string;
}

export type DialogueParse =
  | { readonly ok: true; readonly turns: readonly DialogueTurn[]; readonly speakers: number }
  | ({ readonly ok: false } & DialogueProblem);

/**
 * "Name: text" at a line's start. A name starts with a letter and is at most
 * 32 characters, and a colon before a digit or "//" is not a name's, so
 * "10:30 встреча", "встреча в 10:30" and "https://…" are text, not speakers.
 */
const SPEAKER_LINE = /^\s*(\p{L}[\p{L}\p{N}\p{M} ._'’-]{0,31}?)\s*[:：](?![\d/])\s?(.*)$/u;

/** Why a script is not a dialogue the model can voice. */
export type DialogueProblem =
  | { readonly problem: "too_many_speakers"; readonly speakers: number; readonly max: number }
  | { readonly problem: "empty" };

/** The turns by speaker number (0 for the first to speak), and how many speakers there are. */
function splitTurns(text: string): { speakers: number; turns: { speaker: number; text: string }[] } {
  const names: string[] = [];
  const intro: string[] = [];
  const turns: { speaker: number; lines: string[] }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const labelled = SPEAKER_LINE.exec(line);
    if (labelled) {
      const name = labelled[1]!.toLocaleLowerCase();
      let speaker = names.indexOf(name);
      if (speaker < 0) speaker = names.push(name) - 1;
      turns.push({ speaker, lines: [labelled[2]!.trim()] });
    } else if (line.trim() !== "") {
      (turns.at(-1)?.lines ?? intro).push(line.trim());
    }
  }
  // Lines before the first name are the first speaker's (a text without names is one speaker's).
  if (intro.length > 0) turns.unshift({ speaker: 0, lines: intro });
  const spoken = turns
    .map((turn) => ({ speaker: turn.speaker, text: turn.lines.filter((part) => part !== "").join("\n") }))
    .filter((turn) => turn.text !== "");
  return { speakers: Math.max(names.length, intro.length > 0 ? 1 : 0), turns: spoken };
}

/** What is wrong with a script for a model with `voices` voices, if anything. */
export function dialogueProblem(text: string, voices: number): DialogueProblem | undefined {
  return problemOf(splitTurns(text), voices);
}

function problemOf({ speakers, turns }: ReturnType<typeof splitTurns>, voices: number): DialogueProblem | undefined {
  if (speakers > voices) return { problem: "too_many_speakers", speakers, max: voices };
  return turns.length === 0 ? { problem: "empty" } : undefined;
}

export function parseDialogue(text: string, voices: readonly string[]): DialogueParse {
  const split = splitTurns(text);
  const problem = problemOf(split, voices.length);
  if (problem) return { ok: false, ...problem };
  const turns = split.turns.map((turn) => ({ text: turn.text, voice: voices[turn.speaker]! }));
  return { ok: true, speakers: split.speakers, turns };
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
  const voices = field.dialogue.voices.map((voice) => voice.id);
  return parseDialogue(text, voices);
}
