/**
 * Every value a user's turn writes fits in Deno KV, measured the way KV
 * stores it (V8's serialization, `node:v8` here as in `@deno/kv`): the
 * worst-case user state stays under half the 64 KiB limit, 2,000 result
 * URLs and a 40,000-character transcript go into result records of their
 * own that a real KV commit accepts, and a state read back from KV writes
 * again at the same size.
 */
import v8 from "node:v8";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { KvWrite } from "../actors/mod.ts";
import { inputPlan } from "../catalog/plan.ts";
import { receiveJobMessage } from "../src/bot/job-core.ts";
import { checkSavable, initialUserState, restoreUserState, type UserState, type Wizard } from "../src/bot/state.ts";
import { applyInput } from "../src/bot/wizard.ts";
import { JobCost } from "../src/jobs/cost.ts";
import { HistoryEntry } from "../src/jobs/history.ts";
import { DEFAULT_DEADLINES, JobRecord } from "../src/jobs/job.ts";
import {
  JOB_RECORD_BUDGET,
  KV_COMMIT_LIMIT,
  KV_VALUE_LIMIT,
  MAX_RESULT_CHUNKS,
  RESULT_CHUNK_BUDGET,
  serializedSize,
  USER_STATE_BUDGET,
  ValueOverBudget,
  WIZARD_ANSWERS_BUDGET,
} from "../src/jobs/kv-size.ts";
import { joinResult, MAX_RESULT_URL, ResultChunk, splitResult } from "../src/jobs/result.ts";
import { applyEntry, rememberKey } from "../src/ledger/ledger.ts";
import { emptyWallet, RECENT_KEYS } from "../src/ledger/wallet.ts";
import { platform } from "../src/platform/mod.ts";
import { loadCatalog } from "./helpers/catalog.ts";
import { testUserRules } from "./helpers/user-rules.ts";

const NOW = Date.UTC(2026, 11, 2, 9);
const RULES = testUserRules({ instanceId: "0f8e6c1a-6b2d-4f7e-9a41-3c5d2e1b0a99" });
const ctx = (now = NOW) => ({ userId: 987_654_321, now, rules: RULES });

/** Bytes as KV stores the value. */
const stored = (value: unknown) => v8.serialize(value).length;

/** 5,000 characters of Russian text (two bytes a letter as stored). */
const CYRILLIC_5000 = "Съешь же ещё этих мягких французских булок, да выпей чаю. ".repeat(100).slice(0, 5_000);
/** 5,000 emoji (four bytes each as stored). */
const EMOJI_5000 = "🦊".repeat(5_000);

/** The imagen4 wizard at its prompt step (the real catalog's plan). */
async function imagen4Wizard(id: string): Promise<Wizard> {
  const catalog = await loadCatalog();
  const model = catalog.models.get("google/imagen4");
  if (model === undefined) throw new Error("google/imagen4 is not in the catalog");
  const plan = inputPlan(model);
  return {
    id,
    modelId: plan.modelId,
    page: 0,
    steps: [...plan.steps],
    optional: [...plan.optional],
    step: 0,
    values: {},
    media: {},
    inParams: false,
  };
}

/** The wizard with `prompt` and `negative` typed in (prompt as a step, negative prompt from Parameters). */
function typed(wizard: Wizard, prompt: string, negative: string) {
  const first = applyInput(wizard, { kind: "text", text: prompt });
  const at = first.wizard?.optional.findIndex((step) => step.field === "negative_prompt") ?? -1;
  const editing = first.wizard && applyInput(first.wizard, { kind: "param", i: at });
  const second = editing?.wizard && applyInput(editing.wizard, { kind: "text", text: negative });
  return { first, second };
}

/** A user whose wizard holds both prompts at their longest, confirmed at `price` kopecks. */
async function confirmedOrder(state: UserState, id: string): Promise<UserState> {
  const { second } = typed(await imagen4Wizard(id), CYRILLIC_5000, CYRILLIC_5000);
  if (second?.wizard === undefined) throw new Error("the wizard refused the prompts");
  const quote = { ok: true as const, kopecks: 2_500, free: false, output: "image" as const };
  const withWizard = { ...state, wizard: { ...second.wizard, step: second.wizard.steps.length }, ordering: id };
  return receiveJobMessage(withWizard, { type: "quoted", wizardId: id, target: { chatId: 987_654_321 }, quote }, ctx())
    .state;
}

/** Runs `message` against `state` with the job's record read as the runtime would. */
function withRecord(state: UserState, record: JobRecord) {
  return (message: Parameters<typeof receiveJobMessage>[1], now = NOW) =>
    receiveJobMessage(state, message, {
      ...ctx(now),
      jobInputs: new Map([[record.id, { params: record.params, media: record.media }]]),
    });
}

/** Commits the turn's state and writes to a real KV, as the store does (one atomic operation). */
async function commitToKv(state: UserState, writes: readonly KvWrite[]): Promise<void> {
  const kv = await platform.openKv({ kind: "memory" });
  try {
    const op = kv.atomic().set(["user", 987_654_321], state);
    for (const write of writes) {
      if (write.op === "set") op.set(write.key, write.value);
      else if (write.op === "delete") op.delete(write.key);
      else op.enqueue(write.value, write.delay === undefined ? {} : { delay: write.delay });
    }
    expect((await op.commit()).ok).toBe(true);
  } finally {
    kv.close();
  }
}

/** The job record a turn writes. */
function recordIn(writes: readonly KvWrite[] | undefined): JobRecord {
  const write = writes?.find((each) => each.op === "set" && each.key[0] === "job");
  return JobRecord.parse(write?.op === "set" ? write.value : undefined);
}

/** A submitted imagen4 job with both prompts at their longest, and its record. */
async function submittedJob(output: "image" | "text" = "image") {
  const confirmed = await confirmedTurn(output);
  const record = recordIn(confirmed.writes);
  const submitted = withRecord(
    confirmed.state,
    record,
  )({
    type: "submitted",
    jobId: "tq1",
    taskId: "3f1b2c4d5e6f708192a3b4c5d6e7f801",
    family: "market",
  });
  // The record keeps the prompts as the job moves.
  expect(recordIn(submitted.writes)).toMatchObject({ state: "submitted", params: record.params });
  return { state: submitted.state, record };
}

/**
 * The turn that confirms the imagen4 order (its writes hold the job record);
 * `output` "text" stands for a model that returns a transcript.
 */
async function confirmedTurn(output: "image" | "text" = "image") {
  const { second } = typed(await imagen4Wizard("tq1"), CYRILLIC_5000, CYRILLIC_5000);
  if (second?.wizard === undefined) throw new Error("the wizard refused the prompts");
  const state: UserState = {
    ...initialUserState("ru"),
    wallet: { ...emptyWallet(), balance: 1_000_000 },
    wizard: { ...second.wizard, step: second.wizard.steps.length },
    ordering: "tq1",
  };
  const quote = { ok: true as const, kopecks: 2_500, free: false, output };
  return receiveJobMessage(state, { type: "quoted", wizardId: "tq1", target: { chatId: 987_654_321 }, quote }, ctx());
}

/**
 * What serializedSize may over-count: 8 bytes a number, a padding byte a
 * string, a numeric key's text, the index of each element of a dense array.
 */
function slackOf(value: unknown): number {
  if (typeof value === "number") return 8;
  if (typeof value === "string") return 1;
  if (Array.isArray(value)) return value.reduce((sum: number, each) => sum + 6 + slackOf(each), 2);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).reduce((sum, [key, each]) => sum + key.length + 2 + slackOf(each), 0);
  }
  return 0;
}

describe("sizes as KV stores them", () => {
  it("serializedSize never underestimates V8's serialization of plain data", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 });
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        text,
        fc.integer(),
        fc.double({ noDefaultInfinity: true, noNaN: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 6 }),
        fc.dictionary(text, tie("value"), { maxKeys: 6 }),
      ),
    })).value;
    // Parsed by zod, as restored values are: its arrays are holey and V8 writes them sparse.
    const Plain: z.ZodType = z.lazy(() =>
      z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(Plain), z.record(z.string(), Plain)]),
    );
    fc.assert(
      fc.property(value, fc.boolean(), (plain, throughZod) => {
        const v = throughZod ? Plain.parse(plain) : plain;
        const actual = stored(v);
        const estimate = serializedSize(v);
        expect(estimate).toBeGreaterThanOrEqual(actual);
        // Close, not merely safe: it over-counts only short integers (as doubles), string padding and numeric keys.
        expect(estimate - actual).toBeLessThanOrEqual(slackOf(v));
      }),
      { seed: 14, numRuns: 500 },
    );
  });

  it("a user state read back from KV is written again at the size it was read", async () => {
    let state = await confirmedOrder(
      { ...initialUserState("ru"), wallet: { ...emptyWallet(), balance: 1_000_000 } },
      "ta1",
    );
    state = {
      ...state,
      recentUpdates: Array.from({ length: 32 }, (_, i) => 800_000_000 + i),
      wallet: {
        ...state.wallet,
        recentKeys: Array.from({ length: RECENT_KEYS }, (_, i) => `capture:t${i.toString(36)}`),
      },
      wizard: await imagen4Wizard("tb1"),
    };
    // As first written by a turn whose arrays are all dense.
    const written = v8.serialize(JSON.parse(JSON.stringify(state)));
    const restored = restoreUserState(v8.deserialize(written));
    expect(restored).toEqual(state);
    // A restore that left zod's holey arrays would write every array element with its index: larger each time.
    expect(stored(restored)).toBe(written.length);
    expect(stored(restoreUserState(v8.deserialize(v8.serialize(restored))))).toBe(written.length);
  });
});

describe("the user state near 64 KiB", () => {
  /** A long-time user at every limit the state has, with three jobs running (each ordered with the longest prompts). */
  async function busiestUser(): Promise<UserState> {
    let state: UserState = {
      ...initialUserState("ru"),
      langChosen: true,
      starts: 1_000,
      firstSeenAt: NOW,
      lastSeenAt: NOW,
      referral: `ref_${"z".repeat(60)}`,
      username: "u".repeat(32),
      menuMessageId: 2_147_483_647,
      recentUpdates: Array.from({ length: 32 }, (_, i) => 900_000_000 + i),
      recentWizards: Array.from({ length: 8 }, (_, i) => (36 ** 6 - 1 - i).toString(36)),
      wallet: {
        ...emptyWallet(),
        balance: 100_000_000,
        // The ledger remembers its last keys; Stars credits have the longest (a charge id takes up to 256 characters).
        recentKeys: Array.from({ length: 300 }, (_, i) => `stars:${String(i).padStart(256, "x")}`).reduce(
          (keys: string[], key) => rememberKey(keys, key),
          [],
        ),
      },
    };
    for (const id of ["t1a2b3c4d5", "t1a2b3c4d6", "t1a2b3c4d7"]) state = await confirmedOrder(state, id);
    expect(Object.keys(state.jobs)).toHaveLength(3);
    for (const job of Object.values(state.jobs)) expect(job).not.toHaveProperty("params");
    return state;
  }

  /** The state's size as the next activation writes it again. */
  const sizeAfterReload = (state: UserState) => {
    const restored = restoreUserState(v8.deserialize(v8.serialize(state)));
    expect(serializedSize(restored)).toBeGreaterThanOrEqual(stored(restored));
    return stored(restored);
  };

  it("a state saved by an older version past the budget still loads, remembers its keys and saves again", () => {
    // Before long keys were kept short, 200 Stars credits with 256-character charge ids filled 53 KB.
    const longKey = (i: number) => `stars:${String(i).padStart(256, "x")}`;
    const old = {
      ...initialUserState("ru"),
      wallet: { ...emptyWallet(), balance: 20_000, recentKeys: Array.from({ length: 200 }, (_, i) => longKey(i)) },
    };
    expect(serializedSize(old)).toBeGreaterThan(USER_STATE_BUDGET);
    const restored = restoreUserState(v8.deserialize(v8.serialize(old)));
    expect(serializedSize(restored)).toBeLessThan(USER_STATE_BUDGET);
    expect(() => checkSavable(restored)).not.toThrow();
    expect(applyEntry(restored.wallet, { type: "credit", key: longKey(0), amount: 100, reason: "Stars" }, NOW)).toEqual(
      {
        ok: false,
        refusal: { code: "duplicate" },
      },
    );
    // Past its budget but within what KV stores, a state still saves: its user is never locked out.
    const grown = { ...restored, referral: "r".repeat(USER_STATE_BUDGET) };
    expect(() => checkSavable(grown)).not.toThrow();
    expect(() => checkSavable({ ...restored, referral: "r".repeat(KV_VALUE_LIMIT) })).toThrow(ValueOverBudget);
  });

  it("two 5,000-letter Cyrillic prompts and three running jobs stay under half the limit", async () => {
    const state = await busiestUser();
    // A fourth order in its wizard, both prompts typed at their longest.
    const { second } = typed(await imagen4Wizard("t1a2b3c4d8"), CYRILLIC_5000, CYRILLIC_5000);
    expect(second?.notice).toBeUndefined();
    const waiting = { ...state, wizard: second?.wizard };
    expect(waiting.wizard?.values).toMatchObject({ prompt: CYRILLIC_5000, negative_prompt: CYRILLIC_5000 });
    expect(sizeAfterReload(waiting)).toBeLessThan(USER_STATE_BUDGET);
  });

  it("a job's cost record, with the catalog's longest model id and the largest numbers, is a few hundred bytes", async () => {
    const catalog = await loadCatalog();
    const longest = [...catalog.models.keys()].reduce((a, b) => (b.length > a.length ? b : a));
    const worst: JobCost = {
      modelId: longest,
      createdAt: Number.MAX_SAFE_INTEGER,
      outcome: "timed_out",
      free: false,
      charged: Number.MAX_SAFE_INTEGER,
      refunded: Number.MAX_SAFE_INTEGER,
      credits: 1 / 3,
      kie: "unknown",
    };
    expect(JobCost.parse(worst)).toEqual(worst);
    expect(serializedSize(worst)).toBeLessThan(1_024);
  });

  it("the largest wizard of the catalog, its answers filled to their budget with files and text, stays under half the limit", async () => {
    const catalog = await loadCatalog();
    const plans = [...catalog.models.values()].map(inputPlan);
    const largest = plans.reduce((a, b) => (serializedSize(b) > serializedSize(a) ? b : a));
    // Every media field full of files with 1,024-character ids (the longest the update schema takes).
    const file = (i: number) => ({
      fileId: `${i}`.padStart(1_024, "A"),
      fileUniqueId: `${i}`.padStart(256, "U"),
      kind: "image" as const,
      bytes: 20_000_000,
      seconds: 3_600.5,
    });
    const media = Object.fromEntries(
      [...largest.steps, ...largest.optional].flatMap((step) =>
        step.kind === "media" ? [[step.field, Array.from({ length: step.maxItems }, (_, i) => file(i))]] : [],
      ),
    );
    // And text up to the last byte the answers' budget leaves.
    let values: Wizard["values"] = {};
    for (let n = 10_000; n > 0; n--) {
      values = { prompt: "ж".repeat(n) };
      if (serializedSize({ values, media }) <= WIZARD_ANSWERS_BUDGET) break;
    }
    const wizard: Wizard = {
      id: "t1a2b3c4d8",
      modelId: largest.modelId,
      page: 99,
      steps: [...largest.steps],
      optional: [...largest.optional],
      step: 0,
      values,
      media,
      inParams: false,
    };
    const state = { ...(await busiestUser()), wizard };
    expect(sizeAfterReload(state)).toBeLessThan(USER_STATE_BUDGET);
  });

  it("keeps the prompts in the job record, under its budget, and the history entry too", async () => {
    const turn = await confirmedTurn();
    const record = recordIn(turn.writes);
    expect(record.params).toMatchObject({ prompt: CYRILLIC_5000, negative_prompt: CYRILLIC_5000 });
    expect(stored(record)).toBeLessThan(JOB_RECORD_BUDGET);
    expect(turn.state.jobs.tq1).not.toHaveProperty("params");

    const { state } = await submittedJob();
    const failed = withRecord(state, record)(
      {
        type: "status",
        jobId: "tq1",
        via: "poll",
        seq: 0,
        status: { state: "failed", failMessage: "ж".repeat(90_000) },
      },
      NOW + 10_000,
    );
    const entry = failed.writes?.find((write) => write.op === "set" && write.key[0] === "history");
    const history = HistoryEntry.parse(entry?.op === "set" ? entry.value : undefined);
    expect(history.params).toEqual(record.params);
    expect(stored(history)).toBeLessThan(JOB_RECORD_BUDGET + 1_024);
    await commitToKv(failed.state, failed.writes ?? []);
  });

  it("refuses a second prompt of 5,000 emoji: the wizard's answers would outgrow their budget", async () => {
    const { first, second } = typed(await imagen4Wizard("te1"), EMOJI_5000, EMOJI_5000);
    expect(first.notice).toBeUndefined();
    expect(second?.notice).toMatchObject({ key: "text-too-long" });
    expect(second?.wizard?.values.negative_prompt).toBeUndefined();
    const room = Number(second?.notice?.args?.max);
    expect(room).toBeGreaterThan(0);
    expect(room).toBeLessThan(5_000);
  });
});

describe("a wizard's answers within budget", () => {
  it("refuses a file once the answers are full, and still takes one that fits", () => {
    const wizard: Wizard = {
      id: "tm1",
      modelId: "qwen/image-edit",
      page: 0,
      steps: [{ kind: "media", field: "image_url", media: "image", minItems: 1, maxItems: 8, maxMb: 10 }],
      optional: [],
      step: 0,
      values: { prompt: "ж".repeat(10_000) },
      media: {},
      inParams: false,
    };
    const photo = (id: string) => ({
      kind: "file" as const,
      sentAs: "image" as const,
      bytes: 1_000,
      item: { fileId: id, fileUniqueId: "u", kind: "image" as const, bytes: 1_000 },
    });
    const small = applyInput(wizard, photo("AgACAgIAAxkBAAIBQ2Vx"));
    expect(small.notice).toMatchObject({ key: "step-media-more" });
    const huge = applyInput(small.wizard as Wizard, photo("A".repeat(1_024)));
    expect(huge.notice).toEqual({ key: "media-limit", args: { max: 1 } });
    expect(huge.wizard?.media.image_url).toHaveLength(1);
  });
});

describe("large results", () => {
  const URLS = Array.from(
    { length: 2_000 },
    (_, i) =>
      `https://tempfile.aiquickdraw.com/workers/nano/image_${1_764_000_000_000 + i}_${"a1b2c3d4".repeat(4)}.png`,
  );
  const TRANSCRIPT = "Добрый день, коллеги! Сегодня обсуждаем бюджет на следующий квартал. 🙂 "
    .repeat(600)
    .slice(0, 40_000);

  for (const [name, result, output] of [
    ["2,000 result URLs", { urls: URLS }, "image"],
    ["a 40,000-character Cyrillic transcript", { urls: [], text: TRANSCRIPT }, "text"],
  ] as const) {
    it(`${name}: split over result records under budget, committed with the success in one KV commit`, async () => {
      const { state, record } = await submittedJob(output);
      const status = {
        state: "succeeded" as const,
        urls: result.urls,
        ...("text" in result ? { text: result.text } : {}),
      };
      const turn = withRecord(state, record)(
        { type: "status", jobId: "tq1", via: "poll", seq: 0, status },
        NOW + 20_000,
      );
      const job = turn.state.jobs.tq1;
      expect(job?.state).toBe("succeeded");

      const sets = (turn.writes ?? []).flatMap((write) => (write.op === "set" ? [write] : []));
      const chunks = sets.filter((write) => write.key[0] === "result").map((write) => ResultChunk.parse(write.value));
      expect(chunks.length).toBeGreaterThan(1);
      expect(job?.resultChunks).toBe(chunks.length);
      for (const write of sets.filter((each) => each.key[0] === "result")) {
        expect(stored(write.value)).toBeLessThanOrEqual(RESULT_CHUNK_BUDGET);
        expect(serializedSize(write.value)).toBeLessThanOrEqual(RESULT_CHUNK_BUDGET);
      }
      // Nothing of the result is lost, in order, text unsplit inside its emoji.
      expect(joinResult("tq1", chunks)).toEqual(result);
      // No other value carries the result.
      for (const write of sets.filter((each) => each.key[0] !== "result")) {
        expect(stored(write.value)).toBeLessThan(JOB_RECORD_BUDGET + 1_024);
      }
      expect(stored(turn.state)).toBeLessThan(USER_STATE_BUDGET);
      const total = stored(turn.state) + sets.reduce((sum, write) => sum + stored(write.value), 0);
      expect(total).toBeLessThan(KV_COMMIT_LIMIT / 2);
      // The delivery gets the whole result.
      const deliver = turn.effects?.find((effect) => effect.type === "deliver");
      expect(deliver).toMatchObject({ type: "deliver", result });
      await commitToKv(turn.state, turn.writes ?? []);
    });
  }
});

describe("result records", () => {
  it("any result splits into records under budget that give it back, or its beginning when it is over the cap", () => {
    const url = fc
      .tuple(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 0, max: 3_000 }))
      .map(([path, pad]) => `https://tempfile.aiquickdraw.com/${encodeURIComponent(path)}${"x".repeat(pad)}`);
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 2_000 }),
      fc
        .tuple(fc.constantFrom("ж", "🦊", "a", "é", "👩‍👩‍👧"), fc.integer({ min: 1, max: 250_000 }))
        .map(([unit, n]) => unit.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(url, { maxLength: 400 }), fc.option(text, { nil: undefined }), (urls, body) => {
        const result = { urls, ...(body === undefined ? {} : { text: body }) };
        const { chunks, truncated } = splitResult("j", result);
        expect(chunks.length).toBeLessThanOrEqual(MAX_RESULT_CHUNKS);
        for (const chunk of chunks) {
          expect(serializedSize(chunk)).toBeLessThanOrEqual(RESULT_CHUNK_BUDGET);
          expect(stored(chunk)).toBeLessThanOrEqual(RESULT_CHUNK_BUDGET);
        }
        const back = joinResult("j", chunks);
        const kept = urls.filter((each) => each.length <= MAX_RESULT_URL);
        if (!truncated) {
          expect(back.urls).toEqual(kept);
          expect(back.text ?? "").toBe(body ?? "");
        } else {
          expect(kept.slice(0, back.urls.length)).toEqual(back.urls);
          expect((body ?? "").startsWith(back.text ?? "")).toBe(true);
        }
      }),
      { seed: 14, numRuns: 120 },
    );
  });
});

describe("a job always ends by its deadline", () => {
  it("queues its deadline with the job, and ends there with the hold released whatever became of its polls", async () => {
    const turn = await confirmedTurn();
    expect(turn.writes).toContainEqual({
      op: "enqueue",
      value: { t: "deadline", userId: 987_654_321, jobId: "tq1" },
      delay: DEFAULT_DEADLINES.image,
    });
    const { state, record } = await submittedJob();
    expect(state.wallet.holds.tq1).toMatchObject({ amount: 2_500 });
    // The status reads went nowhere (a commit that failed, a read that never returned): no poll is queued.
    const early = withRecord(state, record)({ type: "deadline", jobId: "tq1" }, NOW + 60_000);
    expect(early.state).toBe(state);
    expect(early.writes).toEqual([
      {
        op: "enqueue",
        value: { t: "deadline", userId: 987_654_321, jobId: "tq1" },
        delay: DEFAULT_DEADLINES.image - 60_000,
      },
    ]);
    const due = withRecord(state, record)({ type: "deadline", jobId: "tq1" }, NOW + DEFAULT_DEADLINES.image);
    expect(due.state.jobs.tq1?.state).toBe("timed_out");
    expect(due.state.wallet.holds).toEqual({});
    expect(due.state.wallet.balance).toBe(1_000_000);
    expect(due.writes).toContainEqual(
      expect.objectContaining({ op: "set", key: ["ledger", 987_654_321, "release:tq1"] }),
    );
    expect(due.effects).toContainEqual(expect.objectContaining({ type: "deliver", resumed: false }));
    // Once ended, a late deadline (queues deliver at least once) changes nothing.
    expect(
      withRecord(due.state, record)({ type: "deadline", jobId: "tq1" }, NOW + DEFAULT_DEADLINES.image + 1).state,
    ).toBe(due.state);
  });
});
