/**
 * Telegram's side of the webhook: an update is posted to the bot's
 * `/telegram/webhook` over loopback HTTP and posted again until the bot
 * answers 200, however long it is down (Telegram keeps an update for a
 * day). Now and then an update answered 200 comes again, as when the 200
 * itself was lost on the way back to Telegram. With a second process on
 * the same KV (behind a load balancer, as operators scale), each post goes
 * to one of the processes that listen, at random.
 */
import type { Update } from "grammy/types";
import { type BotRunner, WEBHOOK_SECRET } from "./bot-runner.ts";
import type { Dice } from "./random.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WebhookStats {
  /** Updates the bot answered 200. */
  accepted: number;
  /** Posts that were not answered 200 (the bot was down, starting or stopping) and went out again. */
  redeliveries: number;
  /** Updates sent again after a 200, on purpose. */
  repeatsAfterOk: number;
  /** Every answer, by HTTP status ("0": no answer, the connection failed). */
  byStatus: Record<string, number>;
}

export class TelegramWebhook {
  readonly stats: WebhookStats = { accepted: 0, redeliveries: 0, repeatsAfterOk: 0, byStatus: {} };

  constructor(
    private readonly bots: readonly BotRunner[],
    private readonly dice: Dice,
    private readonly repeatAfterOk: number,
  ) {}

  /** The base URL of a process that listens now (a random one when several do); undefined while none does. */
  baseUrl(): string | undefined {
    const up = this.bots.flatMap((bot) => bot.baseUrl ?? []);
    return up.length === 0 ? undefined : this.dice.pick(up);
  }

  /** Resolves once some process listens. */
  whenUp(): Promise<void> {
    if (this.bots.some((bot) => bot.baseUrl !== undefined)) return Promise.resolve();
    return Promise.race(this.bots.map((bot) => bot.whenUp()));
  }

  /** Delivers `update` as Telegram does: resolves once the bot answered 200 (maybe after restarts). */
  async deliver(update: Update): Promise<void> {
    await this.#untilAccepted(update);
    if (this.dice.chance(this.repeatAfterOk)) {
      this.stats.repeatsAfterOk++;
      await this.#untilAccepted(update);
    }
  }

  /** One POST to a webhook path of the bot; resolves with the HTTP status (0: no answer). */
  async post(
    path: string,
    body: BodyInit,
    headers: Record<string, string> = { "x-telegram-bot-api-secret-token": WEBHOOK_SECRET },
    method = "POST",
  ): Promise<number> {
    const base = this.baseUrl();
    if (base === undefined) return 0;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", ...headers },
        ...(method === "GET" ? {} : { body }),
        // A body given as a stream needs this (Node's fetch); harmless otherwise.
        duplex: "half",
        signal: AbortSignal.timeout(15_000),
      } as RequestInit);
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }

  async #untilAccepted(update: Update): Promise<void> {
    const body = JSON.stringify(update);
    for (let attempt = 0; ; attempt++) {
      await this.whenUp();
      const status = await this.post("/telegram/webhook", body);
      this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
      if (status === 200) {
        this.stats.accepted++;
        return;
      }
      this.stats.redeliveries++;
      await sleep(Math.min(100 * 2 ** attempt, 1_000));
    }
  }
}
