import { COMMON_PASSWORDS_FRONT_CODED } from "#src/data/common-passwords.ts";

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

let common: Set<string> | undefined;

/** The bundled list of 10,000 common passwords, decoded once per isolate. */
function commonPasswords(): Set<string> {
  if (common) return common;
  const words = new Set<string>();
  let previous = "";
  for (const line of COMMON_PASSWORDS_FRONT_CODED.split("\n")) {
    const word = previous.slice(0, Number(line[0])) + line.slice(1);
    words.add(word);
    previous = word;
  }
  common = words;
  return words;
}

export function commonPasswordCount(): number {
  return commonPasswords().size;
}

/** NFKC, so the same password typed on different keyboards hashes the same. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/**
 * NIST 800-63B / OWASP policy: 12 to 128 characters (code points, after normalisation), not a
 * known common or breached password, and no composition rules. Returns what is wrong, or null.
 */
export function passwordProblem(password: string): string | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (commonPasswords().has(normalized.toLowerCase())) return "is too common; choose a less guessable password";
  return null;
}
