/** Reading the catalog data files: one per menu section, `<section>.json`. */
import type { CatalogSource } from "./actor.ts";
import { SECTIONS } from "./sections.ts";

/** The data files shipped with the program. */
export const CATALOG_DATA_DIR = new URL("./data/", import.meta.url);

/**
 * Reads every section's data file through `read` (the platform's file
 * reader, given a file name such as `images.json`).
 */
export async function readCatalogFiles(
  read: (fileName: string) => Promise<string | undefined>,
): Promise<CatalogSource[]> {
  const files: CatalogSource[] = [];
  for (const section of SECTIONS) {
    const fileName = `${section.id}.json`;
    const text = await read(fileName);
    if (text === undefined) throw new Error(`catalog file ${fileName} is missing`);
    files.push({ name: fileName, text });
  }
  return files;
}

/** The reader for a directory: `CATALOG_DIR` when configured, the shipped data otherwise. */
export function catalogReader(
  readTextFile: (path: string | URL) => Promise<string | undefined>,
  dir?: string,
): (fileName: string) => Promise<string | undefined> {
  return (fileName) =>
    readTextFile(dir === undefined ? new URL(fileName, CATALOG_DATA_DIR) : `${dir.replace(/\/+$/, "")}/${fileName}`);
}
