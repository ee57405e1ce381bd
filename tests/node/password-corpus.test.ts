import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ASSET_FILE, baseWords, breachedSource, selectPasswords } from "../../scripts/generate-breached-passwords.ts";
import { unpackGolombSet } from "../../src/lib/golomb-set.ts";
import { passwordProblem as policyProblem } from "../../src/lib/password-policy.ts";

/** The policy with the deployed set, public/_tend/breached-passwords.bin, read from disk. */
const breached = unpackGolombSet(readFileSync(ASSET_FILE));
const passwordProblem = (password: string) => policyProblem(password, breached);

/**
 * The policy against the real corpus it was built from (scripts/data/xato-top1m-12plus.txt.gz:
 * every password of 12+ characters in the 10-million-password list's top million), read here
 * straight from the source file, not from the set made of it.
 */
describe("breached-password corpus", () => {
  const source = breachedSource();

  it("has tens of thousands of real breached passwords that pass the length rule", () => {
    expect(source.length).toBeGreaterThan(40_000);
    expect(source.every((password) => [...password].length >= 12)).toBe(true);
  });

  it("refuses at least 10,000 of them, and the same ones whatever their case", () => {
    const refused = source.filter((password) => passwordProblem(password) !== null);
    expect(refused.length).toBeGreaterThanOrEqual(10_000);
    const shouted = refused.filter((password, index) => index % 10 === 0);
    expect(shouted.filter((password) => passwordProblem(password.toUpperCase()) === null)).toEqual([]);
    const capitalised = refused.filter((password, index) => index % 10 === 5);
    expect(capitalised.filter((password) => passwordProblem(password[0]?.toUpperCase() + password.slice(1)) === null)).toEqual([]);
  });

  it("refuses passwords of the held-out tail, which the bundle never stored, through the derived rules", () => {
    // Only entries before `cut` were candidates for the bundled set; the tail is unseen data.
    const { cut } = selectPasswords(source, baseWords());
    const tail = source.slice(cut);
    const refused = tail.filter((password) => passwordProblem(password) !== null);
    expect(tail.length).toBeGreaterThan(30_000);
    expect(refused.length).toBeGreaterThan(2_000);
  });
});
