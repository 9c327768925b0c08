/**
 * Downloads of result files (when Telegram cannot take a result by URL):
 * https only, hosts from an allowlist (a host or its subdomains), no IP
 * literals of private, loopback or link-local networks, every redirect
 * re-checked, and caps on size and time. A result URL comes from KIE's
 * answer, so it is outside input like any other.
 */

/** Why a download was refused or failed. */
export type FetchRefusalCode =
  | "invalid_url"
  | "not_https"
  | "host_not_allowed"
  | "private_address"
  | "too_many_redirects"
  | "http_error"
  | "too_large"
  | "timeout";

export class FetchRefused extends Error {
  override readonly name = "FetchRefused";
  constructor(
    readonly code: FetchRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SafeFetchOptions {
  readonly allowedHosts: readonly string[];
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly maxRedirects?: number;
  readonly fetch: typeof fetch;
}

/** A downloaded file. */
export interface Downloaded {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly contentType: string | undefined;
}

/** Throws {@link FetchRefused} unless `raw` may be fetched under `allowedHosts`. */
export function checkResultUrl(raw: string, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchRefused("invalid_url", "not a URL");
  }
  if (url.protocol !== "https:") throw new FetchRefused("not_https", `${url.protocol} is not allowed`);
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (isPrivateAddress(host)) throw new FetchRefused("private_address", `${host} is a private address`);
  if (!allowedHosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`))) {
    throw new FetchRefused("host_not_allowed", `${host} is not an allowed result host`);
  }
  return url;
}

/** True for IP literals that must never be fetched (and for `localhost`). */
export function isPrivateAddress(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (host.includes(":")) {
    const lower = host.toLowerCase();
    if (lower === "::" || lower === "::1") return true;
    if (/^f[cd]/.test(lower) || /^fe[89ab]/.test(lower)) return true;
    const mapped = lower.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
    return mapped ? isPrivateAddress(mapped[1] ?? "") : false;
  }
  return false;
}

/** Downloads `raw` within the options' limits, following checked redirects. */
export async function safeDownload(raw: string, options: SafeFetchOptions): Promise<Downloaded> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = checkResultUrl(raw, options.allowedHosts);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await options.fetch(url, { redirect: "manual", signal });
    } catch (error) {
      throw timeoutOr(error, url);
    }
    if (response.status >= 300 && response.status < 400) {
      discard(response);
      if (hop >= (options.maxRedirects ?? 3)) throw new FetchRefused("too_many_redirects", "too many redirects");
      url = checkResultUrl(new URL(response.headers.get("location") ?? "", url).href, options.allowedHosts);
      continue;
    }
    if (!response.ok) {
      discard(response);
      throw new FetchRefused("http_error", `HTTP ${response.status} from ${url.hostname}`);
    }
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > options.maxBytes) {
      discard(response);
      throw new FetchRefused("too_large", `${declared} bytes is over the limit`);
    }
    try {
      return {
        bytes: await readCapped(response, options.maxBytes),
        contentType: response.headers.get("content-type") ?? undefined,
      };
    } catch (error) {
      throw timeoutOr(error, url);
    }
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      void reader.cancel().catch(() => {});
      throw new FetchRefused("too_large", `more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Drops a body we will not read (without waiting: the peer may never finish it). */
function discard(response: Response): void {
  void response.body?.cancel().catch(() => {});
}

function timeoutOr(error: unknown, url: URL): Error {
  if (error instanceof FetchRefused) return error;
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError")
    return new FetchRefused("timeout", `${url.hostname} took too long`);
  return new FetchRefused("http_error", `${url.hostname}: ${error instanceof Error ? error.message : String(error)}`);
}
