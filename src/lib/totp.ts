import { constantTimeEqual, randomBytes, utf8 } from "#src/lib/encoding.ts";
import type { Bytes } from "#src/lib/encoding.ts";

/**
 * RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) over WebCrypto. Verification accepts one
 * step either side for clock drift and returns the step it matched, so the caller can refuse a
 * step at or below the last one it accepted: a code is never good twice.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW_STEPS = 1;
const SECRET_BYTES = 20;
const ISSUER = "Tend";
const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32, upper case, without padding (what authenticator apps expect). */
export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let output = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return output;
}

export function base32Decode(text: string): Bytes {
  const clean = text.toUpperCase().replace(/[\s=]/g, "");
  const output: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) throw new Error("invalid base32");
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      output.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(output);
}

/** A new shared secret: 20 random bytes (the RFC 4226 recommendation for SHA-1), base32. */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES));
}

export function totpStep(nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** RFC 4226 HOTP: the code for one counter value. */
export async function hotp(key: Bytes, counter: number, digits = TOTP_DIGITS): Promise<string> {
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = new DataView(mac.buffer).getUint32(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The code for a base32 secret at a time step. */
export function totpAt(secret: string, step: number, digits = TOTP_DIGITS): Promise<string> {
  return hotp(base32Decode(secret), step, digits);
}

/**
 * The step (within ±1 of now) whose code equals `code`, or null. Every step in the window is
 * computed and compared in constant time, so timing tells nothing about which one matched.
 */
export async function verifyTotp(secret: string, code: string, nowMs = Date.now(), digits = TOTP_DIGITS): Promise<number | null> {
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return null;
  const key = base32Decode(secret);
  const current = totpStep(nowMs);
  let matched: number | null = null;
  for (let step = current - TOTP_WINDOW_STEPS; step <= current + TOTP_WINDOW_STEPS; step++) {
    if (constantTimeEqual(utf8(await hotp(key, step, digits)), utf8(code))) matched = step;
  }
  return matched;
}

/** The provisioning URI an authenticator app reads from a QR code. */
export function otpauthUri(email: string, secret: string): string {
  const label = `${encodeURIComponent(ISSUER)}:${encodeURIComponent(email)}`;
  const query = new URLSearchParams({
    secret,
    issuer: ISSUER,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
