/**
 * The catalog worker's app: builds the index from the data files it was
 * started with (a broken file fails the start, naming model and field) and
 * hosts the catalog actor, with the models admins hid.
 */
import type { HostApp } from "../actors/mod.ts";
import { type CatalogSource, catalogBehavior } from "./actor.ts";
import { buildCatalog } from "./build.ts";
import type { Pricing } from "./pricing.ts";

/** What the supervisor hands the catalog worker. */
export interface CatalogAppData {
  readonly files: readonly CatalogSource[];
  /** How prices are derived from KIE's credits. */
  readonly pricing: Pricing;
}

/** Where the models admins hid are kept (one key per model; shown again means deleted). */
export const ADMIN_HIDDEN_PREFIX = ["catalog_hidden"] as const;

const app: HostApp = {
  async createBehaviors({ appData, log, services }) {
    const started = performance.now();
    const { files, pricing } = appData as CatalogAppData;
    const index = buildCatalog(files, pricing);
    log.info(
      {
        models: index.models.size,
        skus: index.skuCount,
        hidden: index.hidden,
        buildMs: Math.round((performance.now() - started) * 10) / 10,
      },
      "catalog loaded",
    );
    // A restarted catalog worker still hides what admins hid.
    const page = await services.scan([...ADMIN_HIDDEN_PREFIX], { limit: 1_000 });
    const adminHidden = new Set(page.entries.map((entry) => String(entry.key[1])));
    return [catalogBehavior(index, adminHidden, pricing)];
  },
};

export default app;
