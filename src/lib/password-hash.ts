import { type Bytes, constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from "#src/lib/encoding.ts";
import type { KeyringEntry } from "#src/lib/envelope.ts";
import { normalizePassword } from "#src/lib/password-policy.ts";

/**
 * Password storage that runs on deployed Workers: PBKDF2-HMAC-SHA256 at 100,000 iterations (the
 * most Workers allows: more throws there, though `wrangler dev` does not enforce it) over an
 * HMAC-SHA256 of the password with a secret pepper held outside the database. OWASP asks 600,000
 * iterations for plain PBKDF2-SHA256; the pepper is what covers the gap for a database-only leak.
 *
 * Stored form: `pbkdf2-sha256$i=100000$p=<pepperId>$<salt>$<hash>`. Hashes made with other
 * parameters or an older pepper verify, and `needsRehash` tells the caller to upgrade them.
 */
export const PBKDF2_ITERATIONS = 100_000;
export const WORKERS_PBKDF2_MAX_ITERATIONS = 100_000;
const ALGORITHM = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BITS = 256;

async function pepper(password: string, secret: string): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(normalizePassword(password))));
}

export async function pbkdf2(input: Bytes, salt: Bytes, iterations: number): Promise<Bytes> {
  if (iterations > WORKERS_PBKDF2_MAX_ITERATIONS) {
    throw new RangeError(`PBKDF2 with ${iterations} iterations is refused on Workers (max ${WORKERS_PBKDF2_MAX_ITERATIONS})`);
  }
  const key = await crypto.subtle.importKey("raw", input, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, peppers: KeyringEntry[], iterations = PBKDF2_ITERATIONS): Promise<string> {
  const current = peppers[0];
  if (!current) throw new Error("no password pepper configured");
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2(await pepper(password, current.secret), salt, iterations);
  return `${ALGORITHM}$i=${iterations}$p=${current.id}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

export interface PasswordCheck {
  valid: boolean;
  /** The hash uses older parameters or pepper: store a fresh one now that the password is known. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string, peppers: KeyringEntry[]): Promise<PasswordCheck> {
  const [algorithm, iterationsPart, pepperPart, salt, hash] = stored.split("$");
  const iterations = Number(iterationsPart?.slice(2));
  const pepperEntry = peppers.find((entry) => entry.id === pepperPart?.slice(2));
  if (algorithm !== ALGORITHM || !pepperEntry || !salt || !hash || !Number.isInteger(iterations)) {
    return { valid: false, needsRehash: false };
  }
  const candidate = await pbkdf2(await pepper(password, pepperEntry.secret), fromBase64Url(salt), iterations);
  const valid = constantTimeEqual(candidate, fromBase64Url(hash));
  return { valid, needsRehash: valid && (iterations !== PBKDF2_ITERATIONS || pepperEntry !== peppers[0]) };
}

/** Spends the same time as a real verification, so an unknown email cannot be told by timing. */
export async function burnPasswordTime(password: string, peppers: KeyringEntry[]): Promise<void> {
  const current = peppers[0];
  if (!current) return;
  await pbkdf2(await pepper(password, current.secret), new Uint8Array(SALT_BYTES), PBKDF2_ITERATIONS);
}
