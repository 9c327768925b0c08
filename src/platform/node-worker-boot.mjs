// Starts a TypeScript worker module on Node: Node 20 does not pass loader
// hooks to worker threads, so tsx is registered here before the import.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
