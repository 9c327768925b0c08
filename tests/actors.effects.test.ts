import { describe, expect, it } from "vitest";
import { type ActorBehavior, ActorHost, DEFAULT_LIMITS } from "../actors/mod.ts";
import type { CommitOutcome, CommitRequest } from "../actors/store.ts";
import { silentLog } from "./helpers/runtime.ts";

type Effect = { readonly screen: string };

/** A host whose store holds every commit until the test releases it. */
function hostWith(behavior: ActorBehavior<number, string, number, Effect>) {
  const events: string[] = [];
  let release: () => void = () => {};
  const committed = new Promise<void>((resolve) => {
    release = resolve;
  });
  const host = new ActorHost({
    behaviors: [behavior],
    services: {
      loadMany: async (keys) => keys.map(() => ({ value: undefined, versionstamp: null })),
      scan: async () => ({ entries: [] }),
      commitMany: async (requests: readonly CommitRequest[]): Promise<CommitOutcome[]> => {
        events.push("commit started");
        await committed;
        events.push("commit durable");
        return requests.map(() => ({ ok: true, versionstamp: "00000000000000010000" }));
      },
      settle: async () => {},
      ask: async () => ({ ok: true, value: undefined }),
      tell: async () => ({ ok: true, value: undefined }),
    },
    limits: DEFAULT_LIMITS,
    clock: { now: () => 0, monotonic: () => 0 },
    log: silentLog,
  });
  return { host, events, release };
}

describe("effect preparation", () => {
  it("prepares while the commit is in flight and performs with the prepared value only after it is durable", async () => {
    const { host, events, release } = hostWith({
      kind: "screen",
      persistent: true,
      initialState: () => 0,
      restoreState: Number,
      receive: (n) => ({ state: n + 1, effects: [{ screen: `menu ${n + 1}` }] }),
      prepare: async (effect) => {
        events.push(`prepared ${effect.screen}`);
        return `<b>${effect.screen}</b>`;
      },
      perform: async (_effect, _ctx, prepared) => {
        events.push(`sent ${String(prepared)}`);
      },
    });
    await host.deliver([{ kind: "screen", id: 1, message: "show" }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Both are under way while the commit is not yet durable, and nothing was sent.
    expect([...events].sort()).toEqual(["commit started", "prepared menu 1"]);
    release();
    await host.drain(1_000);
    expect(events.slice(2)).toEqual(["commit durable", "sent <b>menu 1</b>"]);
  });

  it("performs without a prepared value when preparation fails", async () => {
    const { host, events, release } = hostWith({
      kind: "screen",
      persistent: true,
      initialState: () => 0,
      restoreState: Number,
      receive: (n) => ({ state: n + 1, effects: [{ screen: "menu" }] }),
      prepare: async () => {
        throw new Error("catalog unavailable");
      },
      perform: async (_effect, _ctx, prepared) => {
        events.push(`sent ${String(prepared)}`);
      },
    });
    release();
    await host.deliver([{ kind: "screen", id: 1, message: "show" }]);
    await host.drain(1_000);
    expect(events).toEqual(["commit started", "commit durable", "sent undefined"]);
  });
});

describe("messages an actor sends itself", () => {
  it("are queued even past a full mailbox: they carry the outcome of work already done", async () => {
    let done = 0;
    const behavior: ActorBehavior<number, "go" | "done", number, "work"> = {
      kind: "worker",
      persistent: false,
      initialState: () => 0,
      restoreState: () => 0,
      receive: (n, message) => {
        if (message === "done") done++;
        return message === "go" ? { state: n, effects: ["work"] } : { state: n + 1 };
      },
      perform: async (_effect, ctx) => {
        for (let i = 0; i < 5; i++) ctx.tellSelf("done");
      },
    };
    const host = new ActorHost({
      behaviors: [behavior],
      services: {
        loadMany: async (keys) => keys.map(() => ({ value: undefined, versionstamp: null })),
        scan: async () => ({ entries: [] }),
        commitMany: async (requests) => requests.map(() => ({ ok: true, versionstamp: "00000000000000010000" })),
        settle: async () => {},
        ask: async () => ({ ok: true, value: undefined }),
        tell: async () => ({ ok: true, value: undefined }),
      },
      limits: { ...DEFAULT_LIMITS, mailboxBound: 2 },
      clock: { now: () => 0, monotonic: () => 0 },
      log: silentLog,
    });
    await host.deliver([{ kind: "worker", id: 1, message: "go" }]);
    for (let waited = 0; waited < 100 && done < 5; waited++) await new Promise((resolve) => setTimeout(resolve, 5));
    await host.drain(1_000);
    expect(done).toBe(5);
  });
});

describe("immediate effects", () => {
  it("go out before the commit starts, so a committed turn never lost them; the others after it is durable", async () => {
    const { host, events, release } = hostWith({
      kind: "screen",
      persistent: true,
      initialState: () => 0,
      restoreState: Number,
      receive: (n) => ({ state: n + 1, immediate: [{ screen: "answer" }], effects: [{ screen: "menu" }] }),
      perform: async (effect) => {
        // A Bot API call takes a moment: the commit must wait for it.
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`sent ${effect.screen}`);
      },
    });
    await host.deliver([{ kind: "screen", id: 1, message: "press" }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events).toEqual(["sent answer", "commit started"]);
    release();
    await host.drain(1_000);
    expect(events).toEqual(["sent answer", "commit started", "commit durable", "sent menu"]);
  });
});
