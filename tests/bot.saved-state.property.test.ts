/**
 * What a user's turn saves loads again: updates with odd file fields (sizes
 * and durations Telegram would never send, empty or long ids) are refused
 * at the boundary or kept as valid media, and the state after the turn
 * passes the schema that loads it, after a round trip through V8's
 * serialization as KV stores it. A forged `file_size: -5` once saved a
 * state that never loaded again, locking its user out.
 */
import v8 from "node:v8";
import fc from "fast-check";
import type { Update } from "grammy/types";
import { describe, expect, it } from "vitest";
import { receiveUserMessage } from "../src/bot/core.ts";
import { initialUserState, restoreUserState, type UserState } from "../src/bot/state.ts";
import { routeUpdate } from "../src/telegram/update.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const USER = 5_550_001;
const NOW = Date.UTC(2026, 11, 2, 10);
const RULES = testUserRules();

/** A user in a wizard whose step asks for up to four photos, and one for a voice message. */
function inMediaStep(media: "image" | "audio"): UserState {
  const field = media === "image" ? "image_urls" : "audio_url";
  return {
    ...initialUserState("ru"),
    starts: 1,
    wizard: {
      id: "w1",
      modelId: media === "image" ? "flux/kontext" : "elevenlabs/audio-isolation",
      page: 0,
      steps: [{ kind: "media", field, media, minItems: 1, maxItems: 4, maxMb: 10 }],
      optional: [],
      step: 0,
      values: {},
      media: {},
      inParams: false,
    },
  };
}

function messageWith(fields: Record<string, unknown>, updateId = 1): unknown {
  return {
    update_id: updateId,
    message: {
      message_id: 10,
      date: Math.floor(NOW / 1000),
      chat: { id: USER, type: "private", first_name: "Лиза" },
      from: { id: USER, is_bot: false, first_name: "Лиза", language_code: "ru" },
      ...fields,
    },
  };
}

/** Routes the update and runs the user's turn; undefined when the boundary refused the update. */
function turnOf(state: UserState, raw: unknown) {
  const routed = routeUpdate(raw);
  if (!routed.ok) return undefined;
  return receiveUserMessage(
    state,
    { type: "update", update: routed.update as Update },
    {
      userId: USER,
      now: NOW,
      rules: RULES,
    },
  );
}

/** The state as the next activation reads it from KV. */
const reloaded = (state: UserState) => restoreUserState(v8.deserialize(v8.serialize(state)));

describe("what is saved loads again", () => {
  it("refuses a photo whose file_size is -5 at the boundary, and the user's state still loads", () => {
    const photo = [
      { file_id: "AgACAgIAAxkBAAIBQ2Vx", file_unique_id: "AQADx7sxG", file_size: -5, width: 90, height: 90 },
    ];
    const raw = messageWith({ photo });
    expect(routeUpdate(raw)).toMatchObject({ ok: false, rejection: { code: "malformed_update" } });
    const state = inMediaStep("image");
    expect(turnOf(state, raw)).toBeUndefined();
    expect(reloaded(state)).toEqual(state);
  });

  it("keeps a real photo with its size, and the state loads", () => {
    const photo = [
      { file_id: "AgACAgIAAxkBAAIBQ2Vx", file_unique_id: "AQADx7sxG", file_size: 48_213, width: 1280, height: 960 },
    ];
    const turn = turnOf(inMediaStep("image"), messageWith({ photo }));
    expect(turn?.state.wizard?.media.image_urls).toEqual([
      { fileId: "AgACAgIAAxkBAAIBQ2Vx", fileUniqueId: "AQADx7sxG", kind: "image", bytes: 48_213 },
    ]);
    expect(reloaded(turn?.state as UserState)).toEqual(turn?.state);
  });

  it("whatever the file fields of a message, the state after the turn loads again", () => {
    const number = fc.oneof(
      fc.integer({ min: -1_000_000, max: 3_000_000_000 }),
      fc.double({ noNaN: false }),
      fc.constantFrom(-5, -0, 0, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER),
    );
    const id = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom("", "🦊", "‏שלום", "é".repeat(2_000)));
    const file = fc.record(
      {
        file_id: id,
        file_unique_id: id,
        file_size: fc.oneof(number, fc.constant(undefined), fc.string({ maxLength: 4 })),
        duration: fc.oneof(number, fc.constant(undefined)),
        mime_type: fc.constantFrom("image/png", "image/jpeg", "audio/mpeg", "video/mp4", "application/zip", ""),
        width: number,
        height: number,
      },
      { requiredKeys: ["file_id", "file_unique_id"] },
    );
    const message = fc.oneof(
      fc.array(file, { minLength: 1, maxLength: 3 }).map((photo) => ({ photo })),
      file.map((document) => ({ document })),
      file.map((voice) => ({ voice })),
      file.map((audio) => ({ audio })),
      file.map((video) => ({ video })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("image" as const, "audio" as const),
        fc.array(message, { maxLength: 5 }),
        (kind, messages) => {
          let state = inMediaStep(kind);
          for (const [i, fields] of messages.entries()) {
            const turn = turnOf(state, messageWith(fields, i + 1));
            if (turn === undefined) continue;
            state = turn.state;
            expect(reloaded(state)).toEqual(state);
          }
        },
      ),
      { seed: 14, numRuns: 300 },
    );
  });
});
