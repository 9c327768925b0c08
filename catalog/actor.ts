/**
 * The catalog actor: holds the built index in memory (nothing to persist:
 * the data files are the source) and answers menu, price and request
 * queries. `replace` swaps in a new catalog only when it is valid.
 */
import type { ActorBehavior } from "../actors/mod.ts";
import { withAdminHidden } from "./admin-hidden.ts";
import { buildCatalog, CatalogError, type CatalogIndex, type CatalogProblem, type Params } from "./build.ts";
import { type KieRequestResult, kieRequestFor } from "./kie-request.ts";
import { type InputPlan, inputPlan } from "./plan.ts";
import { DEFAULT_PRICING, type Pricing } from "./pricing.ts";
import {
  type Lang,
  type ModelCard,
  type ModelPage,
  modelCard,
  modelPage,
  type SectionSummary,
  searchModels,
  sectionList,
} from "./queries.ts";
import { type Measures, optionPrices, type QuoteResult, quoteForParams } from "./quote.ts";
import type { GenerationType } from "./schema.ts";
import { type Validation, validateParams } from "./validate.ts";

/** A catalog data file as read from disk. */
export interface CatalogSource {
  readonly name: string;
  readonly text: string;
}

/** Questions to the catalog. */
export type CatalogQuery =
  | { readonly type: "sections"; readonly lang: Lang }
  | {
      readonly type: "models";
      readonly section: string;
      readonly page: number;
      readonly pageSize: number;
      readonly lang: Lang;
      /** The time the list is shown at, for "New" marks. */
      readonly now: number;
      /** Only models of this generation type (e.g. "background-removal" within "edit"). */
      readonly generationType?: GenerationType;
    }
  /** The models a text typed at the main menu finds. */
  | {
      readonly type: "search";
      readonly text: string;
      readonly lang: Lang;
      readonly now: number;
      readonly limit: number;
    }
  | { readonly type: "card"; readonly modelId: string; readonly lang: Lang }
  /** A model's name, hidden ones included (the history shows models users once had). */
  | { readonly type: "name"; readonly modelId: string; readonly lang: Lang }
  | { readonly type: "plan"; readonly modelId: string }
  | { readonly type: "validate"; readonly modelId: string; readonly params: Params }
  | { readonly type: "quote"; readonly modelId: string; readonly params: Params; readonly measures?: Measures }
  | {
      readonly type: "optionPrices";
      readonly modelId: string;
      readonly field: string;
      readonly params: Params;
      readonly measures?: Measures;
    }
  | { readonly type: "kieRequest"; readonly modelId: string; readonly params: Params; readonly callBackUrl?: string }
  | { readonly type: "hidden" }
  | { readonly type: "replace"; readonly files: readonly CatalogSource[] }
  /** An admin hides a model from users, or shows it again (as far as its data allows). */
  | { readonly type: "setAdminHidden"; readonly modelId: string; readonly hidden: boolean };

/** An unknown or hidden model. */
export interface UnknownModel {
  readonly ok: false;
  readonly error: { readonly code: "unknown_model"; readonly modelId: string };
}

/** Answers, by query type. */
export interface CatalogAnswers {
  sections: SectionSummary[];
  models: ModelPage | { ok: false; error: { code: "unknown_section"; section: string } };
  card: ModelCard | UnknownModel;
  name: { name: string } | UnknownModel;
  plan: InputPlan | UnknownModel;
  validate: Validation | UnknownModel;
  quote: QuoteResult | UnknownModel;
  optionPrices: ReturnType<typeof optionPrices> | UnknownModel;
  kieRequest: KieRequestResult | UnknownModel;
  hidden: CatalogIndex["hidden"];
  replace: { ok: true; models: number; skus: number } | { ok: false; problems: readonly CatalogProblem[] };
}

/** The catalog actor's state: the built index, the models admins hid, and what users see. */
export interface CatalogState {
  readonly base: CatalogIndex;
  readonly adminHidden: ReadonlySet<string>;
  readonly index: CatalogIndex;
}

/**
 * The catalog actor; `initial` is the index built when its worker started,
 * `adminHidden` the models admins hid (stored in KV, read at start),
 * `pricing` the rate a reload prices at.
 */
export function catalogBehavior(
  initial: CatalogIndex,
  adminHidden: ReadonlySet<string> = new Set(),
  pricing: Pricing = DEFAULT_PRICING,
): ActorBehavior<CatalogState, CatalogQuery, unknown> {
  const start = (): CatalogState => ({ base: initial, adminHidden, index: withAdminHidden(initial, adminHidden) });
  return {
    kind: "catalog",
    persistent: false,
    initialState: start,
    restoreState: start,
    receive(state, query) {
      if (query.type === "replace") {
        try {
          const base = buildCatalog(query.files, pricing);
          const index = withAdminHidden(base, state.adminHidden);
          return {
            state: { ...state, base, index },
            reply: { ok: true, models: index.models.size, skus: index.skuCount },
          };
        } catch (error) {
          if (error instanceof CatalogError) return { state, reply: { ok: false, problems: error.problems } };
          throw error;
        }
      }
      if (query.type === "setAdminHidden") {
        if (!state.base.models.has(query.modelId)) return { state, reply: unknownModel(query.modelId) };
        const hidden = new Set(state.adminHidden);
        if (query.hidden) hidden.add(query.modelId);
        else hidden.delete(query.modelId);
        const index = withAdminHidden(state.base, hidden);
        const visible = index.models.get(query.modelId)?.visible === true;
        return { state: { ...state, adminHidden: hidden, index }, reply: { ok: true, visible } };
      }
      return { state, reply: answer(state.index, query) };
    },
  };
}

/** Answers a read-only query (the pure core of the actor). */
export function answer(
  index: CatalogIndex,
  query: Exclude<CatalogQuery, { type: "replace" | "setAdminHidden" }>,
): unknown {
  switch (query.type) {
    case "sections":
      return sectionList(index, query.lang);
    case "models":
      return (
        modelPage(index, query.section, query.page, query.pageSize, query.lang, query.now, query.generationType) ?? {
          ok: false,
          error: { code: "unknown_section", section: query.section },
        }
      );
    case "search":
      return searchModels(index, query.text, query.lang, query.now, query.limit);
    case "card":
      return modelCard(index, query.modelId, query.lang) ?? unknownModel(query.modelId);
    case "name": {
      const model = index.models.get(query.modelId)?.model;
      return model === undefined ? unknownModel(query.modelId) : { name: model.name[query.lang] };
    }
    case "hidden":
      return index.hidden;
    default: {
      const indexed = index.models.get(query.modelId);
      if (indexed === undefined || !indexed.visible) return unknownModel(query.modelId);
      switch (query.type) {
        case "plan":
          return inputPlan(indexed);
        case "validate":
          return validateParams(indexed, query.params);
        case "quote":
          return quoteForParams(indexed, query.params, query.measures);
        case "optionPrices":
          return optionPrices(indexed, query.field, query.params, query.measures);
        case "kieRequest":
          return kieRequestFor(indexed, query.params, query.callBackUrl);
      }
    }
  }
}

function unknownModel(modelId: string): UnknownModel {
  return { ok: false, error: { code: "unknown_model", modelId } };
}
