/**
 * Long polling on grammY's runner, against an msw Bot API: a batch is
 * confirmed (the next getUpdates' offset) only once all of it is done;
 * a batch's updates are handled at once, and no more are asked for than the
 * bound allows; a 409 backs off and
 * polling goes on; a fenced or interrupted batch is never confirmed.
 */
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTelegramApi } from "../src/telegram/api.ts";
import { type PolledOutcome, startPolling } from "../src/telegram/polling.ts";
import { TEST_TOKEN } from "./helpers/app.ts";
import { silentLog } from "./helpers/runtime.ts";

const API_ROOT = "https://bot-api.test";

/** A Bot API whose getUpdates hands out queued batches and records every offset it was asked for. */
function botApi() {
  const offsets: number[] = [];
  const limits: number[] = [];
  const batches: (number[] | { error: number })[] = [];
  const handler = http.post(`${API_ROOT}/bot${TEST_TOKEN}/getUpdates`, async ({ request }) => {
    const body = (await request.json()) as { offset?: number; limit?: number };
    offsets.push(body.offset ?? 0);
    limits.push(body.limit ?? 100);
    const next = batches.shift();
    if (next === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return HttpResponse.json({ ok: true, result: [] });
    }
    if ("error" in next) {
      return HttpResponse.json({ ok: false, error_code: next.error, description: "Conflict" }, { status: next.error });
    }
    return HttpResponse.json({ ok: true, result: next.map((update_id) => ({ update_id })) });
  });
  return { offsets, limits, batches, handler };
}

/** A handler whose updates finish when the test says so. */
function heldHandling() {
  const started: number[] = [];
  const finish = new Map<number, (outcome: PolledOutcome) => void>();
  let inFlight = 0;
  let maxInFlight = 0;
  const handle = (update: { update_id: number }) =>
    new Promise<PolledOutcome>((resolve) => {
      started.push(update.update_id);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      finish.set(update.update_id, (outcome) => {
        inFlight--;
        resolve(outcome);
      });
    });
  return { started, finish, handle, maxInFlight: () => maxInFlight };
}

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const api = () => createTelegramApi({ botToken: TEST_TOKEN, apiRoot: API_ROOT });

describe("long polling", () => {
  it("confirms a batch only when every update of it is done, and asks for no more than it may handle at once", async () => {
    const fake = botApi();
    server.use(fake.handler);
    fake.batches.push([10, 11], [12]);
    const held = heldHandling();
    const polling = startPolling(api(), silentLog, {
      allowedUpdates: ["message"],
      handle: held.handle,
      concurrency: 2,
    });
    try {
      // Both updates of the batch are handled at once.
      await expect.poll(() => held.started).toEqual([10, 11]);
      held.finish.get(11)?.("done");
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Update 10 is not done: nothing beyond the first request went out.
      expect(fake.offsets).toEqual([0]);
      held.finish.get(10)?.("done");
      await expect.poll(() => held.started).toEqual([10, 11, 12]);
      expect(fake.offsets).toEqual([0, 12]);
      expect(Math.max(...fake.limits)).toBe(2);
      held.finish.get(12)?.("done");
      await expect.poll(() => fake.offsets.includes(13)).toBe(true);
      expect(held.maxInFlight()).toBe(2);
    } finally {
      await polling.stop();
    }
  });

  it("backs off on 409 Conflict and goes on polling", async () => {
    const fake = botApi();
    server.use(fake.handler);
    fake.batches.push({ error: 409 }, [5]);
    const handled: number[] = [];
    const polling = startPolling(api(), silentLog, {
      allowedUpdates: ["message"],
      handle: async (update) => {
        handled.push(update.update_id);
        return "done";
      },
    });
    try {
      await expect.poll(() => handled, { timeout: 3_000 }).toEqual([5]);
      await expect.poll(() => fake.offsets.includes(6)).toBe(true);
    } finally {
      await polling.stop();
    }
  });

  it("stops without confirming a batch that was fenced out", async () => {
    const fake = botApi();
    server.use(fake.handler);
    fake.batches.push([7, 8]);
    const polling = startPolling(api(), silentLog, {
      allowedUpdates: ["message"],
      handle: async (update) => (update.update_id === 8 ? "fenced" : "done"),
    });
    await polling.ended;
    expect(fake.offsets).toEqual([0]);
  });

  it("leaves a batch unconfirmed when a stop interrupts it", async () => {
    const fake = botApi();
    server.use(fake.handler);
    fake.batches.push([3]);
    const held = heldHandling();
    const polling = startPolling(api(), silentLog, { allowedUpdates: ["message"], handle: held.handle });
    await expect.poll(() => held.started).toEqual([3]);
    const stopped = polling.stop();
    held.finish.get(3)?.("interrupted");
    await stopped;
    expect(fake.offsets).toEqual([0]);
  });
});
