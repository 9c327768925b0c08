/**
 * The shape of the catalog data files (`catalog/data/*.json`), validated
 * with zod when the catalog is loaded. One file per menu section; each holds
 * the models of that section.
 */
import { z } from "zod";

/** Text in both languages the bot speaks. */
export const Localized = z.object({ ru: z.string().min(1), en: z.string().min(1) });
/** A model name: short enough for a button. */
const Name = z.object({ ru: z.string().min(1).max(40), en: z.string().min(1).max(40) });
/** A model description: a sentence or two for the card. */
const Description = z.object({ ru: z.string().min(1).max(300), en: z.string().min(1).max(300) });
export type Localized = z.infer<typeof Localized>;

/** What a model produces. */
export const OutputMedia = z.enum(["image", "video", "audio", "text"]);
export type OutputMedia = z.infer<typeof OutputMedia>;

/** What a user sends for a media field. */
export const InputMedia = z.enum(["image", "video", "audio"]);
export type InputMedia = z.infer<typeof InputMedia>;

/** KIE API families: Market `jobs/createTask`, or a dedicated API. */
export const EndpointFamily = z.enum(["market", "veo", "suno", "runway", "gpt4o-image", "flux-kontext", "midjourney"]);
export type EndpointFamily = z.infer<typeof EndpointFamily>;

/** Generation types, each shown in one menu section. */
export const GenerationType = z.enum([
  "text-to-image",
  "image-to-image",
  "image-edit",
  "outpaint",
  "background-removal",
  "text-to-video",
  "image-to-video",
  "video-to-video",
  "video-editing",
  "upscale",
  "video-upscale",
  "lip-sync",
  "speech-to-video",
  "speech-to-text",
  "text-to-speech",
  "text-to-sound",
  "text-to-music",
  "audio-isolation",
]);
export type GenerationType = z.infer<typeof GenerationType>;

/** An enum value as KIE expects it (some fields take numbers). */
export const OptionValue = z.union([z.string().min(1), z.number()]);
export type OptionValue = z.infer<typeof OptionValue>;

const fieldBase = {
  /** The KIE field name, exactly as the API documents it. */
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
  required: z.boolean(),
};

/** One input of a model, by kind. */
export const Field = z.discriminatedUnion("kind", [
  z.object({
    ...fieldBase,
    /** The main text the user types (prompt, lyrics, text to speak). */
    kind: z.literal("prompt"),
    minLength: z.number().int().min(1).optional(),
    maxLength: z.number().int().min(1),
    /**
     * A script of "Name: line" turns sent as KIE's `[{ text, voice }]`: the
     * first speaker gets the first voice, and so on (see `dialogue.ts`).
     */
    dialogue: z
      .object({
        voices: z
          .array(z.object({ id: z.string().min(1).max(64), name: z.object({ ru: Name.shape.ru, en: Name.shape.en }) }))
          .min(1)
          .max(10),
      })
      .optional(),
  }),
  z.object({
    ...fieldBase,
    /** Secondary text (negative prompt, style, title). */
    kind: z.literal("text"),
    maxLength: z.number().int().min(1),
    default: z.string().optional(),
  }),
  z.object({
    ...fieldBase,
    kind: z.literal("enum"),
    values: z.array(OptionValue).min(1),
    default: OptionValue.optional(),
  }),
  z.object({
    ...fieldBase,
    /** A link the user pastes (e.g. a Sora share link), limited to known hosts. */
    kind: z.literal("link"),
    hosts: z.array(z.string().min(1)).min(1),
    maxLength: z.number().int().min(1),
  }),
  z.object({ ...fieldBase, kind: z.literal("boolean"), default: z.boolean().optional() }),
  z.object({
    ...fieldBase,
    kind: z.literal("number"),
    integer: z.boolean(),
    min: z.number(),
    max: z.number(),
    default: z.number().optional(),
  }),
  z.object({
    ...fieldBase,
    kind: z.literal("media"),
    media: InputMedia,
    /** True when KIE takes an array of URLs; false for a single URL string. */
    multiple: z.boolean(),
    minItems: z.number().int().min(1),
    maxItems: z.number().int().min(1),
    /** Largest file the user may send, in megabytes. */
    maxMb: z.number().positive(),
  }),
]);
export type Field = z.infer<typeof Field>;

/** How a metered price is counted: per started unit of a measured quantity. */
export const Meter = z.object({
  unit: z.enum(["second", "minute", "1000_chars", "megapixel"]),
  /** Where the quantity comes from: a media file's duration, a text's length, or a parameter. */
  source: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("media_duration"), field: z.string() }),
    z.object({ kind: z.literal("text_length"), field: z.string() }),
    z.object({ kind: z.literal("param"), field: z.string() }),
    z.object({ kind: z.literal("param_map"), field: z.string(), units: z.record(z.string(), z.number().positive()) }),
  ]),
  /** The most billed units one generation may use (e.g. 15 seconds, or 5 thousand characters). */
  max: z.number().positive(),
});
export type Meter = z.infer<typeof Meter>;

/**
 * The row of KIE's price feed (`kie-facts/snapshots/prices-*.json`) a SKU's
 * credits come from, so a test can check every SKU against KIE's price and
 * every price KIE charges against the catalog.
 */
export const FeedRef = z.object({
  /** The feed row's `model`. */
  model: z.string().min(1),
  /** The feed row's `params`, exactly ("flat" where KIE has one price). */
  params: z.union([z.literal("flat"), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))]),
  /** How many of the row's units one SKU is (e.g. 5 for a 5-second SKU of a per-second row); 1 when absent. */
  times: z.number().positive().optional(),
});
export type FeedRef = z.infer<typeof FeedRef>;

/** One priced parameter combination, as the data files write it. */
export const SkuData = z.object({
  /** Values of the priced fields; a full parameter set matches when every one is equal. */
  params: z.record(z.string(), z.union([OptionValue, z.boolean()])),
  /** What KIE charges, in credits: for one generation, or for one unit when the model has a meter. */
  credits: z.number().positive(),
  /**
   * An explicit price in kopecks, where an operator wants a round number;
   * without it the price is derived from the credits (see `pricing.ts`).
   */
  kopecks: z.number().int().positive().optional(),
  /** Usable under the free daily quota. */
  free: z.boolean(),
  /** Where `credits` comes from in KIE's price feed; absent only when the model has a `creditsNote`. */
  feed: FeedRef.optional(),
});
export type SkuData = z.infer<typeof SkuData>;

/** A SKU with its price in kopecks (of one generation, or of one meter unit), as the built catalog holds it. */
export type Sku = SkuData & { readonly kopecks: number };

/** One model. */
export const Model = z.object({
  id: z.string().min(1),
  /** The `model` value KIE expects (Market), or the model variant of a dedicated API; null when it takes none. */
  kieModel: z.string().min(1).nullable(),
  endpoint: EndpointFamily,
  type: GenerationType,
  output: OutputMedia,
  /** False keeps the model in the data but out of every menu; `unavailableReason` tells operators why. */
  available: z.boolean(),
  unavailableReason: z.string().min(1).optional(),
  name: Name,
  description: Description,
  /** What it is best at, in a few words, shown beside its name in the section list. */
  goodAt: z.object({ ru: z.string().min(1).max(48), en: z.string().min(1).max(48) }).optional(),
  /** When the model joined the catalog (YYYY-MM-DD): marked "New" for 30 days. */
  addedAt: z.iso.date().optional(),
  /** More names people type for it (a nickname, a transliteration), for search at the main menu. */
  aliases: z.array(z.string().min(2).max(40)).max(8).default([]),
  /**
   * What a free SKU does once the day's free quota is used up: "pay" charges
   * its price, "wait" (free only) waits for tomorrow, and shows no price.
   */
  afterFreeQuota: z.enum(["pay", "wait"]).default("wait"),
  /** Typical time to a result, for "expected time" on cards and confirmations. */
  typicalSeconds: z.number().int().positive(),
  fields: z.array(Field).min(1),
  /** Fixed body values every request carries (e.g. Suno's `customMode`). */
  constants: z.record(z.string(), z.unknown()).default({}),
  meter: Meter.optional(),
  /** The model's markup over KIE's cost; the section's when absent. */
  markup: z.number().positive().optional(),
  /** Why the credits do not come from KIE's price feed, when they do not (for operators). */
  creditsNote: z.string().min(1).optional(),
  skus: z.array(SkuData).min(1),
});
/** A model as the data files write it. */
export type ModelData = z.infer<typeof Model>;
/** A model with every SKU priced, as the built catalog holds it. */
export type Model = Omit<ModelData, "skus"> & { readonly skus: readonly Sku[] };

/** A data file: the models of one section. */
export const CatalogFile = z.object({
  section: z.string().min(1),
  /** The section's markup over KIE's cost (1: at cost, at the configured rate). */
  markup: z.number().positive().default(1),
  models: z.array(Model),
});
export type CatalogFile = z.infer<typeof CatalogFile>;
