import type { KeyringEntry } from "#src/lib/envelope.ts";
import { hmacSha256Hex, randomBytes, sha256Hex } from "#src/lib/encoding.ts";
import { currentPurposeKey, hmacHex, purposeKeys } from "#src/lib/keys.ts";

/**
 * Single-use recovery codes: ten of `xxxx-xxxx` from a 32-letter alphabet without look-alikes
 * (40 random bits each), shown once. 40 bits are few enough to brute-force from a plain hash, so
 * each is stored as HMAC-SHA256 over the user id and the code's canonical form, keyed by the
 * recovery-code key derived from the current password pepper (src/lib/keys.ts; held outside the
 * database): a database dump alone reverses none of them.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const CODE_LENGTH = 8;

function recoveryCode(): string {
  const chars = Array.from(randomBytes(CODE_LENGTH), (byte) => ALPHABET[byte & 31]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode);
}

/** Case, spaces and the hyphen do not matter when a person types a code back. */
export function normalizeRecoveryCode(input: string): string {
  const chars = input.toLowerCase().replace(/[^0-9a-z]/g, "");
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}


const message = (userId: string, code: string) => `recovery-code:${userId}:${normalizeRecoveryCode(code)}`;

/** The stored form of a new code: keyed by the current (first) pepper's recovery-code key. */
export async function hashRecoveryCode(code: string, userId: string, peppers: readonly KeyringEntry[]): Promise<string> {
  const { key } = await currentPurposeKey("recoveryCodes", peppers);
  return hmacHex(key, message(userId, code));
}

/**
 * Every stored form a typed code may have: one per configured pepper's derived key, so codes
 * survive a pepper rotation; then the older forms, to drop once no such rows remain: keyed by a
 * pepper itself (before keys were derived per purpose), and the plain SHA-256 of codes handed out
 * before they were keyed.
 */
export async function recoveryCodeLookupHashes(code: string, userId: string, peppers: readonly KeyringEntry[]): Promise<string[]> {
  const keys = await purposeKeys("recoveryCodes", peppers);
  return Promise.all([
    ...keys.map(({ key }) => hmacHex(key, message(userId, code))),
    ...peppers.map((pepper) => hmacSha256Hex(pepper.secret, message(userId, code))),
    sha256Hex(normalizeRecoveryCode(code)),
  ]);
}
