/**
 * What moves jobs from outside the user actors: polls and deadlines that
 * fall due in the KV queue, KIE's callbacks (through the task index) and, at start, the
 * users whose jobs were open when the last process stopped. Each becomes a
 * message to the owner's actor, which decides what it means.
 */
import type { Log, Result } from "../../actors/mod.ts";
import type { KvStore } from "../platform/types.ts";
import { OPEN_JOBS, OPEN_PAYMENTS, type OrderDue, QueueMessage, TaskOwner, taskKey } from "./keys.ts";
import { liveInstances } from "./liveness.ts";

/** Sends a message to a user's actor (the supervisor's `tell`, or an `ask` that reports how its turn went). */
export type TellUser = (userId: number, message: unknown) => Promise<Result<void>>;

/**
 * Listens to the KV queue until the KV closes: polls and deadlines that
 * fall due, looks at Generate presses, further tries at deliveries that
 * reached nothing, and second looks at jobs another instance was performing
 * at a resume. A message the runtime cannot take now (stopping, overloaded)
 * is thrown back to the queue, which delivers it again later, after a
 * restart if need be. Deadlines, order looks and delivery tries go through
 * `ask`, which answers once their turn is durable: one whose turn failed (a
 * commit refused, the actor restarting) is thrown back too. KV redelivers a
 * message a few times with backoff and then drops it; a job whose deadline
 * was dropped so ends at the next start, which resumes every open job and
 * queues its deadline again.
 */
export function listenForPolls(
  kv: KvStore,
  tell: TellUser,
  log: Log,
  now: () => number,
  ask: TellUser = tell,
): Promise<void> {
  return kv.listenQueue(async (value) => {
    const due = QueueMessage.safeParse(value);
    if (!due.success) {
      log.warn({ issues: due.error.issues.length }, "unknown KV queue message dropped");
      return;
    }
    const message =
      due.data.t === "poll"
        ? { type: "poll", jobId: due.data.jobId, seq: due.data.seq }
        : due.data.t === "deadline"
          ? { type: "deadline", jobId: due.data.jobId }
          : due.data.t === "order"
            ? { type: "orderDue", wizardId: due.data.wizardId, target: targetOf(due.data), look: due.data.look ?? 0 }
            : due.data.t === "delivery"
              ? { type: "deliveryDue", jobId: due.data.jobId, attempt: due.data.attempt }
              : { type: "resume", live: await liveInstances(kv, now()) };
    log.debug({ ...due.data }, "KV queue message");
    const told = await (DURABLE.has(due.data.t) ? ask : tell)(due.data.userId, message);
    if (!told.ok) {
      // Thrown back: the queue delivers it again with backoff (a few times, then drops it).
      log.warn({ t: due.data.t, userId: due.data.userId, code: told.error.code }, "KV queue message not taken");
      throw new Error(`${due.data.t} of user ${due.data.userId} not taken: ${told.error.code}`);
    }
  });
}

/**
 * Queue messages that are the only thing left to move their job or order
 * (its next look or try is queued by the turn they start): they are taken
 * back only once that turn is durable. A lost poll, by contrast, is made up
 * for by the job's deadline.
 */
const DURABLE: ReadonlySet<string> = new Set(["deadline", "order", "delivery"]);

/** Where an order's screen is: the confirmation message, when the press named it. */
function targetOf(due: OrderDue): { chatId: number; messageId?: number } {
  return due.messageId === undefined ? { chatId: due.chatId } : { chatId: due.chatId, messageId: due.messageId };
}

/**
 * Tells every user with an open job or an unrecorded payment to resume
 * them (leaving to each live instance the jobs it performs); returns how
 * many users were told.
 */
export async function resumeOpenJobs(kv: KvStore, tell: TellUser, log: Log, now: number): Promise<number> {
  const live = await liveInstances(kv, now);
  const users = new Set<number>();
  for (const prefix of [OPEN_JOBS, OPEN_PAYMENTS]) {
    for await (const entry of kv.list({ prefix })) {
      const userId = entry.key[1];
      if (typeof userId === "number") users.add(userId);
    }
  }
  await Promise.all(
    [...users].map(async (userId) => {
      const told = await tell(userId, { type: "resume", live });
      if (!told.ok) log.error({ userId, error: told.error }, "could not resume a user's jobs");
    }),
  );
  if (users.size > 0) log.info({ users: users.size }, "resumed open jobs");
  return users.size;
}

/** The owner of a KIE task, if the task is one of ours. */
export async function taskOwner(kv: KvStore, taskId: string): Promise<TaskOwner | undefined> {
  const entry = await kv.get(taskKey(taskId));
  const owner = TaskOwner.safeParse(entry.value);
  return owner.success ? owner.data : undefined;
}
