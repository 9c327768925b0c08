/**
 * Where updates enter: long polling under the polling lease, or the
 * webhook route. Either way an update is handed to its user's actor until
 * its turn is durable and is recorded in the KV inbox, so that Telegram's
 * redeliveries and this instance's restarts handle it exactly once.
 */
import type { UserFromGetMe } from "grammy/types";
import type { Api } from "grammy/web";
import type { Log } from "../../actors/mod.ts";
import type { KvStore } from "../platform/types.ts";
import { handledMarker, inboxRecorder, isRecorded, recordUpdate, unhandledUpdates } from "./inbox.ts";
import { PollingLease } from "./lease.ts";
import { type Polling, startPolling } from "./polling.ts";
import type { createUpdateRouter } from "./router.ts";
import type { WebhookDeps } from "./webhook-route.ts";

/** Update types the bot handles (also sent as `allowed_updates`). */
export const ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query", "my_chat_member"];

/** What the intake needs from the program. */
export interface IntakeDeps {
  readonly kv: KvStore;
  /** Checks one KV atomic operation may carry (`Platform.kvLimits`): webhook updates are recorded in shared commits. */
  readonly maxChecks: number;
  readonly api: Api;
  readonly router: ReturnType<typeof createUpdateRouter>;
  readonly log: Log;
  readonly me: UserFromGetMe;
  readonly now: () => number;
  /** How long a polling lease lasts unless renewed. */
  readonly pollLeaseMs: number;
  /** Updates in flight at most while polling. */
  readonly concurrency?: number;
}

/** How handing an update over ended. */
type Handling = "durable" | "failed" | "stopped";

/** The update intake of one instance. */
export function createIntake(deps: IntakeDeps) {
  const { kv, api, router, log, me } = deps;
  let stopping = false;
  let polling: Polling | undefined;
  let leaseTimer: ReturnType<typeof setInterval> | undefined;
  const lease = new PollingLease(kv, { instanceId: crypto.randomUUID(), ttlMs: deps.pollLeaseMs, now: deps.now });
  // Updates handed over from the webhook (or replayed from the inbox) are marked handled when durable.
  const handled = handledMarker(kv);
  const recorder = inboxRecorder(kv, deps.maxChecks);

  /** Hands an update to its actor until its turn is durable; a full mailbox or a restarting worker is waited out. */
  const handleUntilDurable = async (update: { readonly update_id: number }): Promise<Handling> => {
    for (let delay = 50; !stopping; delay = Math.min(delay * 2, 2_000)) {
      const result = await router.dispatch(update);
      if (result === "skipped" || (typeof result === "object" && result.ok)) return "durable";
      const code = typeof result === "object" ? result.error.code : result;
      // The runtime stopped before the turn was durable: the update stays unhandled, for the next start.
      if (code === "stopped") return "stopped";
      if (!["overloaded", "worker_crashed", "timeout", "retry"].includes(code)) {
        log.warn({ updateId: update.update_id, code }, "update not handled");
        return "failed";
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    return "stopped";
  };

  /** Recorded updates (webhook, replay): marked handled once durable, else replayed at the next start. */
  const handleRecorded = (input: unknown) => {
    const update = input as { readonly update_id: number };
    handleUntilDurable(update)
      .then((handling) => {
        if (handling !== "stopped") handled.mark(update.update_id);
      })
      .catch((error: unknown) => log.error({ err: error, updateId: update.update_id }, "update handling failed"));
  };

  /**
   * An update KV refuses to record (over its value limit): handled before
   * the webhook answers, as a polled update is, then marked handled with a
   * small mark. Telegram delivers it again if this instance stops first (no
   * answer yet), and the mark or the actor's memory of its last update
   * keeps a redelivery from being handled twice. False when stopped first.
   */
  const handleUnrecorded = async (input: unknown): Promise<boolean> => {
    const update = input as { readonly update_id: number };
    if (await isRecorded(kv, update.update_id)) return true;
    log.warn({ updateId: update.update_id }, "update too large for the inbox; handled before answering");
    if ((await handleUntilDurable(update)) === "stopped") return false;
    await recordUpdate(kv, update, undefined, true);
    return true;
  };

  const replayInbox = async () => {
    const updates = await unhandledUpdates(kv);
    if (updates.length > 0) log.info({ updates: updates.length }, "replaying updates recorded but not handled");
    for (const update of updates) handleRecorded(update);
  };

  /**
   * The lease holder's handling of a polled update: only while the lease is
   * held, and recorded under the holder's fence once durable (a takeover in
   * between stops this instance before it confirms the batch).
   */
  const handlePolled = async (update: { readonly update_id: number }) => {
    if (!lease.holds(deps.now())) return "fenced" as const;
    const fence = lease.fence;
    if ((await handleUntilDurable(update)) === "stopped") return "interrupted" as const;
    return (await recordUpdate(kv, update, fence, true)) === "fenced" ? ("fenced" as const) : ("done" as const);
  };

  /** Takes or renews the lease; starts polling when it is ours, stops when it is lost. */
  const tick = async () => {
    const held = !stopping && (await lease.tryHold().catch(() => false));
    if (held && polling === undefined) {
      const started = startPolling(api, log, {
        allowedUpdates: ALLOWED_UPDATES,
        handle: handlePolled,
        concurrency: deps.concurrency,
      });
      polling = started;
      // Fenced out or stopped by a rejected token: the next tick may poll again if the lease is ours.
      void started.ended.then(() => {
        if (polling === started) polling = undefined;
      });
      log.info({ bot: me.username }, "polling for updates (lease held)");
    } else if (!held && polling !== undefined) {
      log.warn({}, "the polling lease is lost; standing by");
      const lost = polling;
      polling = undefined;
      await lost.stop();
    }
  };

  return {
    /** True once a stop began (readiness, the webhook's 503). */
    stopping: () => stopping,
    /** Polls while this instance holds the polling lease; stands by otherwise. */
    async startPolling(): Promise<void> {
      await replayInbox();
      await tick();
      if (polling === undefined) log.info({ bot: me.username }, "another instance polls this bot; standing by");
      leaseTimer = setInterval(() => void tick(), Math.max(100, deps.pollLeaseMs / 3));
    },
    /** Webhook mode: replays the inbox, then points Telegram at `url` (never dropping pending updates). */
    async startWebhook(url: string, secret: string): Promise<void> {
      await replayInbox();
      await api.setWebhook(url, {
        secret_token: secret,
        allowed_updates: ALLOWED_UPDATES as never,
        drop_pending_updates: false,
      });
      log.info({ bot: me.username, url }, "receiving updates by webhook");
    },
    /** The webhook route's dependencies. */
    webhook(secret: string): WebhookDeps {
      return {
        secret,
        stopping: () => stopping,
        record: (update) => recorder.record(update),
        handle: handleRecorded,
        handleUnrecorded,
        log,
      };
    },
    /** Stops intake: polling ends and the lease goes to a standby at once. */
    async stop(): Promise<void> {
      stopping = true;
      clearInterval(leaseTimer);
      await polling?.stop();
      await lease.release().catch(() => undefined);
    },
    /** Writes the last handled marks (after the actors drained). */
    flush: () => handled.flush().catch(() => undefined),
  };
}
