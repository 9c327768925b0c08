/** The wizard's screens: a step, the Parameters screen, the confirmation. */
import type { Localized } from "../../catalog/schema.ts";
import { fitQuote, TELEGRAM_LIMITS } from "../telegram/text.ts";
import { encodeAction } from "./callback-data.ts";
import { formatRub } from "./money.ts";
import {
  type Button,
  type ButtonOf,
  duration,
  escapeHtml,
  fieldLabel,
  type Screen,
  type ViewContext,
  type ViewData,
  valueLabel,
} from "./render-parts.ts";
import type { Wizard } from "./state.ts";
import { currentStep } from "./wizard.ts";

/**
 * The screen of the wizard's current position; `limit` is the room its text
 * has (less than a message when a notice goes above it).
 */
export function renderWizard(
  wizard: Wizard,
  data: ViewData,
  ctx: ViewContext,
  button: ButtonOf,
  menuRow: Button[],
  limit: number = TELEGRAM_LIMITS.messageText,
): Screen {
  const { t, lang } = ctx;
  const w = wizard.id;
  const controls = [button("btn-back", { a: "back", w }), ...menuRow, button("btn-cancel", { a: "cancel" })];
  const modelName = escapeHtml(data.card?.name ?? wizard.modelId);
  const step = currentStep(wizard);
  if (step === undefined && wizard.inParams) {
    const rows = wizard.optional.map((optional, i) => [
      {
        text: `${fieldLabel(optional.field, ctx)}: ${valueLabel(wizard.values[optional.field] ?? (optional as { default?: unknown }).default, ctx)}`,
        callback_data: encodeAction({ a: "param", w, i }),
      },
    ]);
    rows.push([button("btn-to-confirm", { a: "confirm", w })], controls);
    return { text: `<b>${modelName}</b>\n${t(lang, "params-title")}`, keyboard: rows };
  }
  if (step === undefined) return renderConfirm(wizard, data, ctx, button, controls, limit);
  const header =
    wizard.editing === undefined
      ? t(lang, "step-header", { model: modelName, n: wizard.step + 1, total: wizard.steps.length })
      : `<b>${modelName}</b> · ${escapeHtml(fieldLabel(step.field, ctx))}`;
  const rows: Button[][] = [];
  let ask: string;
  const s = step as unknown as Record<string, unknown> & { kind: string; field: string };
  switch (s.kind) {
    case "media": {
      ask = t(lang, "step-media", { media: String(s.media), max: Number(s.maxItems), mb: Number(s.maxMb) });
      const count = wizard.media[s.field]?.length ?? 0;
      if (count >= Number(s.minItems)) rows.push([button("btn-done", { a: "done", w })]);
      break;
    }
    case "prompt": {
      const voices = s.voices as Localized[] | undefined;
      ask = voices
        ? t(lang, "step-dialogue", {
            max: Number(s.maxLength),
            speakers: voices.length,
            voices: voices.map((voice) => escapeHtml(voice[lang])).join(", "),
          })
        : t(lang, "step-prompt", { max: Number(s.maxLength) });
      break;
    }
    case "link":
      ask = t(lang, "step-link", { host: String((s.hosts as string[])[0]) });
      break;
    case "text":
      ask = t(lang, "step-text", { max: Number(s.maxLength), field: fieldLabel(s.field, ctx) });
      break;
    case "number":
      ask = t(lang, "step-number", { min: Number(s.min), max: Number(s.max), field: fieldLabel(s.field, ctx) });
      break;
    case "boolean":
      ask = t(lang, "step-bool", { field: fieldLabel(s.field, ctx) });
      rows.push([button("btn-yes", { a: "option", w, i: 1 }), button("btn-no", { a: "option", w, i: 0 })]);
      break;
    default: {
      ask = t(lang, "step-option", { field: fieldLabel(s.field, ctx) });
      const values = (s.values as (string | number)[]) ?? [];
      const prices = new Map((data.optionPrices ?? []).map((option) => [String(option.value), option]));
      const buttons = values.map((value, i) => {
        const price = prices.get(String(value));
        const suffix =
          price === undefined
            ? ""
            : price.kopecks === null
              ? " · —"
              : price.free
                ? ` · ${t(lang, "free-badge")}`
                : ` · ${formatRub(price.kopecks, lang)}`;
        return { text: `${value}${suffix}`, callback_data: encodeAction({ a: "option", w, i }) };
      });
      for (let i = 0; i < buttons.length; i += 2) rows.push(buttons.slice(i, i + 2));
    }
  }
  if (wizard.optional.length > 0 && wizard.editing === undefined) rows.push([button("btn-params", { a: "params", w })]);
  rows.push(controls);
  return { text: `${header}\n\n${ask}`, keyboard: rows };
}

/**
 * The order before Generate. The prompt is quoted as long as the message
 * allows: a prompt of up to 4096 characters (as long as a Telegram message)
 * leaves no room for the rest, so its quote is shortened to fit.
 */
function renderConfirm(
  wizard: Wizard,
  data: ViewData,
  ctx: ViewContext,
  button: ButtonOf,
  controls: Button[],
  limit: number,
): Screen {
  const { t, lang } = ctx;
  const w = wizard.id;
  const lines = [
    t(lang, "confirm-title"),
    t(lang, "confirm-model", { model: escapeHtml(data.card?.name ?? wizard.modelId) }),
  ];
  // The main text is quoted on its own line: the prompt step's field (a prompt, a text to speak, a dialogue).
  const promptField =
    [...wizard.steps, ...wizard.optional].find((step) => step.kind === "prompt")?.field ??
    (wizard.values.prompt === undefined ? "text" : "prompt");
  const prompt = wizard.values[promptField];
  const promptLine = lines.length;
  if (typeof prompt === "string") lines.push("");
  const files = Object.values(wizard.media).reduce((sum, items) => sum + items.length, 0);
  if (files > 0) lines.push(t(lang, "confirm-media", { files }));
  const params = Object.entries(wizard.values)
    .filter(([field]) => field !== promptField)
    .map(([field, value]) => `${fieldLabel(field, ctx)} ${valueLabel(value, ctx)}`);
  if (params.length > 0) lines.push(t(lang, "confirm-params", { params: escapeHtml(params.join(", ")) }));
  if (data.card) {
    lines.push(t(lang, "confirm-output", { output: t(lang, `output-${data.card.output}`) }));
    lines.push(t(lang, "confirm-time", { time: duration(data.card.typicalSeconds, ctx) }));
  }
  const quote = data.quote;
  const rows: Button[][] = [];
  if (quote?.ok) {
    // The same order as `reserveFree`: today's quota, then the referral bank, then (if the model says so) the price.
    if (quote.quote.free && ctx.freeLeft > 0) {
      lines.push(t(lang, "confirm-free", { left: ctx.freeLeft }));
    } else if (quote.quote.free && ctx.freeBank > 0) {
      lines.push(t(lang, "confirm-free-bank", { left: ctx.freeBank }));
    } else if (quote.quote.free && !data.card?.paidAfterFree) {
      // A free-only model waits for tomorrow.
      lines.push(t(lang, "confirm-free-none"));
    } else {
      if (quote.quote.free) lines.push(t(lang, "confirm-free-used"));
      lines.push(t(lang, "confirm-price", { price: formatRub(quote.quote.kopecks, lang) }));
      lines.push(
        t(lang, "confirm-balance", {
          before: formatRub(ctx.balanceKopecks, lang),
          after: formatRub(ctx.balanceKopecks - quote.quote.kopecks, lang),
        }),
      );
    }
    rows.push([button("btn-generate", { a: "go", w })]);
  } else {
    lines.push(t(lang, "confirm-unpriced"));
  }
  if (wizard.optional.length > 0) rows.push([button("btn-params", { a: "params", w })]);
  rows.push(controls);
  if (typeof prompt !== "string") return { text: lines.join("\n"), keyboard: rows };
  const compose = (quote: string) =>
    lines.map((line, i) => (i === promptLine ? t(lang, "confirm-prompt", { prompt: quote }) : line)).join("\n");
  return { text: fitQuote(compose, prompt, limit), keyboard: rows };
}
