import { Secret, TOTP } from "otpauth";
import { expect } from "vitest";
import { jsonBody, type Member } from "./fixtures.ts";
import { api } from "./helpers.ts";

export const PERIOD_MS = 30_000;

/** The code an authenticator shows `steps` periods from now, computed by an independent library. */
export const codeAt = (secret: string, steps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({
    timestamp: Date.now() + steps * PERIOD_MS,
  });

/** Waits out the last seconds of a period, so a code cannot slide across a step mid-test. */
export async function awayFromStepEdge(marginMs = 5000): Promise<void> {
  const left = PERIOD_MS - (Date.now() % PERIOD_MS);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/** A JSON request as `member` (or anonymous) from `ip`. */
export const call = (path: string, method: string, member: Member | null, ip: string, body?: unknown): Promise<Response> =>
  api(path, {
    method,
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip, ...member?.headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

export async function enrol(member: Member, ip: string): Promise<string> {
  const response = await call("/api/v1/me/mfa/totp", "POST", member, ip);
  expect(response.status).toBe(200);
  return ((await response.json()) as { secret: string }).secret;
}

/** Enrols and confirms with the code `confirmStep` periods from now; answers the secret and codes. */
export async function enableMfa(member: Member, ip: string, confirmStep = 0) {
  await awayFromStepEdge();
  const secret = await enrol(member, ip);
  const response = await call("/api/v1/me/mfa/totp/confirm", "POST", member, ip, { code: codeAt(secret, confirmStep) });
  expect(response.status).toBe(200);
  const { recoveryCodes } = (await response.json()) as { recoveryCodes: string[] };
  return { secret, recoveryCodes };
}

export const verify = (ip: string, body: unknown) => api("/api/v1/auth/mfa/verify", jsonBody(body, { "CF-Connecting-IP": ip }));
