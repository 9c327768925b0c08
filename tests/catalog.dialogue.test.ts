/**
 * Dialogues as people type them: names in any script, times and links in
 * the text, lines that continue a turn, a monologue without names, and
 * too many speakers; and what KIE is sent and billed for them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDialogue, spokenLength } from "../catalog/dialogue.ts";
import { kieRequestFor } from "../catalog/kie-request.ts";
import { priceOf } from "../catalog/quote.ts";
import { validateParams } from "../catalog/validate.ts";
import { loadCatalog } from "./helpers/catalog.ts";

const VOICES = ["v1", "v2", "v3"];

describe("parseDialogue", () => {
  it("gives each speaker a voice in the order they first speak, whatever the script of the name", () => {
    const parsed = parseDialogue("Аня: Привет! 👋\nBob: Hi 🇬🇧\nАНЯ: Как дела?\n明美：こんにちは", VOICES);
    expect(parsed).toEqual({
      ok: true,
      speakers: 3,
      turns: [
        { text: "Привет! 👋", voice: "v1" },
        { text: "Hi 🇬🇧", voice: "v2" },
        { text: "Как дела?", voice: "v1" },
        { text: "こんにちは", voice: "v3" },
      ],
    });
  });

  it("keeps times, links and unnamed lines in the turn they belong to, and skips blank lines", () => {
    const parsed = parseDialogue(
      "Аня: Встречаемся\nв 10:30 у входа\n\n10:45 — крайний срок\nБорис: Ссылка https://example.com/a\nhttps://example.com/b",
      VOICES,
    );
    expect(parsed).toEqual({
      ok: true,
      speakers: 2,
      turns: [
        { text: "Встречаемся\nв 10:30 у входа\n10:45 — крайний срок", voice: "v1" },
        { text: "Ссылка https://example.com/a\nhttps://example.com/b", voice: "v2" },
      ],
    });
  });

  it("reads a text without names as one speaker's monologue", () => {
    expect(parseDialogue("Просто текст 🦊\nещё строка", VOICES)).toEqual({
      ok: true,
      speakers: 1,
      turns: [{ text: "Просто текст 🦊\nещё строка", voice: "v1" }],
    });
  });

  it("gives lines before the first name to the first speaker, not to a speaker of their own", () => {
    expect(parseDialogue("Сцена: кухня, утро.\nA: 1\nB: 2\nC: 3", VOICES)).toMatchObject({
      ok: false,
      problem: "too_many_speakers",
    });
    expect(parseDialogue("Утро на кухне.\nA: Привет\nB: Привет\nC: Пока", VOICES)).toEqual({
      ok: true,
      speakers: 3,
      turns: [
        { text: "Утро на кухне.", voice: "v1" },
        { text: "Привет", voice: "v1" },
        { text: "Привет", voice: "v2" },
        { text: "Пока", voice: "v3" },
      ],
    });
  });

  it("refuses more speakers than voices, and a dialogue of names only", () => {
    expect(parseDialogue("A: 1\nB: 2\nC: 3\nD: 4", VOICES)).toEqual({
      ok: false,
      problem: "too_many_speakers",
      speakers: 4,
      max: 3,
    });
    expect(parseDialogue("Аня:\nБорис:   \n\n", VOICES)).toEqual({ ok: false, problem: "empty" });
  });

  it("never bills more than was typed, and gives every turn one of the voices", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), (text) => {
        const parsed = parseDialogue(text, VOICES);
        if (!parsed.ok) return;
        expect(spokenLength(parsed.turns)).toBeLessThanOrEqual([...text].length);
        for (const turn of parsed.turns) {
          expect(VOICES).toContain(turn.voice);
          expect(turn.text.trim()).not.toBe("");
        }
      }),
    );
  });
});

describe("ElevenLabs v3 dialogue in the shipped catalog", async () => {
  const model = (await loadCatalog()).models.get("elevenlabs/text-to-dialogue-v3")!;

  it("is sent to KIE as its turns, each with its speaker's voice", () => {
    const result = kieRequestFor(model, { dialogue: "Аня: Привет 🦊\nБорис: Привет!" });
    expect(result).toMatchObject({
      ok: true,
      request: {
        body: {
          model: "elevenlabs/text-to-dialogue-v3",
          input: {
            dialogue: [
              { text: "Привет 🦊", voice: "nPczCjzI2devNBz1zQrb" },
              { text: "Привет!", voice: "FGY2WhTYpPnrIDTdsKH5" },
            ],
          },
        },
      },
    });
  });

  it("is billed per started thousand spoken characters, the names left out", () => {
    const line = "я".repeat(500);
    const params = { dialogue: `Аня: ${line}\nБорис: ${line}` };
    const validated = validateParams(model, params);
    if (!validated.ok) throw new Error("the dialogue does not validate");
    expect(priceOf(model, validated.params)).toMatchObject({ ok: true, quote: { credits: 14 } });
    const longer = validateParams(model, { dialogue: `${params.dialogue}!` });
    if (!longer.ok) throw new Error("the dialogue does not validate");
    expect(priceOf(model, longer.params)).toMatchObject({ ok: true, quote: { credits: 28 } });
  });

  it("refuses a fifth speaker as a field error naming the limit", () => {
    const script = ["A: 1", "B: 2", "C: 3", "D: 4", "E: 5"].join("\n");
    expect(validateParams(model, { dialogue: script })).toEqual({
      ok: false,
      errors: [{ field: "dialogue", code: "too_many_speakers", limit: 4 }],
    });
  });
});
