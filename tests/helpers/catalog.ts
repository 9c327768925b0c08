/** Loading the real catalog, and sample inputs for its models, in tests. */
import { readFile } from "node:fs/promises";
import { buildCatalog, type CatalogIndex, type IndexedModel, type ParamValue } from "../../catalog/build.ts";
import { catalogReader, readCatalogFiles } from "../../catalog/files.ts";
import type { Measures } from "../../catalog/quote.ts";
import type { Field } from "../../catalog/schema.ts";

export const readFiles = () => readCatalogFiles(catalogReader((path) => readFile(path, "utf8")));

export async function loadCatalog(): Promise<CatalogIndex> {
  return buildCatalog(await readFiles());
}

const SAMPLE_URL = {
  image: "https://tempfile.redpandaai.co/u/photo.jpg",
  video: "https://tempfile.redpandaai.co/u/clip.mp4",
  audio: "https://tempfile.redpandaai.co/u/voice.mp3",
};

/** A plausible value for a field, as the wizard would collect it. */
export function sampleValue(indexed: IndexedModel, field: Field): ParamValue {
  switch (field.kind) {
    case "prompt":
      return "A red fox in the snow, cinematic light";
    case "text":
      return "blurry";
    case "link":
      return `https://${field.hosts[0]}/p/s_68a1b2c3`;
    case "enum":
      return indexed.defaults[field.name] ?? indexed.offered.get(field.name)?.[0] ?? field.values[0] ?? "";
    case "boolean":
      return field.default ?? false;
    case "number":
      return field.default ?? field.min;
    case "media":
      return Array.from({ length: field.minItems }, () => SAMPLE_URL[field.media]);
  }
}

/** Every field of the model filled with a sample value. */
export function sampleParams(indexed: IndexedModel, which: "all" | "required" = "all"): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const field of indexed.model.fields) {
    if (which === "all" || field.required) out[field.name] = sampleValue(indexed, field);
  }
  return out;
}

/** Measures a metered model needs (5 seconds of each media file). */
export function sampleMeasures(indexed: IndexedModel): Measures {
  const meter = indexed.model.meter;
  return meter?.source.kind === "media_duration" ? { mediaSeconds: { [meter.source.field]: 5 } } : {};
}
