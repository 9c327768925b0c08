/**
 * The Node implementation of {@link Platform}: `node:worker_threads`,
 * `@deno/kv`, `process` signals, `node:fs` and `node:http`.
 *
 * Node 20 cannot load TypeScript in a worker by itself, so a `.ts` worker
 * module starts through `node-worker-boot.mjs`, which registers tsx first.
 * `npm start` runs a build instead (`tools/build-node.ts`): plain JavaScript
 * in every thread, with no loader thread per worker.
 */
import { mkdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parentPort, Worker, workerData } from "node:worker_threads";
import type { Endpoint } from "comlink";
import * as nodeAdapter from "comlink/dist/esm/node-adapter.mjs";
import { nodeFetch } from "./node-fetch.ts";
import { nodeServeHttp } from "./node-http.ts";
import type { KvLocation, KvStore, Platform, WorkerExit, WorkerHandle, WorkerStart } from "./types.ts";

/**
 * comlink's adapter from Node's EventEmitter-style ports to its endpoint.
 * Its .d.ts is read as CommonJS next to an ES module, so tsc and deno check
 * both mistype the default export; the cast restores what it really is.
 */
const nodeEndpoint = (nodeAdapter as unknown as { default: (port: unknown) => Endpoint }).default;

const bootUrl = new URL("./node-worker-boot.mjs", import.meta.url);

/** Defined by the build: the sources' root and where their built modules are (both file URLs). */
declare const __KIE_BOT_BUILD__: { readonly source: string; readonly out: string } | undefined;
const build = typeof __KIE_BOT_BUILD__ === "undefined" ? undefined : __KIE_BOT_BUILD__;

/** A source module's built file when running from a build (`src/x.ts` -> `dist/src/x.js`), else itself. */
function loadable(moduleUrl: URL): URL {
  if (build === undefined || !moduleUrl.href.startsWith(build.source) || !moduleUrl.pathname.endsWith(".ts")) {
    return moduleUrl;
  }
  return new URL(moduleUrl.href.slice(build.source.length).replace(/\.ts$/, ".js"), build.out);
}

/** Node's `process` is not in the web lib, so it is reached here only. */
const proc = process;

/** The parent's flags minus `--import`/`--loader` ones: loader hooks do not carry over to workers on Node 20. */
function withoutLoaderFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--import" || arg === "--loader" || arg === "--experimental-loader") i++;
    else if (!/^--(import|loader|experimental-loader)=/.test(arg)) out.push(arg);
  }
  return out;
}

function spawnWorker(moduleUrl: URL, data: unknown, transfer: readonly Transferable[] = []): WorkerHandle {
  const typescript = moduleUrl.pathname.endsWith(".ts");
  const worker = new Worker(typescript ? fileURLToPath(bootUrl) : fileURLToPath(moduleUrl), {
    workerData: typescript ? { module: moduleUrl.href, data } : { data },
    // biome-ignore lint/suspicious/noExplicitAny: Node's transfer list type differs from the web's Transferable.
    transferList: transfer as any[],
    execArgv: withoutLoaderFlags(proc.execArgv),
  });
  let lastError: string | undefined;
  worker.on("error", (error) => {
    lastError = error instanceof Error ? error.message : String(error);
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    worker.once("exit", (code) => resolve(lastError === undefined ? { code } : { code, error: lastError }));
  });
  return {
    endpoint: nodeEndpoint(worker),
    exited,
    async terminate() {
      await worker.terminate();
    },
  };
}

async function workerStart<T>(): Promise<WorkerStart<T>> {
  if (!parentPort) throw new Error("workerStart() called outside a worker thread");
  return { data: (workerData as { data: T }).data, endpoint: nodeEndpoint(parentPort) };
}

async function openNodeKv(location: KvLocation): Promise<KvStore> {
  // Loaded on first use: only the main thread opens KV, and the binding's load (it probes the C library) costs a
  // worker tens of milliseconds at start.
  const { openKv } = await import("@deno/kv");
  switch (location.kind) {
    case "file":
      return (await openKv(location.path)) as unknown as KvStore;
    case "remote":
      return (await openKv(location.url, { accessToken: location.accessToken })) as unknown as KvStore;
    case "memory":
      return (await openKv(":memory:")) as unknown as KvStore;
  }
}

async function readTextFile(path: string | URL): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The platform as Node provides it. */
export const platform: Platform = {
  name: "node",
  clock: { now: () => Date.now(), monotonic: () => performance.now() },
  spawnWorker,
  loadable,
  workerStart,
  portEndpoint: (port) => nodeEndpoint(port),
  openKv: openNodeKv,
  kvLimits: { maxChecks: 10, maxMutations: 1000 },
  onSignal(signal, handler) {
    proc.on(signal, handler);
    return () => proc.off(signal, handler);
  },
  env: () => ({ ...proc.env }),
  readTextFile,
  async ensureDir(path) {
    await mkdir(path, { recursive: true });
  },
  cpuCount: () => availableParallelism(),
  fetch: nodeFetch as typeof fetch,
  serveHttp: nodeServeHttp,
  writeStderr: (line) => proc.stderr.write(`${line}\n`),
  exit: (code) => proc.exit(code),
};
