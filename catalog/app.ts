/**
 * The catalog worker's app. The catalog actor (model index, quotes, KIE
 * payloads) is hosted here; until the catalog data lands the worker hosts
 * no actors and only answers the supervisor's heartbeats.
 */
import type { HostApp } from "../actors/mod.ts";

const app: HostApp = { createBehaviors: () => [] };

export default app;
