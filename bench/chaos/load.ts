/**
 * The load: simulated Telegram users using the bot through its webhook, as
 * people do, until told to stop. Each user starts the bot, then keeps
 * choosing: a Stars top-up (/topup, a package, the invoice's pre-checkout
 * and payment), a card top-up (/topup, a card package, sometimes pressed
 * again and again without paying, sometimes "Check payment"; whether the
 * bill is paid is the fake YooKassa's to decide), a generation (a model's
 * wizard, a prompt, Generate read off the confirmation's keyboard,
 * sometimes pressed twice, sometimes followed by blocking the bot until the
 * result is due) or browsing. Admin accounts credit and debit random users
 * (`/credit`, `/debit`), refund Stars and card payments (`/refund`, now and
 * then twice in a row) and one of them broadcasts once. A step whose screen
 * does not come (the bot was killed, a reply was faulted) is given up, as a
 * person would.
 *
 * What the run must find in KV afterwards is recorded here: every Stars
 * payment Telegram reported, every card bill the bot showed, every
 * pre-checkout it took and every order (its prompt names user and job).
 */
import type { Update } from "grammy/types";
import type { RecordedCall } from "../../tests/helpers/fake-bot-api.ts";
import { type BotApiWatch, buttonsOf, textOf } from "./bot-api-watch.ts";
import { STARS_PACKAGES } from "./bot-runner.ts";
import { promptTag, unicodePrompt } from "./prompts.ts";
import type { Dice } from "./random.ts";
import { type UpdateFactory, wizardIdOf } from "./updates.ts";
import type { TelegramWebhook } from "./webhook.ts";

/** Paid models whose wizard is one prompt (the rest has defaults), served by the fake's market family. */
const MODELS = ["google/imagen4", "qwen/text-to-image"] as const;
/** How long a user waits for the screen an update should bring. */
const SCREEN_MS = 6_000;
/** How long an admin waits for a refund's first answer (a provider may take 20 s before it counts as unknown). */
const REFUND_MS = 30_000;
/** What the bot says instead of a bill (en.ftl): too many unpaid, being made, delayed, not created. */
const BILL_REFUSALS = ["You have unpaid card bills", "is being made", "did not answer in time", "could not be created"];
/** The broadcast's text: Cyrillic and emoji, as operators write. */
export const BROADCAST_TEXT = "📣 Новые модели уже в боте! New models are in the bot.";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Stars payment Telegram reported to the bot (its `successful_payment` was answered 200). */
export interface ReportedPayment {
  readonly userId: number;
  readonly invoiceId: string;
  readonly stars: number;
  /** The credit the invoice's package promises. */
  readonly kopecks: number;
}

/** A card bill the bot showed: its YooKassa payment, whose fate the fake YooKassa decides. */
export interface CardBill {
  readonly userId: number;
  readonly kopecks: number;
  /** The bill's attempt: "Check payment" presses `1|w|<attemptId>`. */
  readonly attemptId: string;
}

/** A pre-checkout query the bot took (the webhook answered 200): when, and when the bot answered it. */
export interface TakenPreCheckout {
  readonly userId: number;
  /** Set once the webhook's 200 is back (the answer may come first). */
  sentAt: number;
  /** The bot's first answer (whenever it came: the load's wait may have ended before). */
  answeredAt?: number;
}

/** A pressed Generate button: the job the bot must have made of it. */
export interface PlacedOrder {
  readonly userId: number;
  readonly jobId: string;
  readonly model: string;
  /** The user's calls before the press (`BotApiWatch.mark`): a refusal of the order comes after it. */
  readonly since: number;
  /** The presses' callback query ids (two for a double tap): their answers may say why there is no job. */
  readonly queries: readonly string[];
  /** The user blocked the bot right after the press, until the result was due. */
  readonly blockedAfter: boolean;
}

export interface LoadDeps {
  readonly updates: UpdateFactory;
  readonly webhook: TelegramWebhook;
  readonly watch: BotApiWatch;
  readonly dice: Dice;
  /** Users who blocked the bot now (the fake Bot API answers 403 for them). */
  readonly blocked: Set<number>;
  readonly userIds: readonly number[];
  readonly adminIds: readonly number[];
  readonly generationMs: number;
  readonly blockAfterConfirm: number;
  /** The card packages on /topup, in kopecks (YOOKASSA_PACKAGES). */
  readonly cardPackages: readonly number[];
  /** Telegram's side of Stars: a pre-checkout's 10-second clock starts, a charge exists to refund. */
  readonly telegram: {
    recordPreCheckout(queryId: string): void;
    recordStarsCharge(charge: { readonly chargeId: string; readonly userId: number; readonly stars: number }): void;
  };
}

export class Load {
  /** Updates sent, by what the user did. */
  readonly operations: Record<string, number> = {};
  /** Steps given up because their screen did not come in time, by step. */
  readonly stalls: Record<string, number> = {};
  /** Stars payments by charge id. */
  readonly payments = new Map<string, ReportedPayment>();
  /** Orders by their prompt (what the fake KIE sees). */
  readonly orders = new Map<string, PlacedOrder>();
  /** When each user had the bot blocked (wall-clock ms, start and end): nothing can be shown to them then. */
  readonly blockedPeriods = new Map<number, [number, number][]>();
  /** Button presses the bot took (answered 200), by callback query id: their user and when (wall-clock ms). */
  readonly presses = new Map<string, { readonly userId: number; readonly at: number }>();
  readonly adminCredits = { requested: 0, confirmed: 0 };
  readonly adminDebits = { requested: 0, confirmed: 0, refused: 0 };
  /** Card bills by YooKassa payment id. */
  readonly cardBills = new Map<string, CardBill>();
  /** Pre-checkout queries by id. */
  readonly preCheckouts = new Map<string, TakenPreCheckout>();
  /** Refunds asked for, by how the bot first answered ("done", "not done", "checking", "under way", "no answer"). */
  readonly refunds: Record<string, number> = {};
  /** The broadcast, once sent: who sent it and whether the bot said it finished. */
  broadcast: { readonly adminId: number; readonly since: number } | undefined;
  #stopping = false;
  #running: Promise<unknown> | undefined;
  #charges = 0;

  constructor(private readonly deps: LoadDeps) {}

  /** Starts every user and admin (each after a short random delay, so they do not all arrive at once). */
  start(): void {
    const { userIds, adminIds, dice, watch } = this.deps;
    watch.listen((call) => {
      if (call.method !== "answerPreCheckoutQuery") return;
      const taken = this.preCheckouts.get(String(call.payload.pre_checkout_query_id));
      if (taken !== undefined && taken.answeredAt === undefined) taken.answeredAt = Date.now();
    });
    const everyone = [
      ...userIds.map((id) => async () => this.#user(id)),
      ...adminIds.map((id) => async () => this.#admin(id)),
    ];
    this.#running = Promise.all(
      everyone.map(async (run) => {
        await sleep(dice.between(0, 2_000));
        await run();
      }),
    );
  }

  /** Stops the load: every user finishes the update in hand; waits for screens end at once. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.deps.watch.releaseAll();
    await this.#running;
  }

  async #user(userId: number): Promise<void> {
    const { dice } = this.deps;
    await this.#step("start", userId, this.deps.updates.text(userId, "/start"), () => true);
    while (!this.#stopping) {
      const roll = dice.next();
      if (roll < 0.15) await this.#payStars(userId);
      else if (roll < 0.27) await this.#payCard(userId);
      else if (roll < 0.85) await this.#generate(userId);
      else await this.#browse(userId);
      // People pause between things (and the bot's flood control would refuse a faster pace).
      await sleep(dice.between(200, 800));
    }
  }

  /** /topup, a package, the invoice's pre-checkout and, when it is accepted, the payment. */
  async #payStars(userId: number): Promise<void> {
    const { updates, dice, watch } = this.deps;
    const packages = await this.#step("topup", userId, updates.text(userId, "/topup"), (call) =>
      buttonsOf(call).some((data) => data.startsWith("1|t|")),
    );
    if (packages === undefined || this.#stopping) return;
    const index = dice.below(STARS_PACKAGES.length);
    const invoice = await this.#step(
      "stars_package",
      userId,
      updates.press(userId, `1|t|${index}`),
      (call) => call.method === "sendInvoice",
    );
    if (invoice === undefined || this.#stopping) return;
    const invoiceId = String(invoice.payload.payload);
    const stars = Number((invoice.payload.prices as { amount: number }[] | undefined)?.[0]?.amount);
    const kopecks = STARS_PACKAGES.find((pack) => pack.stars === stars)?.kopecks ?? 0;
    const check = updates.preCheckout(userId, invoiceId, stars);
    const queryId = String(check.pre_checkout_query?.id);
    const taken: TakenPreCheckout = { userId, sentAt: Number.NaN };
    this.preCheckouts.set(queryId, taken);
    await this.#send("pre_checkout", check);
    // Telegram's 10 s start when the bot has the query (while it is down, Telegram is still delivering).
    taken.sentAt = Date.now();
    this.deps.telegram.recordPreCheckout(queryId);
    // Telegram waits 10 s for the answer, then tells the user the payment failed.
    const answer = await watch.waitForAnswer(queryId, 12_000);
    if (answer?.payload.ok !== true || (taken.answeredAt ?? 0) - taken.sentAt > 10_000) {
      this.#stall("pre_checkout_answer");
      return;
    }
    const chargeId = `chaos-${userId}-${++this.#charges}`;
    this.deps.telegram.recordStarsCharge({ chargeId, userId, stars });
    this.payments.set(chargeId, { userId, invoiceId, stars, kopecks });
    const since = watch.mark(userId);
    await this.#send("successful_payment", updates.paid(userId, invoiceId, stars, chargeId));
    // Telegram may report one payment in two updates: it must still be credited once.
    if (dice.chance(0.1))
      await this.#send("successful_payment_again", updates.paid(userId, invoiceId, stars, chargeId));
    const told = await watch.waitFor(userId, since, (call) => textOf(call).includes("topped up"), SCREEN_MS);
    if (told === undefined) this.#stall("payment_credited");
  }

  /**
   * /topup and a card package; sometimes the package pressed again and again
   * (the same amount or another) without paying, as an impatient or hostile
   * user does; sometimes "Check payment" on the last bill a while later.
   */
  async #payCard(userId: number): Promise<void> {
    const { updates, dice, cardPackages } = this.deps;
    const packages = await this.#step("topup", userId, updates.text(userId, "/topup"), (call) =>
      buttonsOf(call).some((data) => data.startsWith("1|u|")),
    );
    if (packages === undefined || this.#stopping) return;
    const presses = dice.chance(0.15) ? 2 + dice.below(4) : 1;
    let last: CardBill | undefined;
    for (let press = 0; press < presses && !this.#stopping; press++) {
      const index = dice.below(cardPackages.length);
      const shown = await this.#step("card_package", userId, updates.press(userId, `1|u|${index}`), (call) => {
        const text = textOf(call);
        return billOf(call) !== undefined || BILL_REFUSALS.some((part) => text.includes(part));
      });
      const bill = shown === undefined ? undefined : billOf(shown);
      if (bill === undefined) continue;
      last = { userId, kopecks: cardPackages[index] ?? 0, attemptId: bill.attemptId };
      this.cardBills.set(bill.paymentId, last);
      await sleep(dice.between(100, 400));
    }
    if (last === undefined || this.#stopping || !dice.chance(0.4)) return;
    await sleep(dice.between(500, 4_000));
    if (!this.#stopping) await this.checkCard(last);
  }

  /** "Check payment" on a bill: the bot asks YooKassa and says what it found (or credits). */
  async checkCard(bill: CardBill): Promise<void> {
    await this.#step(
      "card_check",
      bill.userId,
      this.deps.updates.press(bill.userId, `1|w|${bill.attemptId}`),
      () => true,
    );
  }

  /** A model's wizard, a prompt, Generate (sometimes twice), and the wait for the outcome. */
  async #generate(userId: number): Promise<void> {
    const { updates, dice, watch } = this.deps;
    const model = dice.pick(MODELS);
    const start = updates.press(userId, `1|g|${model}`);
    const wizardId = wizardIdOf(start.update_id);
    const wizard = await this.#step("generate_press", userId, start, (call) =>
      buttonsOf(call).some((data) => data.endsWith(`|${wizardId}`)),
    );
    if (wizard === undefined || this.#stopping) return;
    const prompt = unicodePrompt(promptTag(userId, wizardId), dice);
    const go = `1|y|${wizardId}`;
    const confirmation = await this.#step("prompt", userId, updates.text(userId, prompt), (call) =>
      buttonsOf(call).includes(go),
    );
    if (confirmation === undefined || this.#stopping) return;
    const since = watch.mark(userId);
    const blockedAfter = dice.chance(this.deps.blockAfterConfirm);
    // Sometimes a double tap: two presses of one button must make one job.
    const presses = [updates.press(userId, go), ...(dice.chance(0.1) ? [updates.press(userId, go)] : [])];
    const queries = presses.map((press) => String(press.callback_query?.id));
    this.orders.set(prompt, { userId, jobId: wizardId, model, since, queries, blockedAfter });
    await Promise.all(presses.map((press, i) => this.#send(i === 0 ? "confirm_press" : "confirm_press_again", press)));
    if (blockedAfter) {
      // The user blocks the bot while it generates: the result meets a 403.
      this.deps.blocked.add(userId);
      this.#count("blocked_bot");
      const from = Date.now();
      await sleep(this.deps.generationMs + 1_500);
      this.deps.blocked.delete(userId);
      this.blockedPeriods.set(userId, [...(this.blockedPeriods.get(userId) ?? []), [from, Date.now()]]);
      return;
    }
    const outcome = await watch.waitFor(userId, since, isOutcome, this.deps.generationMs + 8_000);
    if (outcome === undefined) this.#stall("generation_outcome");
  }

  async #browse(userId: number): Promise<void> {
    const { updates, dice } = this.deps;
    const update = dice.chance(0.5)
      ? updates.text(userId, dice.pick(["/balance", "/history", "/menu", "/help"]))
      : updates.press(userId, dice.pick(["1|m", "1|i|balance", "1|h|0", "1|s|images|0"]));
    await this.#step("browse", userId, update, () => true);
  }

  /**
   * An admin about once a second (admins are flood-limited too): mostly
   * credits, some debits and refunds; the first admin broadcasts once, a
   * few seconds into the load.
   */
  async #admin(adminId: number): Promise<void> {
    const { updates, dice } = this.deps;
    await this.#step("admin_start", adminId, updates.text(adminId, "/start"), () => true);
    const broadcastAfter = Date.now() + 4_000;
    while (!this.#stopping) {
      if (adminId === this.deps.adminIds[0] && this.broadcast === undefined && Date.now() > broadcastAfter) {
        this.broadcast = { adminId, since: this.deps.watch.mark(adminId) };
        await this.#send("admin_broadcast", updates.text(adminId, `/broadcast ${BROADCAST_TEXT}`));
      } else {
        const roll = dice.next();
        if (roll < 0.55) await this.#adminCredit(adminId);
        else if (roll < 0.7) await this.#adminDebit(adminId);
        else await this.#adminRefund(adminId);
      }
      await sleep(dice.between(700, 1_200));
    }
  }

  async #adminCredit(adminId: number): Promise<void> {
    const { updates, dice, userIds, watch } = this.deps;
    const since = watch.mark(adminId);
    this.adminCredits.requested++;
    const rubles = 1 + dice.below(50);
    await this.#send("admin_credit", updates.text(adminId, `/credit ${dice.pick(userIds)} ${rubles} chaos credit`));
    const done = await watch.waitFor(adminId, since, (call) => textOf(call).startsWith("Done."), SCREEN_MS);
    if (done !== undefined) this.adminCredits.confirmed++;
    else this.#stall("admin_credit_done");
  }

  /** A debit may be refused (the user has spent the money): the admin is told so. */
  async #adminDebit(adminId: number): Promise<void> {
    const { updates, dice, userIds, watch } = this.deps;
    const since = watch.mark(adminId);
    this.adminDebits.requested++;
    const rubles = 1 + dice.below(30);
    await this.#send("admin_debit", updates.text(adminId, `/debit ${dice.pick(userIds)} ${rubles} chaos debit`));
    const answer = await watch.waitFor(
      adminId,
      since,
      (call) => textOf(call).startsWith("Done.") || textOf(call).startsWith("Not done"),
      SCREEN_MS,
    );
    if (answer === undefined) this.#stall("admin_debit_done");
    else if (textOf(answer).startsWith("Done.")) this.adminDebits.confirmed++;
    else this.adminDebits.refused++;
  }

  /**
   * A refund of a Stars or card payment the load made (paid or not: the
   * bot or the provider refuses what cannot be refunded), now and then asked
   * again at once, as an admin retrying after an unclear answer.
   */
  async #adminRefund(adminId: number): Promise<void> {
    const { updates, dice, watch } = this.deps;
    const stars = [...this.payments.keys()];
    const cards = [...this.cardBills.keys()];
    if (stars.length + cards.length === 0) return;
    const card = stars.length === 0 || (cards.length > 0 && dice.chance(0.5));
    const command = card ? `/refund yookassa ${dice.pick(cards)}` : `/refund stars ${dice.pick(stars)}`;
    for (let ask = 0; ask < (dice.chance(0.2) ? 2 : 1) && !this.#stopping; ask++) {
      const since = watch.mark(adminId);
      await this.#send(
        card ? "admin_refund_card" : "admin_refund_stars",
        updates.text(adminId, `${command} chaos refund`),
      );
      const answer = await watch.waitFor(adminId, since, (call) => textOf(call).startsWith("Refund of"), REFUND_MS);
      const text = answer === undefined ? "" : textOf(answer);
      const outcome =
        answer === undefined
          ? "no answer"
          : (["not done", "done", "no clear answer", "under way"].find((part) => text.includes(part)) ?? "other");
      this.refunds[outcome] = (this.refunds[outcome] ?? 0) + 1;
    }
  }

  /** Sends an update and waits for the call to the user's chat that shows its screen. */
  async #step(
    kind: string,
    userId: number,
    update: Update,
    shows: (call: RecordedCall) => boolean,
  ): Promise<RecordedCall | undefined> {
    const since = this.deps.watch.mark(userId);
    await this.#send(kind, update);
    const call = await this.deps.watch.waitFor(userId, since, shows, SCREEN_MS);
    if (call === undefined) this.#stall(kind);
    return call;
  }

  async #send(kind: string, update: Update): Promise<void> {
    this.#count(kind);
    await this.deps.webhook.deliver(update);
    const query = update.callback_query;
    if (query !== undefined) this.presses.set(query.id, { userId: query.from.id, at: Date.now() });
  }

  #count(kind: string): void {
    this.operations[kind] = (this.operations[kind] ?? 0) + 1;
  }

  #stall(kind: string): void {
    if (!this.#stopping) this.stalls[kind] = (this.stalls[kind] ?? 0) + 1;
  }
}

/** The bill a call shows: its YooKassa payment (the Pay button's page) and its attempt (Check payment). */
function billOf(call: RecordedCall): { readonly paymentId: string; readonly attemptId: string } | undefined {
  const markup = call.payload.reply_markup as { inline_keyboard?: { url?: string }[][] } | undefined;
  const page = (markup?.inline_keyboard ?? []).flat().find((button) => button.url?.includes("orderId="))?.url;
  const paymentId = page === undefined ? undefined : new URL(page).searchParams.get("orderId");
  const attemptId = buttonsOf(call)
    .find((data) => data.startsWith("1|w|"))
    ?.slice("1|w|".length);
  return paymentId && attemptId ? { paymentId, attemptId } : undefined;
}

/** A call that ends a generation for the user: the result, or a message saying how it ended. */
function isOutcome(call: RecordedCall): boolean {
  if (call.method === "sendPhoto" || call.method === "sendMediaGroup") return true;
  const text = textOf(call);
  return ["Nothing was charged", "⌛", "history", "You need", "already have generations running"].some((part) =>
    text.includes(part),
  );
}
