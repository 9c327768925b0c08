/** Reading the catalog data files (one per menu section) from `catalog/data/`. */
import type { CatalogSource } from "./actor.ts";
import { SECTIONS } from "./sections.ts";

/** Where the data files are. */
export const CATALOG_DATA_DIR = new URL("./data/", import.meta.url);

/** Reads every section's data file; `readTextFile` comes from the platform. */
export async function readCatalogFiles(
  readTextFile: (path: URL) => Promise<string | undefined>,
  dir: URL = CATALOG_DATA_DIR,
): Promise<CatalogSource[]> {
  const files: CatalogSource[] = [];
  for (const section of SECTIONS) {
    const url = new URL(`${section.id}.json`, dir);
    const text = await readTextFile(url);
    if (text === undefined) throw new Error(`catalog file ${url.pathname} is missing`);
    files.push({ name: `catalog/data/${section.id}.json`, text });
  }
  return files;
}
