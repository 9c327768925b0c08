/**
 * The catalog worker's app: builds the index from the data files it was
 * started with (a broken file fails the start, naming model and field) and
 * hosts the catalog actor.
 */
import type { HostApp } from "../actors/mod.ts";
import { type CatalogSource, catalogBehavior } from "./actor.ts";
import { buildCatalog } from "./build.ts";

/** What the supervisor hands the catalog worker. */
export interface CatalogAppData {
  readonly files: readonly CatalogSource[];
}

const app: HostApp = {
  createBehaviors({ appData, log }) {
    const started = performance.now();
    const index = buildCatalog((appData as CatalogAppData).files);
    log.info(
      {
        models: index.models.size,
        skus: index.skuCount,
        hidden: index.hidden,
        buildMs: Math.round((performance.now() - started) * 10) / 10,
      },
      "catalog loaded",
    );
    return [catalogBehavior(index)];
  },
};

export default app;
