/**
 * Broadcasts: an admin's message to every user, as an actor per broadcast
 * (in the payment worker). Each recipient is taken off the pending list in
 * a commit before the message is sent, so a restart never sends twice (at
 * worst one message in flight is lost). Users come page by page from KV;
 * sending is throttled under Telegram's limits; users who blocked the bot
 * are skipped and counted; the admin gets progress and a final report.
 */
import type { Api } from "grammy/web";
import { GrammyError } from "grammy/web";
import { z } from "zod";
import type { ActorBehavior, HostServices, KvWrite, Turn } from "../../actors/mod.ts";

/** Messages per second one broadcast sends (Telegram allows about 30 for a bot). */
const PER_SECOND = 25;
/** Users read from KV at a time. */
const PAGE = 100;
/** A progress report every this many recipients. */
const REPORT_EVERY = 500;

export const BroadcastState = z.object({
  v: z.literal(1),
  adminId: z.number().int(),
  text: z.string(),
  status: z.enum(["idle", "running", "done"]),
  /** Recipients of the current page not yet sent to. */
  pending: z.array(z.number().int()),
  /** The last user key read; the next page starts after it. */
  after: z.array(z.union([z.string(), z.number()])).optional(),
  /** True once the last page was read. */
  lastPage: z.boolean(),
  sent: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
});
export type BroadcastState = z.infer<typeof BroadcastState>;

export type BroadcastMessage =
  | { readonly type: "start"; readonly adminId: number; readonly text: string }
  | { readonly type: "resume" }
  /** Users read after the cursor `from` (absent: the first page); `after`: where the next page starts. */
  | {
      readonly type: "page";
      readonly users: readonly number[];
      readonly from?: readonly (string | number)[];
      readonly after?: readonly (string | number)[];
    }
  | { readonly type: "next" }
  | { readonly type: "delivered"; readonly outcome: "sent" | "skipped" | "failed" };

export type BroadcastEffect =
  | { readonly type: "readPage"; readonly after?: readonly (string | number)[] }
  | { readonly type: "send"; readonly userId: number; readonly text: string }
  | { readonly type: "report"; readonly adminId: number; readonly state: BroadcastState };

/** Marks a broadcast as running (the start-up scan resumes these). */
export const activeBroadcastKey = (id: string) => ["broadcast_active", id];

type BroadcastTurn = Turn<BroadcastState, unknown, BroadcastEffect>;

/** A broadcast before its start. */
export function initialBroadcastState(): BroadcastState {
  return { v: 1, adminId: 0, text: "", status: "idle", pending: [], lastPage: false, sent: 0, skipped: 0, failed: 0 };
}

/** The pure core of a broadcast `id`. */
export function receiveBroadcast(state: BroadcastState, message: BroadcastMessage, id: string): BroadcastTurn {
  const done = (next: BroadcastState): BroadcastTurn => ({
    state: { ...next, status: "done" },
    writes: [{ op: "delete", key: activeBroadcastKey(id) } satisfies KvWrite],
    effects: [{ type: "report", adminId: next.adminId, state: { ...next, status: "done" } }],
  });
  const advance = (next: BroadcastState, writes: KvWrite[] = []): BroadcastTurn => {
    const [userId, ...rest] = next.pending;
    if (userId !== undefined) {
      return {
        state: { ...next, pending: rest },
        writes,
        effects: [{ type: "send", userId, text: next.text }],
      };
    }
    if (next.lastPage) return done(next);
    return { state: next, writes, effects: [{ type: "readPage", ...(next.after ? { after: next.after } : {}) }] };
  };
  switch (message.type) {
    case "start": {
      if (state.status !== "idle") return { state, reply: { started: false } };
      const started: BroadcastState = { ...state, adminId: message.adminId, text: message.text, status: "running" };
      const turn = advance(started, [{ op: "set", key: activeBroadcastKey(id), value: true }]);
      return {
        ...turn,
        reply: { started: true },
        effects: [{ type: "report", adminId: message.adminId, state: started }, ...(turn.effects ?? [])],
      };
    }
    case "resume":
    case "next":
      return state.status === "running" ? advance(state) : { state };
    case "page": {
      if (state.status !== "running") return { state };
      // Only the page that follows the last one: a second read of the same page (a resume, or a second chain
      // of sends, asked for it too) would send its users again.
      if (state.pending.length > 0 || JSON.stringify(message.from) !== JSON.stringify(state.after)) return { state };
      const next: BroadcastState = {
        ...state,
        pending: [...message.users],
        lastPage: message.after === undefined,
        ...(message.after ? { after: [...message.after] } : {}),
      };
      return advance(next);
    }
    case "delivered": {
      if (state.status !== "running") return { state };
      const counted = { ...state, [message.outcome]: state[message.outcome] + 1 };
      const handled = counted.sent + counted.skipped + counted.failed;
      const report: BroadcastEffect[] =
        handled % REPORT_EVERY === 0 ? [{ type: "report", adminId: counted.adminId, state: counted }] : [];
      return { state: counted, effects: report };
    }
  }
}

/** A broadcast actor; `api` sends the messages and the reports. */
export function broadcastBehavior(
  services: HostServices,
  api: Api,
): ActorBehavior<BroadcastState, BroadcastMessage, unknown, BroadcastEffect> {
  return {
    kind: "broadcast",
    persistent: true,
    initialState: initialBroadcastState,
    restoreState: (stored) => BroadcastState.parse(stored),
    receive: (state, message, ctx) => receiveBroadcast(state, message, String(ctx.id)),
    describe: (message) => ({ message: message.type }),
    async perform(effect, ctx) {
      switch (effect.type) {
        case "readPage": {
          const page = await services.scan(["user"], { limit: PAGE, ...(effect.after ? { after: effect.after } : {}) });
          const users = page.entries.map((entry) => entry.key[1]).filter((id): id is number => typeof id === "number");
          ctx.tellSelf({
            type: "page",
            users,
            ...(effect.after ? { from: effect.after } : {}),
            ...(page.next ? { after: page.next as (string | number)[] } : {}),
          });
          return;
        }
        case "send": {
          let outcome: "sent" | "skipped" | "failed" = "sent";
          try {
            await api.raw.sendMessage({ chat_id: effect.userId, text: effect.text });
          } catch (error) {
            // 403: the user blocked the bot (or deleted the account): skipped, not failed.
            outcome = error instanceof GrammyError && error.error_code === 403 ? "skipped" : "failed";
          }
          ctx.tellSelf({ type: "delivered", outcome });
          setTimeout(() => ctx.tellSelf({ type: "next" }), 1000 / PER_SECOND);
          return;
        }
        case "report": {
          const { state } = effect;
          const text = `Broadcast ${state.status === "done" ? "done" : "running"}: sent ${state.sent}, skipped ${state.skipped} (blocked the bot), failed ${state.failed}.`;
          await api.raw.sendMessage({ chat_id: effect.adminId, text }).catch((error: unknown) => {
            ctx.log.warn({ err: error }, "broadcast report not sent");
          });
          return;
        }
      }
    },
  };
}
