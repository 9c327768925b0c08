/**
 * A `fetch` for Node over `node:http(s)` with keep-alive agents.
 *
 * Node 20's built-in fetch costs about three times as much per small request
 * as `http.request` (0.4 vs 0.13 ms p50, 3.9 vs 1 ms p99 on loopback), and
 * every Bot API call pays it. Requests with a string or byte body (all JSON
 * calls) take this path; anything else (streams, form data, `Request`
 * objects) goes to the built-in fetch unchanged.
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
    const request = (protocol === "https:" ? https : http).request(
      url,
      { method: init.method ?? "GET", headers, agent: agents[protocol] },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          signal?.removeEventListener("abort", onAbort);
          const status = response.statusCode ?? 502;
          const pairs: [string, string][] = [];
          for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
            pairs.push([response.rawHeaders[i] ?? "", response.rawHeaders[i + 1] ?? ""]);
          }
          const noBody = status === 204 || status === 304 || init.method === "HEAD";
          resolve(
            new Response(noBody ? null : Buffer.concat(chunks), {
              status,
              statusText: response.statusMessage ?? "",
              headers: pairs,
            }),
          );
        });
      },
    );
    const onAbort = () => {
      const reason = abortReason(signal as AbortSignal);
      request.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      reject(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(new TypeError("fetch failed", { cause: error }));
    });
    request.end(payload);
  });
}
