/**
 * `serveHttp` for Node on `node:http`: each IncomingMessage becomes a web
 * Request (body read in full, capped, see `http-body.ts`) and the handler's
 * web Response is streamed back. Small enough that an adapter package is not
 * worth its dependency, and the cap is enforced before any handler runs.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import {
  CappedBody,
  declaresTooLarge,
  HttpBodyTooLargeError,
  handlerFailedResponse,
  MAX_REQUEST_BODY_BYTES,
  tooLargeResponse,
} from "./http-body.ts";
import type { HttpHandler, HttpServeOptions, HttpServer } from "./types.ts";

/** Reads the body of `req`, rejecting past the cap without destroying the socket (so a 413 can still be sent). */
function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  if (declaresTooLarge(req.headers["content-length"], MAX_REQUEST_BODY_BYTES)) {
    return Promise.reject(new HttpBodyTooLargeError(MAX_REQUEST_BODY_BYTES));
  }
  return new Promise((resolve, reject) => {
    const body = new CappedBody(MAX_REQUEST_BODY_BYTES);
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      try {
        body.add(chunk);
      } catch (error) {
        // Left flowing without a listener, the rest of the upload is discarded as it arrives.
        cleanup();
        reject(error);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(body.bytes());
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => onError(new Error("the connection closed before the request body ended"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

async function toRequest(req: IncomingMessage): Promise<Request> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? "");
  }
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? null : await readBody(req);
  return new Request(url, { method, headers, body });
}

async function writeResponse(res: ServerResponse, response: Response, method: string, close = false): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  if (close) headers.connection = "close";
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
  if (response.body === null || method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res);
}

async function respond(
  req: IncomingMessage,
  res: ServerResponse,
  handler: HttpHandler,
  closing: () => boolean,
): Promise<void> {
  const method = req.method ?? "GET";
  let request: Request;
  try {
    request = await toRequest(req);
  } catch (error) {
    if (error instanceof HttpBodyTooLargeError) return writeResponse(res, tooLargeResponse(), method, true);
    // An aborted upload or a request line that is not a URL.
    return writeResponse(res, new Response(null, { status: 400 }), method, true);
  }
  let response: Response;
  try {
    response = await handler(request, { remoteAddress: req.socket.remoteAddress });
  } catch {
    response = handlerFailedResponse();
  }
  // Once the server is closing, a kept-alive connection ends with this answer.
  await writeResponse(res, response, method, closing());
}

/** Listens on `hostname:port` and serves `handler`; see `Platform.serveHttp`. */
export async function nodeServeHttp(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
  let closing = false;
  const server = http.createServer((req, res) => {
    respond(req, res, handler, () => closing).catch(() => res.destroy());
  });
  // A slow or stalled client cannot hold a connection for long (Node's defaults are minutes).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    close(graceMs = 5_000) {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close((error) => {
          clearTimeout(cut);
          if (error) reject(error);
          else resolve();
        });
        // Idle keep-alive sockets would hold `close` open; requests in flight still finish.
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
