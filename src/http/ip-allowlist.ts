/**
 * Sender allowlists by IP and CIDR range (IPv4 and IPv6), for webhooks that
 * carry no signature (YooKassa). Addresses are compared as numbers, so
 * `::ffff:185.71.76.1` (an IPv4 peer on a dual-stack socket) matches an
 * IPv4 range.
 */

interface Range {
  readonly v6: boolean;
  readonly base: bigint;
  readonly bits: number;
}

/** The address as a number, or undefined when it is not an IP address. */
function parseIp(text: string): { v6: boolean; value: bigint } | undefined {
  const ip = text.trim().replace(/^\[|\]$/g, "");
  const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped?.[1]) return parseIp(mapped[1]);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split(".").map(Number);
    if (parts.some((part) => part > 255)) return undefined;
    return { v6: false, value: parts.reduce((sum, part) => (sum << 8n) + BigInt(part), 0n) };
  }
  if (!/^[0-9a-f:]+$/i.test(ip) || ip.split("::").length > 2) return undefined;
  const [head = "", tail] = ip.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  if (groups.some((group) => group.length === 0 || group.length > 4)) return undefined;
  return { v6: true, value: groups.reduce((sum, group) => (sum << 16n) + BigInt(Number.parseInt(group, 16)), 0n) };
}

function parseRange(text: string): Range | undefined {
  const [address = "", prefix] = text.split("/");
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  const width = ip.v6 ? 128 : 32;
  const bits = prefix === undefined ? width : Number(prefix);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return undefined;
  const shift = BigInt(width - bits);
  return { v6: ip.v6, base: (ip.value >> shift) << shift, bits };
}

/** True when `text` is one IP address (IPv4, IPv6, or IPv4-mapped IPv6). */
export function isIpAddress(text: string): boolean {
  return parseIp(text) !== undefined;
}

/** True when `text` is an IP address or CIDR range (for configuration checks). */
export function isIpRange(text: string): boolean {
  return parseRange(text) !== undefined;
}

/** A matcher for a list of addresses and ranges (e.g. `185.71.76.0/27`, `2a02:5180::/32`). */
export function ipAllowlist(entries: readonly string[]): (ip: string | undefined) => boolean {
  const ranges = entries.map(parseRange).filter((range): range is Range => range !== undefined);
  return (ip) => {
    const parsed = ip === undefined ? undefined : parseIp(ip);
    if (parsed === undefined) return false;
    return ranges.some((range) => {
      if (range.v6 !== parsed.v6) return false;
      const shift = BigInt((range.v6 ? 128 : 32) - range.bits);
      return (parsed.value >> shift) << shift === range.base;
    });
  };
}
