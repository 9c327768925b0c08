/**
 * Screens of jobs and history: a job's progress and how it ended, the
 * shortfall of an order, history pages and entries, and the caption and
 * buttons that go with a delivered result. Pure, like the other renderers.
 */
import type { HistoryEntry } from "../jobs/history.ts";
import { historyPages } from "../jobs/history.ts";
import type { Job } from "../jobs/job.ts";
import { isKieErrorCode, userMessageKeyOf } from "../kie/errors.ts";
import { cutText } from "../telegram/text.ts";
import { encodeAction } from "./callback-data.ts";
import { formatRub } from "./money.ts";
import {
  type Button,
  type ButtonOf,
  escapeHtml,
  QUOTE_PREVIEW,
  type Screen,
  type ViewContext,
  type ViewData,
} from "./render-parts.ts";

/** A job's answers other than files, by catalog field name (the prompt among them). */
type JobParams = Readonly<Record<string, string | number | boolean>>;

/** History entries per page. */
export const HISTORY_PAGE_SIZE = 6;

/** `m:ss` (or `h:mm:ss`) of a duration in milliseconds. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const seconds = String(total % 60).padStart(2, "0");
  const minutes = Math.floor(total / 60);
  return minutes >= 60
    ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}:${seconds}`
    : `${minutes}:${seconds}`;
}

/** A job's status message: progress while it runs, its outcome once final. */
export function renderJob(
  job: Job,
  now: number,
  data: ViewData,
  ctx: ViewContext,
  button: ButtonOf,
  menuRow: Button[],
): Screen {
  const { t, lang } = ctx;
  const model = `<b>${escapeHtml(data.card?.name ?? data.modelName ?? job.modelId)}</b>`;
  const state = job.state === "delivered" ? (job.outcome ?? job.state) : job.state;
  switch (state) {
    case "created":
      return {
        text: `${model}\n${t(lang, "job-queued")}`,
        keyboard: [[button("btn-cancel-job", { a: "cancelJob", job: job.id })], menuRow],
      };
    case "submitted":
      return {
        text: `${model}\n${t(lang, "job-generating", { elapsed: clock(now - job.createdAt) })}`,
        keyboard: [[button("btn-cancel-job", { a: "cancelJob", job: job.id })], menuRow],
      };
    case "succeeded":
      return {
        text: `${model}\n${t(lang, "job-done", { elapsed: clock(job.updatedAt - job.createdAt) })}`,
        keyboard: [menuRow],
      };
    default: {
      const reason =
        state === "failed" ? t(lang, failureKey(job.failure?.code)) : t(lang, `job-${state.replace("_", "-")}`);
      const retry = job.historySeq === undefined ? [] : [[button("btn-retry", { a: "again", seq: job.historySeq })]];
      return { text: `${model}\n${reason}\n${t(lang, "job-not-charged")}`, keyboard: [...retry, menuRow] };
    }
  }
}

/**
 * The message key that explains a job's failure code to a user: a KIE
 * client error, a task's own failure code from KIE, or one of ours.
 */
export function failureKey(code: string | undefined): string {
  if (code === undefined) return "kie-error-generation";
  if (isKieErrorCode(code)) return userMessageKeyOf(code);
  switch (code) {
    case "input_file":
      return "job-input-failed";
    case "interrupted":
      return "kie-error-busy";
    case "400":
    case "422":
      return "kie-error-params";
    default:
      return "kie-error-generation";
  }
}

/** Not enough money for an order. */
export function renderShortfall(
  wizardId: string,
  shortfall: number,
  ctx: ViewContext,
  button: ButtonOf,
  menuRow: Button[],
): Screen {
  const { t, lang } = ctx;
  return {
    text: t(lang, "job-shortfall", {
      shortfall: formatRub(shortfall, lang),
      balance: formatRub(ctx.balanceKopecks, lang),
    }),
    keyboard: [
      [button("btn-topup", { a: "page", page: "topup" })],
      [button("btn-back-to-order", { a: "confirm", w: wizardId })],
      menuRow,
    ],
  };
}

/** A page of the history, newest first. */
export function renderHistory(
  page: number,
  total: number,
  data: ViewData,
  ctx: ViewContext,
  button: ButtonOf,
  menuRow: Button[],
): Screen {
  const { t, lang } = ctx;
  const entries = data.history ?? [];
  if (total === 0 || entries.length === 0) {
    return { text: `${t(lang, "history-title")}\n${t(lang, "history-empty")}`, keyboard: [menuRow] };
  }
  const rows: Button[][] = entries.map((entry) => [
    {
      text: `${mark(entry)} ${data.names?.[entry.modelId] ?? entry.modelId} · ${dateOf(entry.createdAt, ctx)}`,
      callback_data: encodeAction({ a: "entry", seq: entry.seq }),
    },
  ]);
  const pages = historyPages(total, HISTORY_PAGE_SIZE);
  const nav: Button[] = [];
  if (page > 0) nav.push(button("btn-prev", { a: "history", page: page - 1 }));
  if (page < pages - 1) nav.push(button("btn-next", { a: "history", page: page + 1 }));
  if (nav.length > 0) rows.push(nav);
  rows.push(menuRow);
  return { text: `${t(lang, "history-title")}\n${t(lang, "history-page", { page: page + 1, pages })}`, keyboard: rows };
}

/** One history entry: what was asked, how it ended, and what can be done with it. */
export function renderHistoryEntry(data: ViewData, ctx: ViewContext, button: ButtonOf, menuRow: Button[]): Screen {
  const { t, lang } = ctx;
  const entry = data.entry;
  if (entry === undefined)
    return { text: t(lang, "history-gone"), keyboard: [[button("btn-history", { a: "history", page: 0 })], menuRow] };
  const lines = [
    `${mark(entry)} <b>${escapeHtml(data.card?.name ?? data.modelName ?? entry.modelId)}</b> · ${dateOf(entry.createdAt, ctx)}`,
  ];
  const prompt = promptOf(entry.params);
  if (prompt !== undefined) lines.push(t(lang, "confirm-prompt", { prompt: escapeHtml(preview(prompt)) }));
  lines.push(
    entry.state === "succeeded"
      ? t(lang, "history-charged", {
          price: entry.free ? t(lang, "history-free") : formatRub(entry.chargedKopecks, lang),
        })
      : `${entry.state === "failed" ? t(lang, failureKey(entry.failureCode)) : t(lang, `job-${entry.state.replace("_", "-")}`)} ${t(lang, "job-not-charged")}`,
  );
  const rows: Button[][] = [];
  if (entry.state === "succeeded") rows.push([button("btn-show-result", { a: "resend", seq: entry.seq })]);
  rows.push([
    button("btn-repeat", { a: "again", seq: entry.seq }),
    button("btn-change", { a: "change", seq: entry.seq }),
  ]);
  rows.push([button("btn-history", { a: "history", page: 0 }), ...menuRow]);
  return { text: lines.join("\n"), keyboard: rows };
}

/** The caption of a delivered result: the model and the (escaped) prompt. */
export function resultCaption(modelName: string, params: JobParams): string {
  const prompt = promptOf(params);
  const title = `<b>${escapeHtml(modelName)}</b>`;
  return prompt === undefined ? title : `${title}\n<i>${escapeHtml(preview(prompt))}</i>`;
}

/** The buttons under a result: Repeat, Change parameters, New generation, Main menu. */
export function afterResultKeyboard(seq: number, modelId: string, button: ButtonOf): Button[][] {
  return [
    [button("btn-repeat", { a: "again", seq }), button("btn-change", { a: "change", seq })],
    [button("btn-new", { a: "generate", model: modelId }), button("btn-menu", { a: "menu" })],
  ];
}

function promptOf(params: JobParams): string | undefined {
  const prompt = params.prompt ?? params.text;
  return typeof prompt === "string" && prompt !== "" ? prompt : undefined;
}

/** The start of a prompt: whole graphemes only (a cut emoji makes Telegram refuse the message). */
function preview(text: string): string {
  return cutText(text, QUOTE_PREVIEW);
}

function mark(entry: HistoryEntry): string {
  return entry.state === "succeeded" ? "✅" : entry.state === "canceled" ? "✖️" : "❌";
}

function dateOf(epochMs: number, ctx: ViewContext): string {
  return new Intl.DateTimeFormat(ctx.lang === "ru" ? "ru-RU" : "en-GB", {
    timeZone: ctx.timeZone,
    day: "2-digit",
    month: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(epochMs));
}
