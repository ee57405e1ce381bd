import { BREACHED_SET } from "#src/data/breached-passwords.ts";
import { decodeGolombSet, type GolombSet } from "#src/lib/golomb-set.ts";
import { derivedProblem } from "#src/lib/password-rules.ts";

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

export const BREACHED_MESSAGE = "is too common: it appears in a list of breached passwords";

let breached: GolombSet | undefined;

/**
 * The bundled set (data/breached-passwords.ts, made by scripts/generate-breached-passwords.ts):
 * breached passwords of 12+ characters and the common words the derived rules look for, hashed
 * and Golomb-coded, decoded once per isolate. A string not in it hits with probability ~2^-15.
 */
function breachedSet(): GolombSet {
  breached ??= decodeGolombSet(
    Uint8Array.from(atob(BREACHED_SET.data), (char) => char.charCodeAt(0)),
    BREACHED_SET.count,
    BREACHED_SET.bits,
    BREACHED_SET.range,
  );
  return breached;
}

/** How many breached passwords and common words the bundled set holds. */
export function commonPasswordCount(): number {
  return breachedSet().size;
}

/** NFKC, so the same password typed on different keyboards hashes the same. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/**
 * NIST 800-63B / OWASP policy, without the network: 12 to 128 characters (code points, after
 * normalisation), not a known breached password, not derived from a common word or a pattern
 * (password-rules.ts), and no composition rules. Case never matters. Returns what is wrong, or null.
 */
export function passwordProblem(password: string): string | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = normalized.toLowerCase();
  const set = breachedSet();
  if (set.has(lower)) return BREACHED_MESSAGE;
  return derivedProblem(lower, (candidate) => set.has(candidate));
}

/** A live breach corpus (Pwned Passwords): true breached, false not, undefined unknown (fail open). */
export interface BreachCheck {
  isBreached(password: string): Promise<boolean | undefined>;
}

/** passwordProblem, then (when it passes and a live check is configured) the live corpus. */
export async function checkPassword(password: string, breaches?: BreachCheck): Promise<string | null> {
  const problem = passwordProblem(password);
  if (problem || !breaches) return problem;
  return (await breaches.isBreached(normalizePassword(password))) ? BREACHED_MESSAGE : null;
}
