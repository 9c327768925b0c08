/**
 * The payment worker's app. The payment actor (provider adapters,
 * idempotent intake) is hosted here; until payments land the worker hosts
 * no actors and only answers the supervisor's heartbeats.
 */
import type { HostApp } from "../../actors/mod.ts";

const app: HostApp = { createBehaviors: () => [] };

export default app;
