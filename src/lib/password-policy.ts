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

/** Who the password is for: their address, name and practice never make a password. */
export interface PasswordContext {
  email?: string | undefined;
  name?: string | undefined;
  organizationName?: string | undefined;
}

/** Words that are guessable here whoever the user is: the service's name, and the seasons. */
const SERVICE_WORDS = ["tend", "tendcare", "tend.care", "spring", "summer", "autumn", "fall", "winter"];

/** Phrases famous for being used as passwords, spaces and punctuation dropped. */
const FAMOUS_PHRASES = new Set([
  "correcthorsebatterystaple",
  "thequickbrownfoxjumpsoverthelazydog",
  "tobeornottobethatisthequestion",
  "maytheforcebewithyou",
  "iloveyousomuch",
  "letmeinplease",
  "opensesame",
]);

const squeeze = (text: string) => text.replace(/[\s\p{P}]+/gu, "");

/** The context's words, lower-cased: the whole of each field, its words of 4+ letters, squeezed. */
function contextWords(context: PasswordContext | undefined): Set<string> {
  const words = new Set(SERVICE_WORDS);
  const fields = [context?.email, context?.email?.split("@")[0], context?.email?.split("@")[1], context?.name, context?.organizationName];
  for (const field of fields) {
    if (!field) continue;
    const lower = normalizePassword(field).toLowerCase();
    words.add(lower);
    words.add(squeeze(lower));
    for (const word of lower.split(/[^\p{L}\p{N}]+/u)) if ([...word].length >= 4) words.add(word);
  }
  words.delete("");
  return words;
}

/**
 * NIST 800-63B / OWASP policy, without the network: 12 to 128 characters (code points, after
 * normalisation), not a known breached password or a famous phrase, not derived from a common
 * word, a pattern (password-rules.ts) or the user's own address, name or practice (`context`),
 * and no composition rules. Case never matters. Returns what is wrong, or null.
 */
export function passwordProblem(password: string, context?: PasswordContext): string | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = normalized.toLowerCase();
  const set = breachedSet();
  if (set.has(lower) || FAMOUS_PHRASES.has(squeeze(lower))) return BREACHED_MESSAGE;
  const personal = contextWords(context);
  if (personal.has(lower) || personal.has(squeeze(lower))) return "is too easy to guess: it is your own email, name or organization";
  return derivedProblem(lower, (candidate) => set.has(candidate) || personal.has(candidate) || personal.has(squeeze(candidate)));
}

/** A live breach corpus (Pwned Passwords): true breached, false not, undefined unknown (fail open). */
export interface BreachCheck {
  isBreached(password: string): Promise<boolean | undefined>;
}

/** passwordProblem, then (when it passes and a live check is configured) the live corpus. */
export async function checkPassword(password: string, breaches?: BreachCheck, context?: PasswordContext): Promise<string | null> {
  const problem = passwordProblem(password, context);
  if (problem || !breaches) return problem;
  return (await breaches.isBreached(normalizePassword(password))) ? BREACHED_MESSAGE : null;
}
