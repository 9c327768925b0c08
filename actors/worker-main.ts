/**
 * Entry module of every worker thread: receives its boot data and the port
 * to its parent's services, starts its host and exposes it over comlink.
 */
import { expose, wrap } from "comlink";
import { platform } from "../src/platform/mod.ts";
import type { HostServices } from "./host.ts";
import { type HostBoot, startHost, WORKER_READY } from "./host-boot.ts";

/** Start data of a worker: the host's boot plus the services port. */
export interface WorkerBoot extends HostBoot {
  readonly servicesPort: MessagePort;
}

const { data, endpoint } = await platform.workerStart<WorkerBoot>();
const services = wrap<HostServices>(platform.portEndpoint(data.servicesPort)) as unknown as HostServices;
const host = await startHost(data, services, platform.clock, (port) => platform.portEndpoint(port));
expose(host, endpoint);
endpoint.postMessage(WORKER_READY);
