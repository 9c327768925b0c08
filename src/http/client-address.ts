/**
 * Who sent a request: the socket's peer, or, behind one trusted proxy
 * (`TRUST_PROXY=true`), the address that proxy appended to `X-Forwarded-For`.
 *
 * Only the rightmost entry is the proxy's own writing; every entry before it
 * came from the client and may be forged (Express `trust proxy` = 1 and nginx
 * `real_ip_header` read it the same way). So the sender is the rightmost entry,
 * trimmed, and it must be an IP address: an empty or garbage rightmost entry,
 * or no header at all, means no sender, which no allowlist admits.
 *
 * @example
 * ```ts
 * requestSender({ forwardedFor: "185.71.76.10, 203.0.113.9", remoteAddress: "10.0.0.2", trustProxy: true });
 * // "203.0.113.9": the client wrote the first entry, the proxy the last
 * ```
 */
import { isIpAddress } from "./ip-allowlist.ts";

/** What the sender is read from. */
export interface SenderSource {
  /** The `X-Forwarded-For` header as received (several headers arrive joined by ", "). */
  readonly forwardedFor: string | undefined;
  /** The socket's peer (the proxy, behind one). */
  readonly remoteAddress: string | undefined;
  /** Whether one proxy in front of the bot appends the peer it saw to `X-Forwarded-For`. */
  readonly trustProxy: boolean;
}

/** The sender's IP address, or undefined when it is unknown or not an address. */
export function requestSender(source: SenderSource): string | undefined {
  const address = source.trustProxy ? source.forwardedFor?.split(",").at(-1)?.trim() : source.remoteAddress?.trim();
  return address !== undefined && isIpAddress(address) ? address : undefined;
}
