import { Secret, TOTP, URI } from "otpauth";
import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode, generateTotpSecret, otpauthUri, totpAt, verifyTotp } from "#src/lib/totp.ts";

const RFC_SECRET = base32Encode(new TextEncoder().encode("12345678901234567890"));

describe("TOTP (RFC 6238)", () => {
  it.each([
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ])("matches the SHA-1 test vector at T=%i", async (seconds, expected) => {
    expect(await totpAt(RFC_SECRET, Math.floor(seconds / 30), 8)).toBe(expected);
    expect(await verifyTotp(RFC_SECRET, expected, seconds * 1000, 8)).toBe(Math.floor(seconds / 30));
  });

  it("accepts one step either side and nothing further, answering the matched step", async () => {
    const secret = generateTotpSecret();
    const now = Date.UTC(2030, 0, 1, 12, 0, 10);
    const step = Math.floor(now / 30_000);
    for (const offset of [-1, 0, 1]) {
      expect(await verifyTotp(secret, await totpAt(secret, step + offset), now)).toBe(step + offset);
    }
    for (const offset of [-2, 2]) {
      expect(await verifyTotp(secret, await totpAt(secret, step + offset), now)).toBeNull();
    }
    expect(await verifyTotp(secret, "12345", now)).toBeNull();
    expect(await verifyTotp(secret, "abcdef", now)).toBeNull();
  });

  it("agrees with an independent implementation", async () => {
    const secret = generateTotpSecret();
    const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 });
    const now = Date.now();
    expect(await totpAt(secret, Math.floor(now / 30_000))).toBe(totp.generate({ timestamp: now }));
  });

  it("makes 20-byte base32 secrets that round-trip", () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(base32Encode(base32Decode(secret))).toBe(secret);
    expect(base32Encode(new TextEncoder().encode("foobar"))).toBe("MZXW6YTBOI");
  });

  it("builds an otpauth URI that authenticator apps read", () => {
    const secret = generateTotpSecret();
    const uri = otpauthUri("ada@example.test", secret);
    expect(uri).toMatch(/^otpauth:\/\/totp\/Tend:ada%40example\.test\?/);
    const parsed = URI.parse(uri) as TOTP;
    expect(parsed).toBeInstanceOf(TOTP);
    expect(parsed.issuer).toBe("Tend");
    expect(parsed.label).toBe("ada@example.test");
    expect(parsed.secret.base32).toBe(secret);
    expect([parsed.algorithm, parsed.digits, parsed.period]).toEqual(["SHA1", 6, 30]);
  });
});
