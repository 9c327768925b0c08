/** Which worker of a group hosts an actor: a stable hash of its id. */

/** An actor's id within its kind: a Telegram user id, a name, ... (a Deno KV key part). */
export type ActorId = string | number;

/**
 * The index (0..count-1) of the worker that hosts `id`.
 * FNV-1a over the id's text, so the same id always lands on the same worker.
 */
export function workerIndexFor(id: ActorId, count: number): number {
  if (count <= 1) return 0;
  const text = typeof id === "number" ? `n${id}` : `s${id}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** The map key of an actor inside a host. */
export function actorKey(kind: string, id: ActorId): string {
  return typeof id === "number" ? `${kind}#n${id}` : `${kind}#s${id}`;
}
