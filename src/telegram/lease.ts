/**
 * The polling lease: only one instance polls a bot token at a time. The
 * holder renews it; when it stops renewing (it died or stalled), another
 * instance takes it over once it expires. Each takeover writes a new fence
 * record, and an update is recorded only while the fence is the holder's
 * (`inbox.ts`), so a stale holder that wakes up cannot process anything.
 */
import { z } from "zod";
import type { KvKey, KvStore } from "../platform/types.ts";

const LEASE: KvKey = ["poll_lease"];
const FENCE: KvKey = ["poll_fence"];

const Lease = z.object({ holder: z.string(), token: z.number().int(), expiresAt: z.number() });

/** The check an inbox record carries: the fence as this holder wrote it. */
export interface Fence {
  readonly key: KvKey;
  readonly versionstamp: string;
}

export class PollingLease {
  #fence: Fence | undefined;
  #validUntil = 0;

  constructor(
    readonly kv: KvStore,
    readonly options: { readonly instanceId: string; readonly ttlMs: number; readonly now: () => number },
  ) {}

  /**
   * True while the lease is ours by our own clock (with a margin of a tenth
   * of its length): a holder that stalled past its expiry stops processing
   * at once, before its next renewal even tries.
   */
  holds(now: number): boolean {
    return this.#fence !== undefined && now < this.#validUntil;
  }

  /** The fence while this instance holds the lease. */
  get fence(): Fence | undefined {
    return this.#fence;
  }

  /** Takes the lease if it is free or expired, renews it if it is ours; true while this instance holds it. */
  async tryHold(): Promise<boolean> {
    const { instanceId, ttlMs, now } = this.options;
    const [current, fence] = await this.kv.getMany([LEASE, FENCE]);
    const lease = Lease.safeParse(current?.value);
    const at = now();
    const ours = lease.success && lease.data.holder === instanceId;
    // Ours, but someone took over meanwhile (we were stalled past the expiry): the fence says so.
    if (ours && this.#fence !== undefined && fence?.versionstamp !== this.#fence.versionstamp) {
      this.#fence = undefined;
      return false;
    }
    if (lease.success && !ours && lease.data.expiresAt > at) {
      this.#fence = undefined;
      return false;
    }
    const token = lease.success ? lease.data.token + (ours ? 0 : 1) : 1;
    const op = this.kv
      .atomic()
      .check({ key: LEASE, versionstamp: current?.versionstamp ?? null })
      .set(LEASE, { holder: instanceId, token, expiresAt: at + ttlMs });
    // A takeover writes a new fence; a renewal leaves it as it is.
    if (!ours || this.#fence === undefined) op.set(FENCE, { holder: instanceId, token });
    const outcome = await op.commit();
    if (!outcome.ok) {
      this.#fence = undefined;
      return false;
    }
    if (!ours || this.#fence === undefined) this.#fence = { key: FENCE, versionstamp: outcome.versionstamp };
    this.#validUntil = at + ttlMs * 0.9;
    return true;
  }

  /** Gives the lease up (at a stop), so a standby takes over at once. */
  async release(): Promise<void> {
    const current = await this.kv.get(LEASE);
    const lease = Lease.safeParse(current.value);
    if (!lease.success || lease.data.holder !== this.options.instanceId) return;
    await this.kv.atomic().check({ key: LEASE, versionstamp: current.versionstamp }).delete(LEASE).commit();
    this.#fence = undefined;
  }
}
