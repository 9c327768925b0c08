/** What menus show: sections with counts, paged model lists, search results, model cards. */
import type { CatalogIndex, IndexedModel } from "./build.ts";
import type { GenerationType, InputMedia, Localized, OutputMedia } from "./schema.ts";
import { matchScore, searchQueryOf } from "./search.ts";
import { FREE_SECTION, SECTIONS } from "./sections.ts";

/** A language of the bot. */
export type Lang = keyof Localized;

/** A menu section with the number of models it offers. */
export interface SectionSummary {
  readonly id: string;
  readonly title: string;
  readonly count: number;
}

/** How long a model added to the catalog is marked "New". */
export const NEW_FOR_MS = 30 * 86_400_000;

/** One line of a model list. */
export interface ModelListItem {
  readonly id: string;
  readonly name: string;
  /** What it is best at, in a few words. */
  readonly goodAt?: string;
  /** The lowest price ("from X ₽"), per unit for metered models; 0 for a free-only model, which shows none. */
  readonly fromKopecks: number;
  readonly perUnit: boolean;
  readonly free: boolean;
  readonly freeOnly: boolean;
  /** Added in the last 30 days. */
  readonly isNew: boolean;
}

/** The models a typed text finds, best match first. */
export interface SearchResult {
  readonly items: readonly ModelListItem[];
  /** How many models matched (more than `items` when cut at the limit). */
  readonly total: number;
}

/** A page of a section's models. */
export interface ModelPage {
  readonly section: string;
  readonly items: readonly ModelListItem[];
  readonly page: number;
  readonly pages: number;
  readonly total: number;
}

/** What a model card shows. */
export interface ModelCard {
  readonly id: string;
  readonly section: string;
  readonly name: string;
  readonly description: string;
  readonly output: OutputMedia;
  /** What the user sends, in plan order. */
  readonly inputs: readonly {
    readonly media: InputMedia | "text" | "link";
    readonly min: number;
    readonly max: number;
    readonly required: boolean;
  }[];
  readonly fromKopecks: number;
  readonly toKopecks: number;
  readonly perUnit?: string;
  readonly free: boolean;
  /** Every option is free and waits for tomorrow once the quota is used: no price to show. */
  readonly freeOnly: boolean;
  /** Free options are charged their price once the day's free quota is used up. */
  readonly paidAfterFree: boolean;
  readonly typicalSeconds: number;
}

/** Sections in menu order with their counts; "free" first, empty sections left out. */
export function sectionList(index: CatalogIndex, lang: Lang): SectionSummary[] {
  return [FREE_SECTION, ...SECTIONS]
    .map((section) => ({
      id: section.id,
      title: section.title[lang],
      count: index.bySection.get(section.id)?.length ?? 0,
    }))
    .filter((section) => section.count > 0);
}

/** One page (0-based) of a section's visible models, best or newest first (data order). Undefined for an unknown section. */
export function modelPage(
  index: CatalogIndex,
  section: string,
  page: number,
  pageSize: number,
  lang: Lang,
  now: number,
  type?: GenerationType,
): ModelPage | undefined {
  const all = index.bySection.get(section);
  if (all === undefined) return undefined;
  const models = type === undefined ? all : all.filter((indexed) => indexed.model.type === type);
  const pages = Math.max(1, Math.ceil(models.length / pageSize));
  const current = Math.min(Math.max(0, Math.trunc(page)), pages - 1);
  const items = models
    .slice(current * pageSize, (current + 1) * pageSize)
    .map((indexed) => listItem(indexed, lang, now));
  return { section, items, page: current, pages, total: models.length };
}

/** The visible models a typed text finds (see `search.ts`), best match first, then in menu order. */
export function searchModels(index: CatalogIndex, text: string, lang: Lang, now: number, limit: number): SearchResult {
  const query = searchQueryOf(text);
  if (query === undefined) return { items: [], total: 0 };
  const found: { indexed: IndexedModel; score: number; order: number }[] = [];
  let order = 0;
  for (const indexed of index.models.values()) {
    order++;
    if (!indexed.visible) continue;
    const score = matchScore(indexed.searchKey, query);
    if (score > 0) found.push({ indexed, score, order });
  }
  found.sort((a, b) => b.score - a.score || a.order - b.order);
  return { items: found.slice(0, limit).map(({ indexed }) => listItem(indexed, lang, now)), total: found.length };
}

/** A model's card; undefined for unknown or hidden models. */
export function modelCard(index: CatalogIndex, id: string, lang: Lang): ModelCard | undefined {
  const indexed = index.models.get(id);
  if (indexed === undefined || !indexed.visible) return undefined;
  const { model } = indexed;
  const inputs = model.fields
    .filter((field) => field.required && (field.kind === "media" || field.kind === "prompt" || field.kind === "link"))
    .sort((a, b) => Number(b.kind === "media") - Number(a.kind === "media"))
    .map((field) =>
      field.kind === "media"
        ? { media: field.media, min: field.minItems, max: field.maxItems, required: field.required }
        : {
            media: field.kind === "link" ? ("link" as const) : ("text" as const),
            min: 1,
            max: 1,
            required: field.required,
          },
    );
  return {
    id: model.id,
    section: indexed.section,
    name: model.name[lang],
    description: model.description[lang],
    output: model.output,
    inputs,
    fromKopecks: indexed.fromKopecks,
    toKopecks: indexed.toKopecks,
    ...(model.meter ? { perUnit: model.meter.unit } : {}),
    free: indexed.hasFree,
    freeOnly: indexed.freeOnly,
    paidAfterFree: indexed.hasFree && model.afterFreeQuota === "pay",
    typicalSeconds: model.typicalSeconds,
  };
}

function listItem(indexed: IndexedModel, lang: Lang, now: number): ModelListItem {
  const { model } = indexed;
  return {
    id: model.id,
    name: model.name[lang],
    ...(model.goodAt ? { goodAt: model.goodAt[lang] } : {}),
    fromKopecks: indexed.fromKopecks,
    perUnit: model.meter !== undefined,
    free: indexed.hasFree,
    freeOnly: indexed.freeOnly,
    isNew: indexed.addedAtMs !== undefined && now - indexed.addedAtMs < NEW_FOR_MS && now >= indexed.addedAtMs,
  };
}
