/**
 * A `fetch` for Node over `node:http(s)` with keep-alive agents.
 *
 * Node 20's built-in fetch costs about three times as much per small request
 * as `http.request` (0.4 vs 0.13 ms p50, 3.9 vs 1 ms p99 on loopback), and
 * every Bot API call pays it. Requests with a string or byte body (all JSON
 * calls) take this path; anything else (streams, form data, `Request`
 * objects) goes to the built-in fetch unchanged. A small body of announced
 * length is read whole; any other streams, read from the socket only as fast
 * as its reader takes it (see `streamOf`).
 */
import http from "node:http";
import https from "node:https";

const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

type SimpleBody = string | Uint8Array | undefined | null;

function isSimpleBody(body: unknown): body is SimpleBody {
  return body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** `fetch` with the fast path described above. */
export function nodeFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const url = typeof input === "string" ? new URL(input) : input instanceof URL ? input : undefined;
  const body = init.body;
  if (url === undefined || !isSimpleBody(body) || !(url.protocol in agents)) return fetch(input, init);
  const protocol = url.protocol as keyof typeof agents;
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const payload = body === undefined || body === null ? undefined : typeof body === "string" ? Buffer.from(body) : body;
  if (payload !== undefined) headers["content-length"] = String(payload.byteLength);

  return new Promise<Response>((resolve, reject) => {
    let failBody: ((error: unknown) => void) | undefined;
    const request = (protocol === "https:" ? https : http).request(
      url,
      { method: init.method ?? "GET", headers, agent: agents[protocol] },
      (response) => {
        const status = response.statusCode ?? 502;
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
          pairs.push([response.rawHeaders[i] ?? "", response.rawHeaders[i + 1] ?? ""]);
        }
        const meta = { status, statusText: response.statusMessage ?? "", headers: pairs };
        if (status === 204 || status === 304 || init.method === "HEAD") {
          done();
          response.resume();
          return resolve(new Response(null, meta));
        }
        const declared = Number(response.headers["content-length"] ?? Number.NaN);
        if (declared <= BODY_BUFFER_BYTES) {
          // Small and announced (every JSON answer): read whole, the parser never passes the declared length.
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", (error) => reject(new TypeError("terminated", { cause: error })));
          response.on("end", () => {
            done();
            resolve(new Response(Buffer.concat(chunks), meta));
          });
          return;
        }
        const body = streamOf(response, done);
        failBody = body.fail;
        resolve(new Response(body.stream, meta));
      },
    );
    /** The response is over (read, failed or cancelled): the signal no longer concerns it. */
    function done() {
      failBody = undefined;
      signal?.removeEventListener("abort", onAbort);
    }
    const onAbort = () => {
      const reason = abortReason(signal as AbortSignal);
      failBody?.(reason);
      done();
      request.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      reject(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error) => {
      const failure = new TypeError("fetch failed", { cause: error });
      failBody?.(failure);
      done();
      reject(failure);
    });
    request.end(payload);
  });
}

/** Bytes a streamed body buffers ahead of its reader before the socket is paused. */
const BODY_BUFFER_BYTES = 64 * 1024;

/**
 * A response's body as a web stream that reads the socket only as fast as
 * its reader takes bytes: a reader that stops (a size cap, a cancel) stops
 * the download, and a large body is never held in memory whole. A
 * connection lost mid-body fails the read (as fetch's "terminated" does),
 * never passes for a short body.
 */
function streamOf(
  response: http.IncomingMessage,
  done: () => void,
): { stream: ReadableStream<Uint8Array>; fail(error: unknown): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const finish = (error?: unknown) => {
    if (!open) return;
    open = false;
    done();
    if (error === undefined) controller.close();
    else controller.error(error);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(opened) {
        controller = opened;
        response.on("data", (chunk: Buffer) => {
          if (!open) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) response.pause();
        });
        response.on("end", () => finish());
        response.on("error", (error) => finish(new TypeError("terminated", { cause: error })));
        response.on("close", () => {
          if (!response.complete)
            finish(new TypeError("terminated", { cause: new Error("connection closed mid-body") }));
        });
      },
      pull() {
        response.resume();
      },
      cancel() {
        open = false;
        done();
        response.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: BODY_BUFFER_BYTES }),
  );
  return { stream, fail: (error) => finish(error) };
}
