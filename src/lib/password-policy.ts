import { ServiceUnavailable } from "#src/lib/errors.ts";
import { type GolombSet, unpackGolombSet } from "#src/lib/golomb-set.ts";
import { derivedProblem } from "#src/lib/password-rules.ts";
import type { StaticAssets } from "#src/platform/ports.ts";

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

export const BREACHED_MESSAGE = "is too common: it appears in a list of breached passwords";

/**
 * The breached set's path among the static assets: public/_tend/breached-passwords.bin, made by
 * scripts/generate-breached-passwords.ts and deployed beside the Worker, not in its bundle.
 */
export const BREACHED_SET_PATH = "/_tend/breached-passwords.bin";

/** How long a caller is asked to wait when the set cannot be read. */
const UNAVAILABLE_RETRY_SECONDS = 10;

/**
 * Reads and decodes the breached set: breached passwords of 12+ characters and the common words
 * the derived rules look for, hashed and Golomb-coded; a string not in it hits with probability
 * ~2^-15. Fails closed: a set that is missing, unreadable or corrupt is a 503 with Retry-After,
 * never a check skipped. A password accepted without it would stay until its owner changes it,
 * while a 503 only delays setting one (sign-in never reads the set), and the set ships with the
 * deployment, so its absence is a deployment fault to see, not a third party's outage to ride
 * out (the live Pwned Passwords check, by contrast, fails open).
 */
export async function readBreachedSet(assets: StaticAssets): Promise<GolombSet> {
  try {
    const bytes = await assets.get(BREACHED_SET_PATH);
    if (bytes) return unpackGolombSet(bytes);
  } catch {
    // the binding failed or the file is corrupt: answered below, as a missing one is
  }
  throw ServiceUnavailable("The breached-password list could not be loaded, so no password can be set now; try again shortly.", UNAVAILABLE_RETRY_SECONDS);
}

let loaded: GolombSet | undefined;

/**
 * The breached set, read on first use and kept for the isolate's life. The decoded set is kept,
 * not a pending read: a workerd request must not wait on another request's I/O, so requests that
 * arrive during the first read each make their own; a failed read is not kept.
 */
export async function breachedSet(assets: StaticAssets): Promise<GolombSet> {
  loaded ??= await readBreachedSet(assets);
  return loaded;
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
 * normalisation), not in the `breached` set (breachedSet) or a famous phrase, not derived from a
 * common word, a pattern (password-rules.ts) or the user's own address, name or practice
 * (`context`), and no composition rules. Case never matters. Returns what is wrong, or null.
 */
export function passwordProblem(password: string, breached: GolombSet, context?: PasswordContext): string | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = normalized.toLowerCase();
  if (breached.has(lower) || FAMOUS_PHRASES.has(squeeze(lower))) return BREACHED_MESSAGE;
  const personal = contextWords(context);
  if (personal.has(lower) || personal.has(squeeze(lower))) return "is too easy to guess: it is your own email, name or organization";
  return derivedProblem(lower, (candidate) => breached.has(candidate) || personal.has(candidate) || personal.has(squeeze(candidate)));
}

/** A live breach corpus (Pwned Passwords): true breached, false not, undefined unknown (fail open). */
export interface BreachCheck {
  isBreached(password: string): Promise<boolean | undefined>;
}

/** Where checkPassword looks: the deployed breached set, and the live corpus when configured. */
export interface PasswordSources {
  assets: StaticAssets;
  breaches?: BreachCheck | undefined;
}

/** passwordProblem over the deployed set (503 when it cannot be read), then the live corpus when configured. */
export async function checkPassword(password: string, sources: PasswordSources, context?: PasswordContext): Promise<string | null> {
  const problem = passwordProblem(password, await breachedSet(sources.assets), context);
  if (problem || !sources.breaches) return problem;
  return (await sources.breaches.isBreached(normalizePassword(password))) ? BREACHED_MESSAGE : null;
}
