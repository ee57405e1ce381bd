import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "#src/env.ts";
import { hashRecoveryCode, recoveryCodeLookupHashes } from "#src/features/mfa/mfa.recovery-codes.ts";
import { hmacSha256Hex, randomToken } from "#src/lib/encoding.ts";
import { currentPurposeKey, hmacHex, KEY_PURPOSES, purposeKeys } from "#src/lib/keys.ts";

const peppers = () => parseConfig(env).PASSWORD_PEPPERS;
const message = "the same message";

describe("keys per purpose", () => {
  it("derives a different key for each label, and none is the pepper itself", async () => {
    const [pepper] = peppers();
    const idempotency = await currentPurposeKey("idempotency", peppers());
    const recovery = await currentPurposeKey("recoveryCodes", peppers());
    const macs = [
      await hmacHex(idempotency.key, message),
      await hmacHex(recovery.key, message),
      await hmacSha256Hex(pepper?.secret ?? "", message),
    ];
    expect(new Set(macs).size).toBe(3);
    expect(KEY_PURPOSES.idempotency.label).toBe("tend/idempotency/v1");
    expect(KEY_PURPOSES.recoveryCodes.label).toBe("tend/recovery-codes/v1");
  });

  it("is HKDF-SHA-256 of the pepper with the purpose's label, as WebCrypto computes it", async () => {
    const [pepper] = peppers();
    const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(pepper?.secret ?? ""), "HKDF", false, ["deriveBits"]);
    const info = new TextEncoder().encode("tend/idempotency/v1");
    const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, base, 256);
    const expected = await crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const { key } = await currentPurposeKey("idempotency", peppers());
    expect(await hmacHex(key, message)).toBe(await hmacHex(expected, message));
  });

  it("names each key by purpose and pepper id, and derives it once per isolate", async () => {
    const first = await purposeKeys("idempotency", peppers());
    const again = await purposeKeys("idempotency", peppers());
    expect(first.map((key) => key.id)).toEqual(peppers().map((pepper) => `i1.${pepper.id}`));
    expect(again[0]?.key).toBe(first[0]?.key);
    expect((await currentPurposeKey("recoveryCodes", peppers())).id).toBe(`r1.${peppers()[0]?.id}`);
  });

  it("rotates with the peppers: a new first pepper gives new keys, the old ones stay listed", async () => {
    const rotated = [{ id: "p9", secret: randomToken() }, ...peppers()];
    const keys = await purposeKeys("idempotency", rotated);
    expect(keys.map((key) => key.id)).toEqual(rotated.map((pepper) => `i1.${pepper.id}`));
    expect(await hmacHex(keys[0]!.key, message)).not.toBe(await hmacHex(keys[1]!.key, message));
  });
});

describe("recovery codes across a pepper rotation", () => {
  const userId = crypto.randomUUID();
  const code = "abcd-efgh";

  it("still finds a code hashed under the older pepper", async () => {
    const stored = await hashRecoveryCode(code, userId, peppers());
    const rotated = [{ id: "p9", secret: randomToken() }, ...peppers()];
    expect(await hashRecoveryCode(code, userId, rotated)).not.toBe(stored);
    expect(await recoveryCodeLookupHashes(" ABCD efgh ", userId, rotated)).toContain(stored);
  });

  it("still finds a code stored before keys were derived (keyed by the pepper itself)", async () => {
    const [pepper] = peppers();
    const legacy = await hmacSha256Hex(pepper?.secret ?? "", `recovery-code:${userId}:${code}`);
    expect(await hashRecoveryCode(code, userId, peppers())).not.toBe(legacy);
    expect(await recoveryCodeLookupHashes(code, userId, peppers())).toContain(legacy);
  });
});
