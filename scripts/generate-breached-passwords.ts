// Regenerates public/_tend/breached-passwords.bin, the Golomb-coded set password-policy.ts checks
// (committed; deployed as a static asset beside the Worker, read through the ASSETS binding):
// - the 2,000 most common all-letter passwords of zxcvbn-ts's frequency-ordered list (the base words
//   the derived rules look for under digits, symbols and leet-speak: "summer", "welcome"…);
// - the most common breached passwords of 12 or more characters (the shorter ones fail the length
//   rule anyway) that the derived rules in password-rules.ts do not already refuse, from
//   scripts/data/xato-top1m-12plus.txt.gz (see scripts/data/README.md for its provenance and licence,
//   which the set shares).
// Run: node scripts/generate-breached-passwords.ts
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { dictionary } from "@zxcvbn-ts/language-common";
import { encodeGolombSet, packGolombSet, setHashes, unpackGolombSet } from "../src/lib/golomb-set.ts";
import { BREACHED_SET_PATH } from "../src/lib/password-policy.ts";
import { derivedProblem } from "../src/lib/password-rules.ts";

export const WORDS = 2_000;
export const STORED_PASSWORDS = 8_500;
/** Rice parameter: a false hit on about 1 in 2^15 lookups. */
export const BITS = 15;
export const SOURCE = new URL("data/xato-top1m-12plus.txt.gz", import.meta.url);
/** The set as deployed: wrangler.toml's `[assets]` directory is public/, where the policy reads it. */
export const ASSET_FILE = new URL(`../public${BREACHED_SET_PATH}`, import.meta.url);

/** The source list: NFKC, lower-cased, 12 to 128 code points, de-duplicated, most common first. */
export function breachedSource(): string[] {
  return gunzipSync(readFileSync(SOURCE)).toString("utf8").split("\n").filter(Boolean);
}

/** The base words: the most common all-letter passwords, NFKC and lower-cased. */
const normalize = (word: string) => word.normalize("NFKC").toLowerCase();

export function baseWords(): string[] {
  const common = [...new Set((dictionary["passwords-common"] as string[]).map(normalize))];
  return common.filter((word) => /^\p{L}{3,}$/u.test(word)).slice(0, WORDS);
}

/**
 * The passwords to store: the first STORED_PASSWORDS of `source` the rules do not refuse. `cut` is
 * where the selection stopped: nothing from there on is stored (the held-out tail).
 */
export function selectPasswords(source: string[], words: string[]): { stored: string[]; byRules: number; cut: number } {
  const wordSet = new Set(words);
  const stored: string[] = [];
  let byRules = 0;
  let cut = source.length;
  for (const [index, password] of source.entries()) {
    if (stored.length === STORED_PASSWORDS) {
      cut = index;
      break;
    }
    if (derivedProblem(password, (candidate) => wordSet.has(candidate))) byRules++;
    else stored.push(password);
  }
  return { stored, byRules, cut };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const words = baseWords();
  const source = breachedSource();
  const { stored, byRules, cut } = selectPasswords(source, words);
  const entries = [...new Set([...words, ...stored])];
  const { hashes, range } = setHashes(entries, BITS);
  const file = packGolombSet({ count: hashes.length, bits: BITS, range, data: encodeGolombSet(hashes, BITS) });
  const check = unpackGolombSet(file);
  if (!entries.every((entry) => check.has(entry))) throw new Error("the encoded set lost an entry");
  mkdirSync(new URL(".", ASSET_FILE), { recursive: true });
  writeFileSync(ASSET_FILE, file);
  console.log(
    `source: ${source.length} passwords of 12+ characters; of the first ${cut}, the rules refuse ${byRules} and ${stored.length} are stored, with ${words.length} words, ` +
      `in ${file.length} bytes (${((8 * file.length) / hashes.length).toFixed(2)} bits each)`,
  );
}
