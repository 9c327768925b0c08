/**
 * Starting a host from its app module: shared by worker threads and the
 * in-thread mode, so both run the same code.
 */

import type { Endpoint } from "comlink";
import type { LogSettings } from "../src/log.ts";
import { createLogger } from "../src/log.ts";
import type { Clock } from "../src/platform/types.ts";
import type { AnyBehavior, Log } from "./behavior.ts";
import { Counters } from "./counters.ts";
import { DirectRoutes } from "./direct.ts";
import { ActorHost, type HostLimits, type HostServices } from "./host.ts";

/** What an app module's `createBehaviors` receives. */
export interface HostAppContext {
  /** The group's own configuration, as the supervisor was given it. */
  readonly appData: unknown;
  readonly services: HostServices;
  readonly log: Log;
  readonly clock: Clock;
  /** Which group and worker this host is (for logs and sharding-aware apps). */
  readonly group: string;
  readonly index: number;
  /** Counters reported with the host's stats (`/metrics` in the main thread). */
  readonly counters: Counters;
}

/**
 * The default export of a module that a worker group hosts: the actor
 * behaviours of that group.
 */
export interface HostApp {
  createBehaviors(context: HostAppContext): Promise<readonly AnyBehavior[]> | readonly AnyBehavior[];
}

/** Plain data that tells a host what to run. */
export interface HostBoot {
  readonly group: string;
  readonly index: number;
  /** URL of the app module. */
  readonly module: string;
  readonly appData: unknown;
  readonly limits: HostLimits;
  readonly askDeadlineMs: number;
  readonly logging: LogSettings;
}

/** Posted by a worker to its parent once its host is exposed. */
export const WORKER_READY = "actors:ready";

/**
 * Imports the app module and builds its host. With `portEndpoint` (workers
 * mode) the host can take direct routes to other workers, and its actors'
 * asks use them.
 */
export async function startHost(
  boot: HostBoot,
  services: HostServices,
  clock: Clock,
  portEndpoint?: (port: MessagePort) => Endpoint,
): Promise<ActorHost> {
  const log = createLogger(boot.logging, { worker: `${boot.group}-${boot.index}` });
  const app = ((await import(boot.module)) as { default: HostApp }).default;
  const routes = portEndpoint ? new DirectRoutes(services, boot.askDeadlineMs) : undefined;
  // Methods are bound one by one: over comlink `services` is a proxy, which spreading would not copy.
  const messenger: HostServices = {
    loadMany: (keys) => services.loadMany(keys),
    scan: (prefix, options) => services.scan(prefix, options),
    commitMany: (requests) => services.commitMany(requests),
    settle: (settlements) => services.settle(settlements),
    tell: (kind, id, message) => services.tell(kind, id, message),
    ask: (kind, id, message, deadlineMs) => (routes ?? services).ask(kind, id, message, deadlineMs),
  };
  const counters = new Counters();
  const behaviors = await app.createBehaviors({
    appData: boot.appData,
    services: messenger,
    log,
    clock,
    group: boot.group,
    index: boot.index,
    counters,
  });
  return new ActorHost({
    behaviors,
    services,
    clock,
    log,
    limits: boot.limits,
    counters,
    ...(routes ? { routes } : {}),
    ...(portEndpoint ? { portEndpoint } : {}),
  });
}
