import type { Config } from "#src/env.ts";
import { constantTimeEqual, utf8 } from "#src/lib/encoding.ts";
import { currentPurposeKey, hmacHex, purposeKeys } from "#src/lib/keys.ts";

/**
 * Known devices (OWASP's "device cookies"): a sign-in with the right password answers a
 * `deviceToken`, an HMAC over the account's lockout key, a random device id and the issue time.
 * A later sign-in that presents it for the same account is counted against that device alone:
 * it keeps the per-source limit (5 failures, 15 minutes) but skips the per-account backoff, so a
 * stranger guessing from many addresses cannot keep the owner out. Only someone who once knew the
 * password holds one; it is worth nothing for another account, and it expires.
 *
 * Format: `dv1.<device id>.<issued, unix seconds>.<key id>.<hex HMAC>`.
 */
export const DEVICE_TOKEN_DAYS = 180;
const DEVICE_TOKEN = /^dv1\.([A-Za-z0-9_-]{16,32})\.(\d{1,12})\.([a-z0-9]+\.[A-Za-z0-9_-]{1,32})\.([0-9a-f]{64})$/;

const message = (account: string, deviceId: string, issued: number) => `${account}:${deviceId}:${issued}`;

/** A new device token for the account (its lockout key, `lockoutAccount(email)`). */
export async function issueDeviceToken(config: Pick<Config, "PASSWORD_PEPPERS">, account: string, now: Date, deviceId = crypto.randomUUID().replaceAll("-", "")): Promise<string> {
  const key = await currentPurposeKey("devices", config.PASSWORD_PEPPERS);
  const issued = Math.floor(now.getTime() / 1000);
  return `dv1.${deviceId}.${issued}.${key.id}.${await hmacHex(key.key, message(account, deviceId, issued))}`;
}

/** The device id a token names when it is genuine, for this account, and unexpired; else null. */
export async function knownDevice(config: Pick<Config, "PASSWORD_PEPPERS">, account: string, token: string | undefined, now: Date): Promise<string | null> {
  const match = token === undefined ? null : DEVICE_TOKEN.exec(token);
  if (!match) return null;
  const [, deviceId = "", issuedText = "", keyId = "", mac = ""] = match;
  const issued = Number(issuedText);
  const age = now.getTime() / 1000 - issued;
  if (age < -300 || age > DEVICE_TOKEN_DAYS * 86_400) return null;
  const key = (await purposeKeys("devices", config.PASSWORD_PEPPERS)).find((entry) => entry.id === keyId);
  if (!key) return null;
  const expected = await hmacHex(key.key, message(account, deviceId, issued));
  return constantTimeEqual(utf8(expected), utf8(mac)) ? deviceId : null;
}
