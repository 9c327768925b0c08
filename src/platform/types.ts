/**
 * The capabilities the rest of the program receives from its runtime.
 *
 * Everything that differs between Deno and Node (threads, Deno KV, signals,
 * files, environment) is reached through this interface, so that the actor
 * runtime and the bot stay runtime-neutral and tests can pass fakes.
 */
import type { Endpoint } from "comlink";

/** A key part of Deno KV, shared by `Deno.Kv` and `@deno/kv`. */
export type KvKeyPart = Uint8Array | string | number | bigint | boolean;
/** A Deno KV key. */
export type KvKey = readonly KvKeyPart[];

/** One read result; `versionstamp` is null when the key is absent. */
export interface KvEntryMaybe<T = unknown> {
  readonly key: KvKey;
  readonly value: T | null;
  readonly versionstamp: string | null;
}

/** A present entry, as `list` yields them. */
export interface KvEntry<T = unknown> {
  readonly key: KvKey;
  readonly value: T;
  readonly versionstamp: string;
}

/** The answer of an atomic commit: `ok: false` means a check failed. */
export type KvCommitOutcome = { ok: true; versionstamp: string } | { ok: false };

/** The part of Deno KV's atomic operation the program uses. */
export interface KvAtomic {
  check(...checks: { key: KvKey; versionstamp: string | null }[]): KvAtomic;
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): KvAtomic;
  delete(key: KvKey): KvAtomic;
  enqueue(value: unknown, options?: { delay?: number; keysIfUndelivered?: KvKey[] }): KvAtomic;
  commit(): Promise<KvCommitOutcome>;
}

/** Selector for `list`: a prefix, optionally bounded. */
export type KvListSelector = { prefix: KvKey; start?: KvKey; end?: KvKey } | { start: KvKey; end: KvKey };

/** The part of `Deno.Kv` the program uses; both runtimes' clients satisfy it. */
export interface KvStore {
  get<T = unknown>(key: KvKey): Promise<KvEntryMaybe<T>>;
  getMany(keys: readonly KvKey[]): Promise<KvEntryMaybe[]>;
  list<T = unknown>(
    selector: KvListSelector,
    options?: { limit?: number; reverse?: boolean; batchSize?: number },
  ): AsyncIterable<KvEntry<T>>;
  atomic(): KvAtomic;
  /**
   * Calls `handler` for each queue message (enqueued with `KvAtomic.enqueue`)
   * until the KV closes; a throwing handler gets the message again later.
   */
  listenQueue(handler: (value: unknown) => Promise<void> | void): Promise<void>;
  close(): void;
}

/** Limits of one atomic operation, which differ between KV implementations. */
export interface KvLimits {
  readonly maxChecks: number;
  readonly maxMutations: number;
}

/** Where Deno KV lives: an embedded SQLite file or a KV Connect URL. */
export type KvLocation =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "remote"; readonly url: string; readonly accessToken?: string | undefined }
  | { readonly kind: "memory" };

/** Why a worker stopped, as seen by its parent. */
export interface WorkerExit {
  readonly code: number | null;
  readonly error?: string;
}

/** A started worker: its comlink endpoint and its life cycle. */
export interface WorkerHandle {
  readonly endpoint: Endpoint;
  /** Resolves when the worker has stopped, for whatever reason. */
  readonly exited: Promise<WorkerExit>;
  terminate(): Promise<void>;
}

/** What a worker receives from its parent when it starts. */
export interface WorkerStart<T> {
  readonly data: T;
  /** The endpoint to the parent thread. */
  readonly endpoint: Endpoint;
}

/** Time as the program sees it; tests pass a fake one. */
export interface Clock {
  /** Wall-clock time in epoch milliseconds (for stored timestamps and the quota day). */
  now(): number;
  /** Monotonic milliseconds (for durations, deadlines and latency). */
  monotonic(): number;
}

/** Signals the program reacts to. */
export type ProcessSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** A running HTTP server. */
export interface HttpServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /**
   * Stops accepting connections; requests in flight are answered, each
   * with `Connection: close`, and kept-alive connections end. Resolves once
   * every connection is gone, at the latest `graceMs` later (the rest are
   * cut: a client that keeps a connection busy cannot hold a stop open).
   */
  close(graceMs?: number): Promise<void>;
}

/** Where `serveHttp` listens. */
export interface HttpServeOptions {
  readonly port: number;
  readonly hostname: string;
}

/** Answers one request; errors should be answered by the handler itself (a throw becomes a bare 500). */
export type HttpHandler = (request: Request, client: HttpClientInfo) => Promise<Response> | Response;

/** Who is on the other end of a request's connection (for sender allowlists such as YooKassa's). */
export interface HttpClientInfo {
  /** The peer's IP address as the socket sees it (a proxy's, behind one). */
  readonly remoteAddress: string | undefined;
}

/** The runtime seen through one small interface (see `platform.deno.ts`, `platform.node.ts`). */
export interface Platform {
  readonly name: "deno" | "node";
  readonly clock: Clock;
  /**
   * Starts a worker from a module URL and hands it `data` (with `transfer`
   * moved, e.g. MessagePorts). The worker reads it with `workerStart`.
   */
  spawnWorker(moduleUrl: URL, data: unknown, transfer?: readonly Transferable[]): WorkerHandle;
  /**
   * Where a module of this program loads from: its source, or its built
   * file when the program runs from a build (Node's `npm start` runs
   * `dist/`, see `tools/build-node.ts`). For worker modules and their apps.
   */
  loadable(moduleUrl: URL): URL;
  /** Inside a worker: its start data and the endpoint to its parent. */
  workerStart<T>(): Promise<WorkerStart<T>>;
  /** A comlink endpoint for a MessagePort received from another thread. */
  portEndpoint(port: MessagePort): Endpoint;
  openKv(location: KvLocation): Promise<KvStore>;
  /** Atomic-operation limits of this runtime's KV client (`@deno/kv` allows 10 checks, Deno 100). */
  readonly kvLimits: KvLimits;
  /** Calls `handler` on the signal; returns the function that stops listening. */
  onSignal(signal: ProcessSignal, handler: () => void): () => void;
  /** The process environment as a plain record. */
  env(): Record<string, string | undefined>;
  /** Reads a text file; `undefined` when it does not exist. */
  readTextFile(path: string | URL): Promise<string | undefined>;
  /** Creates a directory and its parents if needed. */
  ensureDir(path: string): Promise<void>;
  cpuCount(): number;
  /**
   * The runtime's fastest `fetch` for small JSON calls (the Bot API, KIE):
   * Deno's own; on Node, one over `node:http` (see `node-fetch.ts`).
   */
  readonly fetch: typeof fetch;
  /**
   * Serves `handler` (web Request -> Response) on `hostname:port`; resolves once listening.
   * Request bodies are read in full before the handler runs and capped at 1 MiB (413 beyond),
   * so a slow or huge upload cannot hold memory or the handler. `request.signal` is not tied
   * to the connection (Deno's fires after every answer too), so handlers must end on their own.
   */
  serveHttp(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer>;
  /** Writes one line to standard error (used before logging is configured). */
  writeStderr(line: string): void;
  exit(code: number): never;
}
