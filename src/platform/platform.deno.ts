/**
 * The Deno implementation of {@link Platform}: Web Workers, `Deno.openKv`,
 * `Deno.addSignalListener`, `Deno.readTextFile` and `Deno.serve`.
 *
 * A Deno worker starts from a module URL and has no `workerData`: it tells
 * its parent it is listening ("boot"), then receives its start data as the
 * first message. Waiting for "boot" makes sure that message is not posted
 * before the worker's module (with its top-level awaits) is ready for it.
 */
import type { Endpoint } from "comlink";
import {
  declaresTooLarge,
  HttpBodyTooLargeError,
  handlerFailedResponse,
  MAX_REQUEST_BODY_BYTES,
  readCapped,
  tooLargeResponse,
} from "./http-body.ts";
import type {
  HttpHandler,
  HttpServeOptions,
  HttpServer,
  KvLocation,
  KvStore,
  Platform,
  WorkerExit,
  WorkerHandle,
  WorkerStart,
} from "./types.ts";

/** The part of the `Deno` namespace used here, typed locally so that tsc can check this file too. */
interface DenoApi {
  openKv(path?: string): Promise<KvStore>;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  env: { toObject(): Record<string, string>; set(name: string, value: string): void };
  readTextFile(path: string | URL): Promise<string>;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  stderr: { writeSync(bytes: Uint8Array): number };
  exit(code: number): never;
  errors: { NotFound: new (...args: never[]) => Error };
  serve(
    options: DenoServeOptions,
    handler: (request: Request, info: { remoteAddr: { hostname?: string } }) => Response | Promise<Response>,
  ): DenoHttpServer;
}

interface DenoServeOptions {
  port: number;
  hostname: string;
  onListen(addr: { port: number }): void;
  onError(error: unknown): Response | Promise<Response>;
}

interface DenoHttpServer {
  readonly addr: { port: number };
  shutdown(): Promise<void>;
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const BOOT = "platform:boot";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

function spawnWorker(moduleUrl: URL, data: unknown, transfer: readonly Transferable[] = []): WorkerHandle {
  const worker = new Worker(moduleUrl.href, { type: "module" });
  let resolveExit: (exit: WorkerExit) => void = () => {};
  const exited = new Promise<WorkerExit>((resolve) => {
    resolveExit = resolve;
  });
  const onBoot = (event: MessageEvent) => {
    if (event.data !== BOOT) return;
    worker.removeEventListener("message", onBoot);
    worker.postMessage(data, [...transfer]);
  };
  worker.addEventListener("message", onBoot);
  worker.addEventListener("error", (event: ErrorEvent) => {
    // An uncaught error ends a Deno worker's usefulness: report it as an exit.
    event.preventDefault();
    worker.terminate();
    resolveExit({ code: 1, error: event.message });
  });
  return {
    endpoint: worker as unknown as Endpoint,
    exited,
    terminate() {
      worker.terminate();
      resolveExit({ code: null });
      return Promise.resolve();
    },
  };
}

function workerStart<T>(): Promise<WorkerStart<T>> {
  const scope = globalThis as unknown as WorkerScope;
  return new Promise((resolve) => {
    const onStart = (event: MessageEvent) => {
      scope.removeEventListener("message", onStart);
      resolve({ data: event.data as T, endpoint: scope as unknown as Endpoint });
    };
    scope.addEventListener("message", onStart);
    scope.postMessage(BOOT);
  });
}

async function openDenoKv(location: KvLocation): Promise<KvStore> {
  switch (location.kind) {
    case "file":
      return await Deno.openKv(location.path);
    case "remote":
      // Deno reads the KV Connect token only from this variable.
      if (location.accessToken) Deno.env.set("DENO_KV_ACCESS_TOKEN", location.accessToken);
      return await Deno.openKv(location.url);
    case "memory":
      return await Deno.openKv(":memory:");
  }
}

async function readTextFile(path: string | URL): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The request with its body read in full, or the 413 answer when it is over the cap.
 * Its signal never fires, as on Node: Deno's own `request.signal` also fires after
 * every successful answer and warns about that once touched.
 */
async function cappedRequest(request: Request): Promise<Request | Response> {
  const init = { method: request.method, headers: request.headers };
  if (request.body === null) return new Request(request.url, init);
  if (declaresTooLarge(request.headers.get("content-length"), MAX_REQUEST_BODY_BYTES)) return tooLargeResponse();
  try {
    return new Request(request.url, { ...init, body: await readCapped(request.body, MAX_REQUEST_BODY_BYTES) });
  } catch (error) {
    if (error instanceof HttpBodyTooLargeError) return tooLargeResponse();
    return new Response(null, { status: 400 });
  }
}

async function serveHttp(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
  let listening: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    listening = resolve;
  });
  const server = Deno.serve(
    { port: options.port, hostname: options.hostname, onListen: () => listening(), onError: handlerFailedResponse },
    async (request, info) => {
      const capped = await cappedRequest(request);
      return capped instanceof Response ? capped : await handler(capped, { remoteAddress: info.remoteAddr.hostname });
    },
  );
  await ready;
  let closed: Promise<void> | undefined;
  return {
    port: server.addr.port,
    close(graceMs = 5_000) {
      // Deno answers requests in flight and ends kept-alive connections; past the grace the stop goes on.
      let timer: ReturnType<typeof setTimeout> | undefined;
      closed ??= Promise.race([
        server.shutdown(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]).finally(() => clearTimeout(timer));
      return closed;
    },
  };
}

const encoder = new TextEncoder();

/** The platform as Deno provides it. */
export const platform: Platform = {
  name: "deno",
  clock: { now: () => Date.now(), monotonic: () => performance.now() },
  spawnWorker,
  // Deno runs the sources themselves.
  loadable: (moduleUrl) => moduleUrl,
  workerStart,
  portEndpoint: (port) => port as unknown as Endpoint,
  openKv: openDenoKv,
  kvLimits: { maxChecks: 100, maxMutations: 1000 },
  onSignal(signal, handler) {
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  },
  env: () => Deno.env.toObject(),
  readTextFile,
  async ensureDir(path) {
    await Deno.mkdir(path, { recursive: true });
  },
  cpuCount: () => navigator.hardwareConcurrency,
  fetch: (input, init) => fetch(input, init),
  serveHttp,
  writeStderr: (line) => void Deno.stderr.writeSync(encoder.encode(`${line}\n`)),
  exit: (code) => Deno.exit(code),
};
