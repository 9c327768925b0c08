/** What menus show: sections with counts, paged model lists, model cards. */
import type { CatalogIndex, IndexedModel } from "./build.ts";
import type { GenerationType, InputMedia, Localized, OutputMedia } from "./schema.ts";
import { FREE_SECTION, SECTIONS } from "./sections.ts";

/** A language of the bot. */
export type Lang = keyof Localized;

/** A menu section with the number of models it offers. */
export interface SectionSummary {
  readonly id: string;
  readonly title: string;
  readonly count: number;
}

/** One line of a model list. */
export interface ModelListItem {
  readonly id: string;
  readonly name: string;
  /** The lowest price ("from X ₽"), per unit for metered models. */
  readonly fromKopecks: number;
  readonly perUnit: boolean;
  readonly free: boolean;
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
  type?: GenerationType,
): ModelPage | undefined {
  const all = index.bySection.get(section);
  if (all === undefined) return undefined;
  const models = type === undefined ? all : all.filter((indexed) => indexed.model.type === type);
  const pages = Math.max(1, Math.ceil(models.length / pageSize));
  const current = Math.min(Math.max(0, Math.trunc(page)), pages - 1);
  const items = models.slice(current * pageSize, (current + 1) * pageSize).map((indexed) => listItem(indexed, lang));
  return { section, items, page: current, pages, total: models.length };
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
    typicalSeconds: model.typicalSeconds,
  };
}

function listItem(indexed: IndexedModel, lang: Lang): ModelListItem {
  return {
    id: indexed.model.id,
    name: indexed.model.name[lang],
    fromKopecks: indexed.fromKopecks,
    perUnit: indexed.model.meter !== undefined,
    free: indexed.hasFree,
  };
}
