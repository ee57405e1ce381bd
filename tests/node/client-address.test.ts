import { describe, expect, it } from "vitest";
import { authCallsPerMinute, configSchema } from "../../src/env.ts";
import { type Cidr, clientAddress, parseAddress, parseCidr } from "../../src/lib/client-address.ts";

/** The Deno entry's caller address (src/deno.ts withPeerAddress), without Deno. */
const cidrs = (...texts: string[]): Cidr[] =>
  texts.map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`bad CIDR ${text}`);
    return cidr;
  });

describe("client address behind trusted proxies", () => {
  const proxies = cidrs("10.0.0.0/8", "fd00::/8", "127.0.0.1");

  it("is the peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress("203.0.113.9", "6.6.6.6", [])).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.5", "6.6.6.6", [])).toBe("10.0.0.5");
  });

  it("is the peer when the peer is not a trusted proxy", () => {
    expect(clientAddress("203.0.113.9", "6.6.6.6", proxies)).toBe("203.0.113.9");
  });

  it("is the rightmost untrusted X-Forwarded-For hop when the peer is a trusted proxy", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.4", proxies)).toBe("198.51.100.4");
    // A client-written hop left of the real one changes nothing.
    expect(clientAddress("10.1.2.3", "6.6.6.6, 198.51.100.4", proxies)).toBe("198.51.100.4");
    // Trusted hops (a proxy chain) are passed over.
    expect(clientAddress("10.1.2.3", "6.6.6.6, 198.51.100.4, 10.9.9.9, fd12::1", proxies)).toBe("198.51.100.4");
    expect(clientAddress("fd00::2", "2001:db8::7", proxies)).toBe("2001:db8::7");
  });

  it("stops at the proxy when the header is missing or a hop is malformed", () => {
    expect(clientAddress("127.0.0.1", null, proxies)).toBe("127.0.0.1");
    expect(clientAddress("10.1.2.3", "198.51.100.4, not-an-address", proxies)).toBe("10.1.2.3");
    expect(clientAddress("10.1.2.3", "10.2.2.2, 10.3.3.3", proxies)).toBe("10.2.2.2");
  });

  it("parses IPv4, IPv6 (compressed, embedded IPv4, IPv4-mapped) and CIDRs, refusing the malformed", () => {
    expect(parseAddress("::ffff:10.0.0.1")).toEqual(parseAddress("10.0.0.1"));
    expect(parseAddress("2001:db8::1")).toEqual(parseAddress("2001:0db8:0:0:0:0:0:1"));
    expect(parseAddress("::")).toEqual({ version: 6, value: 0n });
    expect(parseAddress("[::1]")).toEqual({ version: 6, value: 1n });
    for (const bad of ["", "1.2.3", "1.2.3.256", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "nginx"]) expect(parseAddress(bad)).toBeNull();
    expect(parseCidr("10.0.0.0/8")?.prefix).toBe(8);
    expect(parseCidr("192.168.1.77/24")).toEqual(parseCidr("192.168.1.0/24"));
    for (const bad of ["10.0.0.0/33", "fd00::/129", "10.0.0.0/8/1", "10.0.0.0/x", "example.com/8"]) expect(parseCidr(bad)).toBeNull();
  });

  it("TRUSTED_PROXIES accepts a CIDR list and names itself when one is malformed", () => {
    const schema = configSchema.shape.TRUSTED_PROXIES;
    expect(schema.parse("10.0.0.0/8, ::1/128")).toEqual(["10.0.0.0/8", "::1/128"]);
    expect(schema.parse(undefined)).toEqual([]);
    const bad = configSchema.safeParse({ TRUSTED_PROXIES: "10.0.0.0/8,proxy.internal" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.some((issue) => issue.path[0] === "TRUSTED_PROXIES")).toBe(true);
  });
});

describe("auth calls a minute", () => {
  it("allows the README walk-through in development, keeps 10 elsewhere, and an explicit value wins", () => {
    expect(authCallsPerMinute({ ENVIRONMENT: "development", RATE_LIMIT_AUTH_PER_MINUTE: undefined })).toBe(120);
    expect(authCallsPerMinute({ ENVIRONMENT: "production", RATE_LIMIT_AUTH_PER_MINUTE: undefined })).toBe(10);
    expect(authCallsPerMinute({ ENVIRONMENT: "test", RATE_LIMIT_AUTH_PER_MINUTE: undefined })).toBe(10);
    expect(authCallsPerMinute({ ENVIRONMENT: "development", RATE_LIMIT_AUTH_PER_MINUTE: 7 })).toBe(7);
    expect(configSchema.shape.RATE_LIMIT_AUTH_PER_MINUTE.parse("30")).toBe(30);
  });
});
