/**
 * The caller's address where no edge vouches for it (the Deno entry): the socket's peer, or,
 * when the peer is a configured trusted proxy (TRUSTED_PROXIES), the rightmost X-Forwarded-For
 * hop that is not itself a trusted proxy. Hops left of that one are whatever the client wrote.
 */

export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefix: number;
}

interface Address {
  version: 4 | 6;
  value: bigint;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

const groups = (side: string | undefined) => (side ? side.split(":") : []);

function parseIpv6(text: string): bigint | null {
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".")) {
    const v4 = parseIpv4(body.slice(lastColon + 1));
    if (v4 === null) return null;
    body = `${body.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const words = [...left, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...right];
  let value = 0n;
  for (const word of words) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(word)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(word, 16));
  }
  return value;
}

const MAPPED_V4 = 0xffffn << 32n;

/** An IPv4 or IPv6 address (IPv4-mapped IPv6 counts as IPv4); null when it is neither. */
export function parseAddress(text: string): Address | null {
  const trimmed = text.trim().replace(/^\[(.*)\]$/, "$1");
  const v4 = parseIpv4(trimmed);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIpv6(trimmed);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 - MAPPED_V4 };
  return { version: 6, value: v6 };
}

/** "10.0.0.0/8", "fd00::/8", or a single address; null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [ip = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const address = parseAddress(ip);
  if (!address) return null;
  const width = address.version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= width)) return null;
  const shift = BigInt(width - prefix);
  return { version: address.version, network: (address.value >> shift) << shift, prefix };
}

function contains(cidr: Cidr, address: Address): boolean {
  if (cidr.version !== address.version) return false;
  const shift = BigInt((cidr.version === 4 ? 32 : 128) - cidr.prefix);
  return (address.value >> shift) << shift === cidr.network;
}

const trusted = (proxies: readonly Cidr[], text: string) => {
  const address = parseAddress(text);
  return address !== null && proxies.some((cidr) => contains(cidr, address));
};

/**
 * The client's address: `peer` unless it is a trusted proxy; then X-Forwarded-For is read from
 * the right, each trusted hop passed over, and the first hop that is not trusted is the client.
 * A malformed hop stops the walk at the proxy that passed it on.
 */
export function clientAddress(peer: string, forwardedFor: string | null | undefined, proxies: readonly Cidr[]): string {
  let candidate = peer;
  const hops = (forwardedFor ?? "").split(",").map((hop) => hop.trim()).filter(Boolean);
  while (trusted(proxies, candidate)) {
    const hop = hops.pop();
    if (hop === undefined || parseAddress(hop) === null) break;
    candidate = hop;
  }
  return candidate;
}
