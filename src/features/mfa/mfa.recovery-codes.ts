import { randomBytes, sha256Hex } from "#src/lib/encoding.ts";

/**
 * Single-use recovery codes: ten of `xxxx-xxxx` from a 32-letter alphabet without look-alikes
 * (40 random bits each), shown once and stored as SHA-256 hashes of their canonical form.
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

export function hashRecoveryCode(code: string): Promise<string> {
  return sha256Hex(normalizeRecoveryCode(code));
}
