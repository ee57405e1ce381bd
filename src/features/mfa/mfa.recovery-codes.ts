import type { KeyringEntry } from "#src/lib/envelope.ts";
import { hmacSha256Hex, randomBytes, sha256Hex } from "#src/lib/encoding.ts";

/**
 * Single-use recovery codes: ten of `xxxx-xxxx` from a 32-letter alphabet without look-alikes
 * (40 random bits each), shown once. 40 bits are few enough to brute-force from a plain hash, so
 * each is stored as HMAC-SHA256 keyed by the current password pepper (held outside the database)
 * over the user id and the code's canonical form: a database dump alone reverses none of them.
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

/** The stored form of a new code: keyed by the current (first) pepper. */
export function hashRecoveryCode(code: string, userId: string, peppers: readonly KeyringEntry[]): Promise<string> {
  const current = peppers[0];
  if (!current) throw new Error("no password pepper configured");
  return hmacSha256Hex(current.secret, message(userId, code));
}

/**
 * Every stored form a typed code may have: one per configured pepper, so codes survive a pepper
 * rotation, plus the plain SHA-256 of codes handed out before they were keyed (drop that one
 * once no such rows remain).
 */
export function recoveryCodeLookupHashes(code: string, userId: string, peppers: readonly KeyringEntry[]): Promise<string[]> {
  return Promise.all([
    ...peppers.map((pepper) => hmacSha256Hex(pepper.secret, message(userId, code))),
    sha256Hex(normalizeRecoveryCode(code)),
  ]);
}
