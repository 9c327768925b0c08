/**
 * The request body cap both HTTP servers share: bodies are read in full
 * before the handler runs and refused with 413 past 1 MiB, so a huge or
 * endless upload costs neither memory nor a handler slot. Web-standard only.
 */

/** Largest request body `serveHttp` accepts. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** A request body larger than the cap (declared or actually sent). */
export class HttpBodyTooLargeError extends Error {
  override readonly name = "HttpBodyTooLargeError";
  readonly code = "body_too_large";
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** True when a `content-length` header already announces more than `limit` bytes. */
export function declaresTooLarge(contentLength: string | null | undefined, limit: number): boolean {
  if (contentLength === null || contentLength === undefined) return false;
  const declared = Number(contentLength);
  return Number.isFinite(declared) && declared > limit;
}

/** Joins chunks into one array; throws {@link HttpBodyTooLargeError} as soon as they pass `limit`. */
export class CappedBody {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    if (this.size > this.limit) throw new HttpBodyTooLargeError(this.limit);
    this.chunks.push(chunk);
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

/** Reads a web stream into bytes, stopping (and cancelling it) past `limit`. */
export async function readCapped(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const body = new CappedBody(limit);
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return body.bytes();
      body.add(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
}

/** The answer to an oversized body. */
export function tooLargeResponse(): Response {
  return Response.json({ ok: false, error: "payload_too_large" }, { status: 413 });
}

/** The answer when the handler threw instead of answering. */
export function handlerFailedResponse(): Response {
  return Response.json({ ok: false, error: "internal" }, { status: 500 });
}
