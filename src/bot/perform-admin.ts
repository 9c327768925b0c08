/**
 * The shell of admin commands: carries an admin's action to the user's
 * actor, the payment actor, a broadcast or the catalog, and answers the
 * admin with the outcome or the report asked for.
 */
import type { ActorId } from "../../actors/routing.ts";
import { collectStats, resolveUser, statsText, userReport } from "./admin-reports.ts";
import type { AdminOutcome } from "./admin-turns.ts";
import { formatRub } from "./money.ts";
import type { BotShell } from "./perform.ts";
import { escapeHtml } from "./render-parts.ts";
import type { BotEffect } from "./views.ts";

/** The effects of admin commands. */
export type AdminEffect = Extract<
  BotEffect,
  { type: "adminRequest" | "adminRefund" | "adminStats" | "adminLookup" | "adminBroadcast" | "catalogVisibility" }
>;

/** Performs one admin effect of the admin's actor `id`. */
export async function performAdminEffect(shell: BotShell, effect: AdminEffect, id: ActorId): Promise<void> {
  const userId = Number(id);
  switch (effect.type) {
    case "adminBroadcast": {
      const started = await shell.catalog.ask("broadcast", effect.broadcastId, {
        type: "start",
        adminId: effect.adminId,
        text: effect.text,
      });
      if (!started.ok) shell.log.warn({ error: started.error }, "broadcast not started");
      return;
    }
    case "catalogVisibility": {
      const reply = await shell.catalog.ask("catalog", "main", {
        type: "setAdminHidden",
        modelId: effect.modelId,
        hidden: effect.hidden,
      });
      const outcome = reply.ok ? (reply.value as { ok: boolean; visible?: boolean }) : { ok: false };
      const text = !outcome.ok
        ? `No model ${escapeHtml(effect.modelId)}.`
        : `${escapeHtml(effect.modelId)}: ${outcome.visible ? "visible to users" : "hidden from users"}.`;
      await shell.api.raw.sendMessage({ chat_id: effect.chatId, text, parse_mode: "HTML" });
      return;
    }
    case "adminStats": {
      const [stats, credits] = await Promise.all([
        collectStats(shell.scan, shell.now(), shell.timeZone),
        shell.jobs.kie.credits().catch(() => undefined),
      ]);
      await shell.api.raw.sendMessage({
        chat_id: effect.chatId,
        text: statsText(stats, credits, shell.t, effect.lang, shell.pricing),
        parse_mode: "HTML",
      });
      return;
    }
    case "adminLookup": {
      const target = await resolveUser(shell.load, effect.query);
      const text =
        target === undefined
          ? `No user ${escapeHtml(effect.query)}.`
          : await userReport({ scan: shell.scan, loadMany: shell.load }, target);
      await shell.api.raw.sendMessage({ chat_id: effect.chatId, text, parse_mode: "HTML" });
      return;
    }
    case "adminRefund": {
      const told = await shell.catalog.tell("payment", "main", {
        type: "refund",
        adminId: effect.adminId,
        ...effect.refund,
      });
      if (!told.ok) shell.log.warn({ error: told.error }, "refund not queued");
      return;
    }
    case "adminRequest": {
      const reply = await shell.catalog.ask("user", effect.targetId, effect.message);
      const outcome = reply.ok ? (reply.value as AdminOutcome) : { ok: false as const, code: reply.error.code };
      shell.log.info(
        { adminId: userId, targetId: effect.targetId, action: effect.message.action.kind, outcome },
        "admin action",
      );
      const text = outcome.ok
        ? shell.t(effect.lang, "admin-done", {
            user: effect.targetId,
            balance: formatRub(outcome.balanceKopecks, effect.lang),
            blocked: outcome.blocked ? "yes" : "no",
          })
        : shell.t(effect.lang, "admin-refused", { code: outcome.code });
      await shell.api.raw.sendMessage({ chat_id: effect.chatId, text });
      return;
    }
  }
}
