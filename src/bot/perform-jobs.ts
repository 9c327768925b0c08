/**
 * The shell of the user actor's jobs: prices an order, uploads the user's
 * files and creates the KIE task, reads task status, shows progress and
 * delivers results. Each outcome goes back to the actor as a message; the
 * actor's next turn records it before anything else happens.
 */
import { GrammyError } from "grammy/web";
import type { ActorId } from "../../actors/routing.ts";
import type { KieRequestResult } from "../../catalog/kie-request.ts";
import type { ModelCard } from "../../catalog/queries.ts";
import type { QuoteResult } from "../../catalog/quote.ts";
import { mayPassLater, ResultUndeliverable, sendResult } from "../delivery/send-result.ts";
import type { HistoryEntry } from "../jobs/history.ts";
import type { Job, JobRecord, JobResult } from "../jobs/job.ts";
import { resultKey } from "../jobs/keys.ts";
import { joinResult, ResultChunk } from "../jobs/result.ts";
import type { KieClient } from "../kie/client.ts";
import { KieError } from "../kie/errors.ts";
import type { TelegramSettings } from "../telegram/api.ts";
import type { UserMessage } from "./core.ts";
import type { Lang } from "./i18n.ts";
import type { QuoteOutcome } from "./job-core.ts";
import { askCatalog, type BotShell, loadHistoryEntry, quoteInput, renderScreen, show, startWizard } from "./perform.ts";
import { afterResultKeyboard, resultCaption } from "./render-jobs.ts";
import { buttonsFor } from "./render-parts.ts";
import type { MediaItem } from "./state.ts";
import type { BotEffect, Target } from "./views.ts";

/** What jobs need from the shard besides the Bot API and the catalog. */
export interface JobShell {
  readonly kie: KieClient;
  /** KIE's callback URL for new tasks; undefined when the bot has no public address (polling only). */
  readonly callBackUrl: string | undefined;
  /** For downloading the user's files from Telegram (the URL carries the token: it never leaves the bot). */
  readonly telegram: TelegramSettings;
  readonly fetch: typeof fetch;
  /** Limits of fetching result files when Telegram cannot take them by URL. */
  readonly results: { readonly allowedHosts: readonly string[]; readonly maxBytes: number; readonly timeoutMs: number };
  /** Counts a job reaching a state: created when submitted, then its final state (metrics). */
  readonly count?: (state: Job["state"]) => void;
}

/** Telegram lets bots download files up to 20 MB. */
const TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024;

/** A user's file that could not be brought to KIE. */
export class InputFileError extends Error {
  override readonly name = "InputFileError";
  readonly code = "input_file";
}

type JobEffect = Extract<
  BotEffect,
  { type: "quote" | "submit" | "checkStatus" | "progress" | "deliver" | "reuse" | "resend" }
>;
type Tell = (message: UserMessage) => void;

/**
 * Performs one job effect of the user actor `id`. Calls to KIE, uploads
 * and deliveries can take minutes: they run detached, so the user's other
 * messages (a Cancel press, browsing) are not queued behind them; their
 * outcome comes back to the actor as a message. A process that stops while
 * one runs leaves the job as its last commit says, and the start-up resume
 * takes it from there.
 */
export async function performJobEffect(shell: BotShell, effect: JobEffect, id: ActorId, tellSelf: Tell): Promise<void> {
  switch (effect.type) {
    case "quote": {
      const quote = await quoteOrder(shell, effect.wizard.modelId, effect.wizard, effect.lang);
      shell.log.debug({ userId: Number(id), wizardId: effect.wizard.id, ok: quote.ok }, "order priced");
      tellSelf({ type: "quoted", wizardId: effect.wizard.id, target: effect.target, quote });
      return;
    }
    case "submit":
      shell.jobs.count?.("created");
      detach(shell, async () => tellSelf(await submit(shell, effect.job)));
      return;
    case "checkStatus":
      detach(shell, async () => tellSelf(await checkStatus(shell, effect.job, effect.via, effect.seq)));
      return;
    case "progress":
      await progress(shell, id, effect.job, effect.now, tellSelf);
      return;
    case "deliver":
      if (!effect.resumed) shell.jobs.count?.(effect.job.state);
      detach(shell, async () => {
        let outcome: Delivery = "told";
        try {
          outcome = await deliver(shell, id, effect.job, effect.resumed, effect.result);
        } catch (error) {
          // The user was not told. What may pass by itself is tried again later (the actor decides how
          // often); anything else ends the delivery here: nothing is sent twice, the history keeps the result.
          if (!mayPassLater(error)) throw error;
          outcome = "unsent";
          shell.log.warn(
            { err: error, jobId: effect.job.id, failedBefore: effect.job.deliveries ?? 0 },
            "nothing of the job's delivery reached the user",
          );
        } finally {
          tellSelf({
            type: "delivered",
            jobId: effect.job.id,
            undeliverable: outcome === "undeliverable",
            ...(outcome === "unsent" ? { unsent: true } : {}),
          });
        }
      });
      return;
    case "reuse": {
      const entry = await loadHistoryEntry(shell, Number(id), effect.seq);
      if (entry === undefined) return notFound(shell, id, effect.target, effect.lang, tellSelf);
      const prefill = { values: entry.params, media: entry.media, at: effect.at };
      await startWizard(shell, id, { ...effect, modelId: entry.modelId, page: 0, prefill }, tellSelf);
      return;
    }
    case "resend": {
      const entry = await loadHistoryEntry(shell, Number(id), effect.seq);
      if (entry === undefined || entry.state !== "succeeded")
        return notFound(shell, id, effect.target, effect.lang, tellSelf);
      detach(shell, () => sendEntry(shell, Number(id), effect.target.chatId, effect.lang, entry));
      return;
    }
  }
}

/** Runs slow work outside the actor's turn; a failure is logged (the job's state says what is left to do). */
function detach(shell: BotShell, work: () => Promise<void>): void {
  work().catch((error: unknown) => shell.log.error({ err: error }, "job effect failed"));
}

async function notFound(shell: BotShell, id: ActorId, target: Target, lang: Lang, tellSelf: Tell): Promise<void> {
  const screen = await renderScreen(shell, id, {
    lang,
    view: { kind: "history", page: 0, total: 0 },
    notice: { key: "history-gone" },
  });
  const sent = await show(shell, target, screen);
  if (sent !== undefined) tellSelf({ type: "shown", messageId: sent });
}

async function quoteOrder(
  shell: BotShell,
  modelId: string,
  wizard: Parameters<typeof quoteInput>[0],
  lang: Lang,
): Promise<QuoteOutcome> {
  const { params, measures } = quoteInput(wizard);
  const [quote, card] = await Promise.all([
    askCatalog<QuoteResult | { ok: false; error: { code: "unknown_model" } }>(shell, {
      type: "quote",
      modelId,
      params,
      measures,
    }),
    askCatalog<ModelCard | { ok: false }>(shell, { type: "card", modelId, lang }),
  ]);
  if (quote === undefined || card === undefined || !("id" in card)) return { ok: false, code: "unknown_model" };
  if (!quote.ok) {
    const code = quote.error.code;
    // Which fields the catalog refused (names and codes only: never the user's text).
    if (code === "invalid_params") {
      shell.log.warn(
        {
          model: modelId,
          wizardId: wizard.id,
          step: wizard.step,
          answered: Object.keys(wizard.values),
          fields: "errors" in quote.error ? quote.error.errors : [],
        },
        "order refused by the catalog",
      );
    }
    return { ok: false, code: code === "invalid_params" || code === "price_unresolved" ? code : "unknown_model" };
  }
  return {
    ok: true,
    kopecks: quote.quote.kopecks,
    free: quote.quote.free,
    credits: quote.quote.credits,
    ...(quote.quote.free && card.paidAfterFree ? { paidAfterFree: true } : {}),
    output: card.output,
  };
}

/** Uploads the job's files to KIE, builds the request from the catalog and creates the task. */
async function submit(shell: BotShell, job: JobRecord): Promise<UserMessage> {
  try {
    const params: Record<string, string | number | boolean | string[]> = { ...job.params };
    for (const [field, files] of Object.entries(job.media)) {
      params[field] = await Promise.all(files.map((file) => uploadUserFile(shell, file, job)));
    }
    const built = await askCatalog<KieRequestResult | { ok: false }>(shell, {
      type: "kieRequest",
      modelId: job.modelId,
      params,
      ...(shell.jobs.callBackUrl ? { callBackUrl: shell.jobs.callBackUrl } : {}),
    });
    if (built === undefined || !built.ok) return { type: "submitFailed", jobId: job.id, code: "invalid_params" };
    const taskId = await shell.jobs.kie.createTask(built.request);
    shell.log.info({ jobId: job.id, taskId, model: job.modelId }, "KIE task created");
    return { type: "submitted", jobId: job.id, taskId, family: built.request.family };
  } catch (error) {
    const code = codeOf(error);
    // A wrong key, an empty KIE account or a disabled model is ours to fix, not the user's.
    const level = OPERATOR_CODES.has(code) ? "error" : "warn";
    shell.log[level]({ jobId: job.id, model: job.modelId, code, err: error }, "job could not be submitted");
    return { type: "submitFailed", jobId: job.id, code };
  }
}

async function checkStatus(
  shell: BotShell,
  job: Job,
  via: "poll" | "callback" | "resume",
  seq: number,
): Promise<UserMessage> {
  if (job.family === undefined || job.taskId === undefined) {
    return { type: "statusFailed", jobId: job.id, via, seq, code: "not_found" };
  }
  try {
    return { type: "status", jobId: job.id, via, seq, status: await shell.jobs.kie.status(job.family, job.taskId) };
  } catch (error) {
    const code = codeOf(error);
    shell.log.warn({ jobId: job.id, taskId: job.taskId, code }, "KIE status read failed");
    return { type: "statusFailed", jobId: job.id, via, seq, code };
  }
}

const OPERATOR_CODES = new Set(["unauthorized", "insufficient_credits", "feature_disabled"]);

function codeOf(error: unknown): string {
  if (error instanceof KieError || error instanceof InputFileError) return error.code;
  return "server_error";
}

/** Shows where the job is (editing its status message) and a chat action while it generates. */
async function progress(shell: BotShell, id: ActorId, job: Job, now: number, tellSelf: Tell): Promise<void> {
  const target: Target = {
    chatId: job.chatId,
    ...(job.statusMessageId === undefined ? {} : { messageId: job.statusMessageId }),
  };
  const screen = await renderScreen(shell, id, { lang: job.lang, view: { kind: "job", job, now } });
  const [sent] = await Promise.all([
    show(shell, target, screen),
    job.state === "submitted"
      ? shell.api.raw.sendChatAction({ chat_id: job.chatId, action: CHAT_ACTIONS[job.output] }).catch(() => undefined)
      : undefined,
  ]);
  if (sent !== undefined) tellSelf({ type: "statusShown", jobId: job.id, messageId: sent });
}

const CHAT_ACTIONS = {
  image: "upload_photo",
  video: "upload_video",
  audio: "upload_voice",
  text: "typing",
} as const;

/**
 * How a delivery went: the user was told, or the result could not be sent
 * in any form (the actor gives the money back), or nothing reached the user
 * on errors that may pass (the actor tries again later).
 */
type Delivery = "told" | "undeliverable" | "unsent";

/**
 * Tells the user how the job ended. After a restart, or after a delivery
 * that reached nothing, a result may already have gone out in part, so only
 * a pointer to the history is sent. Throws when the message that tells the
 * user (the outcome, or the pointer) could not be sent.
 */
async function deliver(
  shell: BotShell,
  id: ActorId,
  job: JobRecord,
  resumed: boolean,
  result: JobResult | undefined,
): Promise<Delivery> {
  const target: Target = {
    chatId: job.chatId,
    ...(job.statusMessageId === undefined ? {} : { messageId: job.statusMessageId }),
  };
  const statusScreen = await renderScreen(shell, id, {
    lang: job.lang,
    view: { kind: "job", job, now: job.updatedAt },
  });
  if (job.state !== "succeeded") {
    await show(shell, resumed ? { chatId: job.chatId } : target, statusScreen);
    return "told";
  }
  if (resumed) {
    const view = { kind: "historyEntry", seq: job.historySeq ?? 0 } as const;
    const notice = { key: (job.deliveries ?? 0) > 0 ? "job-result-late" : "job-resumed" };
    await show(shell, { chatId: job.chatId }, await renderScreen(shell, id, { lang: job.lang, view, notice }));
    return "told";
  }
  await show(shell, target, statusScreen).catch((error: unknown) =>
    shell.log.warn({ err: error }, "status message not updated"),
  );
  try {
    await sendJobResult(shell, job.chatId, job.lang, {
      modelId: job.modelId,
      output: job.output,
      params: job.params,
      urls: result?.urls ?? [],
      text: result?.text,
      seq: job.historySeq ?? 0,
    });
    return "told";
  } catch (error) {
    if (!(error instanceof ResultUndeliverable)) {
      // Part of the result may have gone out: not sent again, but kept in the history. When even the
      // pointer to it fails, the error goes up: the user may have been told nothing at all.
      shell.log.error({ err: error, jobId: job.id }, "result delivery failed; pointing the user to the history");
      const view = { kind: "historyEntry", seq: job.historySeq ?? 0 } as const;
      const screen = await renderScreen(shell, id, { lang: job.lang, view, notice: { key: "job-delivery-failed" } });
      await show(shell, { chatId: job.chatId }, screen);
      return "told";
    }
    shell.log.error({ jobId: job.id, taskId: job.taskId }, "no result URL of the job could be delivered");
    await show(
      shell,
      { chatId: job.chatId },
      await renderScreen(shell, id, { lang: job.lang, view: { kind: "notice" }, notice: { key: "job-undeliverable" } }),
    );
    return "undeliverable";
  }
}

/** Sends a history entry's result again, from its result records (older entries carry it themselves). */
async function sendEntry(
  shell: BotShell,
  userId: number,
  chatId: number,
  lang: Lang,
  entry: HistoryEntry,
): Promise<void> {
  let result: JobResult = { urls: entry.urls, ...(entry.text === undefined ? {} : { text: entry.text }) };
  if (entry.resultChunks !== undefined && entry.resultChunks > 0) {
    const keys = Array.from({ length: entry.resultChunks }, (_, i) => resultKey(userId, entry.seq, i));
    const chunks = (await shell.load(keys)).flatMap((stored) => {
      const chunk = ResultChunk.safeParse(stored.value);
      return chunk.success ? [chunk.data] : [];
    });
    result = joinResult(entry.jobId, chunks);
  }
  await sendJobResult(shell, chatId, lang, { ...entry, urls: result.urls, text: result.text });
}

async function sendJobResult(
  shell: BotShell,
  chatId: number,
  lang: Lang,
  result: {
    readonly modelId: string;
    readonly output: Job["output"];
    readonly params: JobRecord["params"];
    readonly urls: readonly string[];
    readonly text: string | undefined;
    readonly seq: number;
  },
): Promise<void> {
  const card = await askCatalog<ModelCard | { ok: false }>(shell, { type: "card", modelId: result.modelId, lang });
  const name = card && "id" in card ? card.name : result.modelId;
  await sendResult(
    { api: shell.api, fetch: shell.jobs.fetch, ...shell.jobs.results },
    {
      chatId,
      output: result.output,
      urls: result.urls,
      ...(result.text === undefined ? {} : { text: result.text }),
      caption: resultCaption(name, result.params),
      keyboard: afterResultKeyboard(result.seq, result.modelId, buttonsFor(shell.t, lang)),
    },
  );
}

/** Brings one of the user's files from Telegram to KIE's upload API; returns the URL KIE reads it from. */
async function uploadUserFile(shell: BotShell, file: MediaItem, job: Job): Promise<string> {
  let path: string | undefined;
  try {
    path = (await shell.api.getFile(file.fileId)).file_path;
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 400)
      throw new InputFileError(`getFile: ${error.description}`);
    throw error;
  }
  if (path === undefined) throw new InputFileError("Telegram gave no file path");
  const { botToken, apiRoot } = shell.jobs.telegram;
  const response = await shell.jobs.fetch(`${apiRoot}/file/bot${botToken}/${path}`, {
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new InputFileError(`the file download answered HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > TELEGRAM_DOWNLOAD_LIMIT)
    throw new InputFileError("the file is over Telegram's download limit");
  const fileName = path.split("/").pop() || `${file.kind}-${file.fileUniqueId}`;
  return await shell.jobs.kie.uploadFile(
    { bytes, fileName, mimeType: mimeOf(fileName, file.kind) },
    `telegram/${job.userId}`,
  );
}

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  mp4: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  wav: "audio/wav",
};

const MIME_BY_KIND = { image: "image/jpeg", video: "video/mp4", audio: "audio/mpeg" } as const;

function mimeOf(fileName: string, kind: MediaItem["kind"]): string {
  const extension = fileName.split(".").pop()?.toLowerCase() ?? "";
  return MIME_BY_EXTENSION[extension] ?? MIME_BY_KIND[kind];
}
