import { type SQL, sql } from "drizzle-orm";

/**
 * Phone numbers are stored in E.164 (`+4930123456`), whatever notation they arrive in: spaces,
 * dots, dashes, slashes and parentheses go; a leading `+` or `00` starts an international number;
 * anything else is a national number of the organization's country, whose calling code comes from
 * the region of the organization's locale (en-US → 1, en-GB → 44, de-DE → 49), 1 when the locale
 * names no region we know. The organization is read in the same statement as the write or search,
 * so the conversion costs no round trip.
 */
export type ParsedPhone = { kind: "international"; e164: string } | { kind: "national"; digits: string };

/** Region (ISO 3166 alpha-2) → country calling code. */
export const CALLING_CODES: Readonly<Record<string, string>> = {
  US: "1", CA: "1", PR: "1", GB: "44", IE: "353", DE: "49", AT: "43", CH: "41", LI: "423", FR: "33", BE: "32",
  NL: "31", LU: "352", ES: "34", PT: "351", IT: "39", MT: "356", DK: "45", SE: "46", NO: "47", FI: "358",
  IS: "354", PL: "48", CZ: "420", SK: "421", HU: "36", RO: "40", BG: "359", GR: "30", HR: "385", SI: "386",
  RS: "381", EE: "372", LV: "371", LT: "370", TR: "90", RU: "7", UA: "380", IL: "972", AE: "971", SA: "966",
  EG: "20", MA: "212", ZA: "27", NG: "234", KE: "254", IN: "91", PK: "92", BD: "880", CN: "86", HK: "852",
  TW: "886", JP: "81", KR: "82", SG: "65", MY: "60", TH: "66", VN: "84", PH: "63", ID: "62", AU: "61",
  NZ: "64", MX: "52", BR: "55", AR: "54", CL: "56", CO: "57", PE: "51", UY: "598",
};

export const DEFAULT_CALLING_CODE = "1";

const NOTATION = /^\+?[\d\s().\-/]+$/;
const SEPARATORS = /[\s().\-/]/g;

/**
 * The number in `input`, or undefined when it is not one. A national number keeps 6 to 12 digits
 * once its trunk `0` is dropped, so with any calling code (1–3 digits) it stays a valid E.164.
 */
export function parsePhone(input: string): ParsedPhone | undefined {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 40 || !NOTATION.test(trimmed)) return undefined;
  const compact = trimmed.replace(SEPARATORS, "");
  if (compact.startsWith("+") || compact.startsWith("00")) {
    const digits = compact.startsWith("+") ? compact.slice(1) : compact.slice(2);
    return /^[1-9]\d{6,14}$/.test(digits) ? { kind: "international", e164: `+${digits}` } : undefined;
  }
  if (!/^\d+$/.test(compact)) return undefined;
  const national = compact.startsWith("0") ? compact.slice(1) : compact;
  return /^[1-9]\d{5,11}$/.test(national) ? { kind: "national", digits: national } : undefined;
}

/** The calling code of organization `org`, from its locale's region, as a SQL text expression. */
export function callingCodeOf(org: string): SQL {
  return sql`coalesce((select ${JSON.stringify(CALLING_CODES)}::jsonb ->> upper(substring(o.locale from '^[A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2})(?:[-_]|$)'))
    from organizations o where o.id = ${org}), ${DEFAULT_CALLING_CODE}::text)`;
}

/**
 * The E.164 text for a parsed number, as SQL. A national number takes the organization's calling
 * code; a North American number written with its leading 1 (1-555-…) does not get a second one.
 */
export function e164Sql(phone: ParsedPhone, org: string): SQL {
  if (phone.kind === "international") return sql`${phone.e164}::text`;
  const digits = phone.digits;
  return sql`(select '+' || cc.code || case when cc.code = '1' and length(${digits}::text) = 11 and left(${digits}::text, 1) = '1'
      then substr(${digits}::text, 2) else ${digits}::text end
    from (select ${callingCodeOf(org)} as code) cc)`;
}
