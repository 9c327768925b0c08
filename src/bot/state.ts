/**
 * What the user actor keeps for a user: language, the menu message, the
 * wizard in progress, flood-control buckets and the wallet. One KV value, parsed with
 * zod when the actor activates (older versions are migrated).
 */
import { z } from "zod";
import { Job, JobFile } from "../jobs/job.ts";
import { denseCopy, serializedSize, USER_STATE_LIMIT, ValueOverBudget } from "../jobs/kv-size.ts";
import { keptKey } from "../ledger/ledger.ts";
import { emptyWallet, RECENT_KEYS, Wallet } from "../ledger/wallet.ts";
import type { Lang } from "./i18n.ts";

/** A file the user sent for a media step (uploaded to KIE when generating). */
export const MediaItem = JobFile;
export type MediaItem = z.infer<typeof MediaItem>;

const PlanStep = z.looseObject({ kind: z.string(), field: z.string() });

/** The wizard of one model: its plan, the answers so far and where the user is. */
export const Wizard = z.object({
  id: z.string(),
  modelId: z.string(),
  /** The list page the user came from, for Back from the first step. */
  page: z.number().int(),
  steps: z.array(PlanStep),
  optional: z.array(PlanStep),
  /** Index into `steps`; `steps.length` means the confirmation. */
  step: z.number().int().nonnegative(),
  values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  media: z.record(z.string(), z.array(MediaItem)),
  /** The optional field being edited from the Parameters screen. */
  editing: z.string().optional(),
  /** True while the Parameters screen is open. */
  inParams: z.boolean().default(false),
});
export type Wizard = z.infer<typeof Wizard>;

/** Token buckets: messages and button presses. */
export const Flood = z.object({
  messages: z.number(),
  buttons: z.number(),
  at: z.number(),
  warnedAt: z.number(),
});
export type Flood = z.infer<typeof Flood>;

const StateV4 = z.object({
  v: z.literal(4),
  lang: z.enum(["ru", "en"]),
  /** True once the user picked a language in /language (then `language_code` no longer decides). */
  langChosen: z.boolean(),
  firstSeenAt: z.number(),
  lastSeenAt: z.number(),
  starts: z.number().int().nonnegative(),
  /** `ref_<code>` payload of the first /start, kept for the referral programme. */
  referral: z.string().optional(),
  menuMessageId: z.number().int().optional(),
  wizard: Wizard.optional(),
  flood: Flood,
  /** Balance, holds and free generations (see `src/ledger/`). */
  wallet: Wallet,
  /** Jobs not yet delivered, by id (small: their prompts and results have records of their own); a delivered job lives on in the history. */
  jobs: z.record(z.string(), Job),
  /** Number of history entries ever written (the next entry's sequence number). */
  historySeq: z.number().int().nonnegative(),
  /** Set by an admin: the user may browse but not generate. */
  blocked: z.boolean(),
  /** Friends who joined by this user's link, and the free generations referrals brought the user. */
  invited: z.number().int().nonnegative().default(0),
  referralBonusEarned: z.number().int().nonnegative().default(0),
  /** The inviter whose answer a new user's referral waits for. */
  referralPending: z.number().int().optional(),
  /** True once the welcome gift was credited (or there was none to give). */
  welcomed: z.boolean().default(false),
  /**
   * The latest Telegram updates handled (ids, newest last): a redelivered
   * one (webhook retry, restart) is not handled again. A set, not the
   * highest id: concurrent webhook calls may arrive out of order.
   */
  recentUpdates: z.array(z.number().int()).default([]),
  /** The Telegram @username last seen (admins look users up by it). */
  username: z.string().optional(),
  /**
   * The wizard whose Generate press waits for its price (set by the press,
   * cleared when the price came back): after a crash in between, the order
   * check queued with the press asks for the price again.
   */
  ordering: z.string().max(64).optional(),
  /**
   * The wizards started lately (ids, newest last): a model's plan comes back
   * in a turn of its own, and the same press handled twice (an inbox
   * replayed by an instance that starts while another handles it) must not
   * start its wizard again over the answers given since.
   */
  recentWizards: z.array(z.string().max(16)).max(8).default([]),
  /** True while the bot waits for the amount of a card top-up (the next text message). */
  awaitingAmount: z.boolean().default(false),
  /** Stars payments Telegram reported, until the payment actor has recorded them (by charge id). */
  pendingStars: z
    .record(z.string(), z.object({ invoiceId: z.string(), currency: z.string(), amount: z.number().int() }))
    .default({}),
});
export type UserState = z.infer<typeof StateV4>;

/** Version 3 had no jobs. */
const StateV3 = StateV4.omit({
  jobs: true,
  historySeq: true,
  blocked: true,
  pendingStars: true,
  invited: true,
  referralBonusEarned: true,
  referralPending: true,
  welcomed: true,
  awaitingAmount: true,
  username: true,
}).extend({
  v: z.literal(3),
});

/** Version 2 had no wallet. */
const StateV2 = StateV3.omit({ wallet: true }).extend({ v: z.literal(2) });

const StateV1 = z.object({
  v: z.literal(1),
  lang: z.enum(["ru", "en"]),
  firstSeenAt: z.number(),
  lastSeenAt: z.number(),
  starts: z.number().int().nonnegative(),
});

/** A new user's state. */
export function initialUserState(lang: Lang = "ru"): UserState {
  return {
    v: 4,
    lang,
    langChosen: false,
    firstSeenAt: 0,
    lastSeenAt: 0,
    starts: 0,
    flood: { messages: FLOOD.messages.burst, buttons: FLOOD.buttons.burst, at: 0, warnedAt: 0 },
    wallet: emptyWallet(),
    jobs: {},
    historySeq: 0,
    blocked: false,
    pendingStars: {},
    invited: 0,
    referralBonusEarned: 0,
    welcomed: false,
    awaitingAmount: false,
    recentUpdates: [],
    recentWizards: [],
  };
}

/**
 * Parses a stored state, migrating older versions. The state comes back
 * with dense arrays (zod's are holey and serialize larger), so a state that
 * was written once can be written again. Jobs of older versions lose their
 * prompts and results here: their records and result records keep them.
 */
export function restoreUserState(stored: unknown): UserState {
  const state = denseCopy(parseUserState(stored));
  // A wallet saved before long keys were kept short: the same keys, as the wallet remembers them now.
  const recentKeys = state.wallet.recentKeys.map(keptKey).slice(-RECENT_KEYS);
  return { ...state, wallet: { ...state.wallet, recentKeys } };
}

function parseUserState(stored: unknown): UserState {
  // Older versions get the fields they lack from a new user's state; they are not new, so no welcome gift.
  const migrated = (old: { readonly lang: Lang }) => ({
    ...initialUserState(old.lang),
    ...old,
    v: 4 as const,
    welcomed: true,
  });
  const v1 = StateV1.safeParse(stored);
  if (v1.success) return migrated(v1.data);
  const v2 = StateV2.safeParse(stored);
  if (v2.success) return migrated(v2.data);
  const v3 = StateV3.safeParse(stored);
  if (v3.success) return migrated(v3.data);
  return StateV4.parse(stored);
}

/** A state the turn would save that its loading schema refuses (it would lock the user out). */
export class UnloadableState extends Error {
  override readonly name = "UnloadableState";
  readonly code = "unloadable_state";
  constructor(readonly issues: string) {
    super(`the new user state would not load again: ${issues}`);
  }
}

/**
 * Throws unless `state` loads again through {@link restoreUserState} and
 * stays within {@link USER_STATE_LIMIT} as stored: a turn that would save
 * anything else fails instead (the saved state stays as it was).
 */
export function checkSavable(state: UserState): void {
  const parsed = StateV4.safeParse(state);
  if (!parsed.success) throw new UnloadableState(z.prettifyError(parsed.error));
  const bytes = serializedSize(state);
  if (bytes > USER_STATE_LIMIT) throw new ValueOverBudget("the user state", bytes, USER_STATE_LIMIT);
}

/** Flood limits: refill per second and burst. */
export const FLOOD = {
  messages: { perSecond: 1.5, burst: 10 }, // an album of up to 10 photos arrives at once
  buttons: { perSecond: 2, burst: 8 },
  /** After a "too fast" notice, stay quiet this long. */
  quietMs: 10_000,
} as const;

/**
 * Takes one token of the kind; `allowed` false when the bucket is empty.
 * `warn` is true for the first refusal in `quietMs` (the user is told once).
 */
export function takeToken(
  flood: Flood,
  kind: "messages" | "buttons",
  now: number,
): { flood: Flood; allowed: boolean; warn: boolean } {
  const elapsed = Math.max(0, (now - flood.at) / 1000);
  const refill = (bucket: "messages" | "buttons") =>
    Math.min(FLOOD[bucket].burst, flood[bucket] + elapsed * FLOOD[bucket].perSecond);
  const next = { ...flood, messages: refill("messages"), buttons: refill("buttons"), at: now };
  if (next[kind] >= 1) return { flood: { ...next, [kind]: next[kind] - 1 }, allowed: true, warn: false };
  const warn = now - flood.warnedAt >= FLOOD.quietMs;
  return { flood: warn ? { ...next, warnedAt: now } : next, allowed: false, warn };
}
