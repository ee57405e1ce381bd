/**
 * Rules that refuse passwords derived from something guessable, whatever list they are missing
 * from: repeats, sequences and keyboard walks, and a common word (leet-speak undone) with digits or
 * symbols around it. Input is already NFKC-normalized and lower-cased. `known` answers whether a
 * string is a common word or a listed password. Returns why the password is refused, or null.
 *
 * Kept free of the bundled data so scripts/generate-breached-passwords.ts can drop the entries
 * these rules already refuse.
 */
export function derivedProblem(password: string, known: (candidate: string) => boolean): string | null {
  const chars = [...password];
  if (new Set(chars).size <= 4) return "is too common: it uses too few different characters";
  if (repeatsUnit(chars)) return "is too common: it repeats a shorter sequence";
  if (isWalk(chars)) return "is too common: it is a keyboard pattern or a sequence";
  for (const core of cores(password)) {
    const coreChars = [...core];
    if (coreChars.length === chars.length && core === password) continue;
    if (coreChars.length >= 3 && (known(core) || repeatsUnit(coreChars) || isWalk(coreChars))) {
      return "is too common: it is a common word or pattern with digits or symbols added";
    }
  }
  for (const variant of unleeted(password)) {
    if (variant === password) continue;
    if (known(variant)) return "is too common: it is a common password with letters swapped for look-alike digits or symbols";
    for (const core of cores(variant)) {
      if ([...core].length >= 3 && known(core)) return "is too common: it is a common word with look-alike substitutions and digits or symbols added";
    }
  }
  return null;
}

/** True when the whole string is one shorter unit said two or more times ("abcabcabcabc"). */
function repeatsUnit(chars: string[]): boolean {
  const n = chars.length;
  for (let unit = 1; unit <= n / 2; unit++) {
    if (n % unit !== 0) continue;
    let same = true;
    for (let i = unit; i < n && same; i++) same = chars[i] === chars[i - unit];
    if (same) return true;
  }
  return false;
}

/** Key positions on a US QWERTY keyboard: [row, x], rows staggered as on the physical board. */
const KEYBOARD = new Map<string, [number, number]>();
const ROWS: [string, string, number][] = [
  ["`1234567890-=", "~!@#$%^&*()_+", 0],
  ["qwertyuiop[]\\", "QWERTYUIOP{}|", 1.5],
  ["asdfghjkl;'", 'ASDFGHJKL:"', 1.75],
  ["zxcvbnm,./", "ZXCVBNM<>?", 2.25],
];
ROWS.forEach(([plain, shifted, start], row) => {
  [...plain].forEach((key, index) => KEYBOARD.set(key, [row, start + index]));
  [...shifted].forEach((key, index) => KEYBOARD.set(key.toLowerCase(), [row, start + index]));
});
/** The numeric keypad, for "147258369" and "789456123". */
const KEYPAD = new Map<string, [number, number]>(
  [..."789456123"].map((key, index): [string, [number, number]] => [key, [Math.floor(index / 3), index % 3]]).concat([["0", [3, 0.5]]]),
);

function adjacent(a: string, b: string): boolean {
  const codeA = a.codePointAt(0) ?? 0;
  const codeB = b.codePointAt(0) ?? 0;
  if (/[a-z0-9]/.test(a) && /[a-z0-9]/.test(b) && Math.abs(codeA - codeB) === 1) return true; // abc, 123, cba
  if (a === "9" && b === "0") return true;
  const keyA = KEYBOARD.get(a);
  const keyB = KEYBOARD.get(b);
  if (keyA && keyB) {
    const rows = Math.abs(keyA[0] - keyB[0]);
    const dx = Math.abs(keyA[1] - keyB[1]);
    if ((rows === 0 && dx === 1) || (rows === 1 && dx <= 1)) return true;
  }
  const padA = KEYPAD.get(a);
  const padB = KEYPAD.get(b);
  return !!padA && !!padB && a !== b && Math.abs(padA[0] - padB[0]) <= 1 && Math.abs(padA[1] - padB[1]) <= 1;
}

/**
 * A keyboard walk or sequence: the string splits into runs of neighbouring keys (or consecutive
 * letters and digits) of three or more, with at most two characters left over ("qwertyuiopas",
 * "1qaz2wsx3edc", "123456789012").
 */
function isWalk(chars: string[]): boolean {
  let leftover = 0;
  let run = 1;
  for (let i = 1; i <= chars.length; i++) {
    if (i < chars.length && adjacent(chars[i - 1] as string, chars[i] as string)) {
      run++;
      continue;
    }
    if (run < 3) leftover += run;
    run = 1;
  }
  return leftover <= 2;
}

/**
 * What is left once leading and trailing digits, symbols and spaces are stripped, when what was
 * stripped is guessable: short (up to 6 characters, e.g. a year and "!!"), a repeat or a sequence.
 */
function cores(password: string): string[] {
  const match = /^([^\p{L}]*)(.*?)([^\p{L}]*)$/su.exec(password);
  if (!match) return [];
  const [, prefix = "", core = "", suffix = ""] = match;
  if (!core || (!prefix && !suffix)) return [];
  const affix = [...prefix, ...suffix];
  const guessable =
    affix.length <= 6 ||
    (repeatsUnit([...prefix]) && repeatsUnit([...suffix])) ||
    (affixIsPattern(prefix) && affixIsPattern(suffix)) ||
    (affixIsYear(prefix) && affixIsYear(suffix));
  return guessable ? [core] : [];
}

/** Nothing, a few symbols, or a year with up to three digits or symbols around it ("2024!!!"). */
function affixIsYear(affix: string): boolean {
  return affix.length <= 3 || /^[^\p{L}]{0,3}(?:19|20)\d\d[^\p{L}]{0,3}$/u.test(affix);
}

function affixIsPattern(affix: string): boolean {
  const chars = [...affix];
  return chars.length <= 2 || repeatsUnit(chars) || isWalk(chars);
}

const LEET: Record<string, string[]> = {
  "@": ["a"],
  "4": ["a"],
  "8": ["b"],
  "(": ["c"],
  "3": ["e"],
  "6": ["g"],
  "9": ["g"],
  "#": ["h"],
  "1": ["i", "l"],
  "!": ["i"],
  "|": ["l", "i"],
  "0": ["o"],
  "$": ["s"],
  "5": ["s"],
  "7": ["t"],
  "+": ["t"],
  "2": ["z"],
};

const isLetter = (char: string | undefined) => char !== undefined && /\p{L}/u.test(char);

/**
 * The password with look-alike characters read as letters, in two readings (1 as i, then as l).
 * A look-alike is read when it sits between letters of the same word, or is a symbol touching a
 * letter ("@dmin"), so leading and trailing digits stay digits ("p@ssw0rd1234" reads "password1234").
 */
function unleeted(password: string): string[] {
  const chars = [...password];
  const letterBefore = chars.map(() => false);
  const letterAfter = chars.map(() => false);
  for (let i = 1, seen = false; i < chars.length; i++) {
    seen = /\s/u.test(chars[i - 1] as string) ? false : seen || isLetter(chars[i - 1]);
    letterBefore[i] = seen;
  }
  for (let i = chars.length - 2, seen = false; i >= 0; i--) {
    seen = /\s/u.test(chars[i + 1] as string) ? false : seen || isLetter(chars[i + 1]);
    letterAfter[i] = seen;
  }
  const readings = [0, 1].map((choice) =>
    chars
      .map((char, index) => {
        const options = LEET[char];
        if (!options) return char;
        const between = letterBefore[index] && letterAfter[index];
        const touching = !/[0-9]/.test(char) && (isLetter(chars[index - 1]) || isLetter(chars[index + 1]));
        return between || touching ? (options[Math.min(choice, options.length - 1)] as string) : char;
      })
      .join(""),
  );
  return [...new Set(readings)];
}
