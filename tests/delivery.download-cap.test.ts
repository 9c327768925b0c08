/**
 * Result downloads through the Node platform's real fetch against a local
 * server: the size cap holds while the body streams (bytes the server wrote
 * and the download read, never the whole body), whatever the body declares,
 * and a body that only drips is stopped by the time cap.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FetchRefused, safeDownload } from "../src/delivery/safe-fetch.ts";
import { nodeFetch } from "../src/platform/node-fetch.ts";

const MiB = 1024 * 1024;
const CAP = 1 * MiB;
/** What a body 128 times the cap is generated as: 64 KiB chunks, never held in memory. */
const HUGE = 128 * MiB;
const CHUNK = 64 * 1024;
/**
 * What the kernel's socket buffers on loopback (send up to 4 MiB, receive
 * autotuned) and Node's stream buffers take ahead of a reader that stopped:
 * the server's writes run at most this far past what the download read.
 */
const SOCKET_SLACK = 16 * MiB;

interface Served {
  /** Body bytes the server handed to its socket. */
  written: number;
  /** True once the whole body was written. */
  finished: boolean;
  /** True once the connection closed (the download hung up or the body ended). */
  closed: boolean;
}

let served: Served = { written: 0, finished: false, closed: false };
let root = "";

/** Writes `total` bytes in chunks, only as fast as the socket drains. */
function pump(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(CHUNK, 0x2a);
  const next = () => {
    while (served.written < total) {
      const size = Math.min(CHUNK, total - served.written);
      served.written += size;
      if (!res.write(size === CHUNK ? chunk : chunk.subarray(0, size))) return void res.once("drain", next);
    }
    served.finished = true;
    res.end();
  };
  next();
}

const server = createServer((req, res) => {
  res.on("close", () => {
    served.closed = true;
  });
  res.statusCode = 200;
  res.setHeader("content-type", "video/mp4");
  switch (req.url) {
    case "/chunked.mp4": // no length at all: chunked transfer encoding
      return pump(res, HUGE);
    case "/lying-small.mp4": // declares 1,000 bytes, sends the huge body after them
      res.setHeader("content-length", "1000");
      return pump(res, HUGE);
    case "/lying-mid.mp4": // declares under the cap but above the buffered size, sends far more
      res.setHeader("content-length", String(CAP / 2));
      return pump(res, HUGE);
    case "/declared-huge.mp4":
      res.setHeader("content-length", String(HUGE));
      return pump(res, HUGE);
    case "/short.mp4": // declares more than it sends, then hangs up
      res.setHeader("content-length", String(CAP / 2));
      res.write(Buffer.alloc(1000, 1));
      return void setTimeout(() => res.destroy(), 20);
    case "/drip.mp4": {
      // A byte every 20 ms, never ending.
      const timer = setInterval(() => {
        served.written++;
        res.write("x");
      }, 20);
      return void res.on("close", () => clearInterval(timer));
    }
    case "/fits.mp4":
      res.setHeader("content-length", String(CAP - 1));
      return pump(res, CAP - 1);
    case "/fits-chunked.mp4":
      return pump(res, CAP);
    default:
      res.statusCode = 404;
      res.end();
  }
});

/** Bytes the download took from response bodies. */
let taken = 0;

/** The platform fetch, with the result host pointed at the local server and the body's bytes counted. */
const localFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const url = new URL(String(input));
  const response = await nodeFetch(`${root}${url.pathname}`, init);
  if (response.body === null) return response;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        taken += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, { status: response.status, headers: response.headers });
};

const options = {
  allowedHosts: ["aiquickdraw.com"],
  maxBytes: CAP,
  timeoutMs: 150,
  fetch: localFetch as typeof fetch,
};

async function download(path: string, timeoutMs = 10_000) {
  try {
    const file = await safeDownload(`https://file.aiquickdraw.com${path}`, { ...options, timeoutMs });
    return { bytes: file.bytes.byteLength };
  } catch (error) {
    if (error instanceof FetchRefused) return { refused: error.code };
    throw error;
  }
}

/** Waits until the server saw the connection close (the download hung up). */
async function hungUp(): Promise<void> {
  for (let i = 0; i < 200 && !served.closed; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("result downloads on Node stop at the size cap while streaming", () => {
  beforeEach(resetServed);

  it("refuses a chunked body with no length once it passes the cap, having read about the cap", async () => {
    expect(await download("/chunked.mp4")).toEqual({ refused: "too_large" });
    await hungUp();
    expect(served.closed).toBe(true);
    expect(served.finished).toBe(false);
    expect(taken).toBeLessThanOrEqual(CAP + 2 * CHUNK);
    expect(served.written).toBeLessThanOrEqual(CAP + SOCKET_SLACK);
  });

  it("refuses a body that declares more than the cap before reading it", async () => {
    expect(await download("/declared-huge.mp4")).toEqual({ refused: "too_large" });
    await hungUp();
    expect(served.finished).toBe(false);
    expect(taken).toBe(0);
    expect(served.written).toBeLessThanOrEqual(SOCKET_SLACK);
  });

  it("takes no more than a lying length declares, small or large, and never the rest of the body", async () => {
    // The bytes past the declared length are garbage on the connection: the download either
    // keeps the declared body or is refused when the garbage shows up in time, never more.
    const declaredOrRefused = (bytes: number) => [{ bytes }, { refused: "http_error" }];
    expect(declaredOrRefused(1000)).toContainEqual(await download("/lying-small.mp4"));
    await hungUp();
    expect(served.finished).toBe(false);
    expect(served.written).toBeLessThanOrEqual(CAP + SOCKET_SLACK);

    resetServed();
    expect(declaredOrRefused(CAP / 2)).toContainEqual(await download("/lying-mid.mp4"));
    await hungUp();
    expect(served.finished).toBe(false);
    expect(taken).toBeLessThanOrEqual(CAP / 2);
    expect(served.written).toBeLessThanOrEqual(CAP + SOCKET_SLACK);
  });

  it("still answers later requests to the same server after a lying body (no reused dirty connection)", async () => {
    for (let i = 0; i < 3; i++) {
      await download("/lying-small.mp4");
      await hungUp();
      resetServed();
      expect(await download("/fits.mp4")).toEqual({ bytes: CAP - 1 });
      resetServed();
    }
  });

  it("fails a body cut short of its declared length instead of passing it off as the file", async () => {
    expect(await download("/short.mp4")).toEqual({ refused: "http_error" });
  });

  it("downloads bodies at the cap, declared or chunked, byte for byte", async () => {
    expect(await download("/fits.mp4")).toEqual({ bytes: CAP - 1 });
    resetServed();
    expect(await download("/fits-chunked.mp4")).toEqual({ bytes: CAP });
  });

  it("stops a body that only drips at the time cap", async () => {
    expect(await download("/drip.mp4", options.timeoutMs)).toEqual({ refused: "timeout" });
    await hungUp();
    expect(served.closed).toBe(true);
  });
});

function resetServed(): void {
  served = { written: 0, finished: false, closed: false };
  taken = 0;
}
