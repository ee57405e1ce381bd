import { expect } from "vitest";
import { PASSWORD, jsonBody, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { api } from "./helpers.ts";
import { type SentMail, mailedTokens } from "./mail.ts";

export interface SignedUp {
  email: string;
  user: { id: string; email: string; name: string; emailVerified: boolean };
  organization: { id: string; name: string; slug: string };
  tokens: { accessToken: string; refreshToken: string; organizationId: string; role: string };
}

export interface SignupFields {
  organizationName?: string;
  organizationSlug?: string;
  name?: string;
}

/** POST /auth/signup as a client would send it; answers the raw response. */
export function requestSignup(email: string, fields: SignupFields = {}, headers: Record<string, string> = {}): Promise<Response> {
  return api(
    "/api/v1/auth/signup",
    jsonBody(
      { organizationName: "Flow Clinic", name: "Flo", ...fields, email },
      { "CF-Connecting-IP": uniqueIp(), ...headers },
    ),
  );
}

/** POST /auth/signup/confirm with a mailed token, choosing the password. */
export function confirmSignup(token: string, headers: Record<string, string> = {}, password = PASSWORD): Promise<Response> {
  return api("/api/v1/auth/signup/confirm", jsonBody({ token, password }, { "CF-Connecting-IP": uniqueIp(), ...headers }));
}

/**
 * The whole verify-first sign-up: request (202), the mailed link, confirm (201). `sent` is the
 * list from `captureMail()`, which the caller sets up.
 */
export async function signUp(sent: SentMail[], email = uniqueEmail("signup"), fields: SignupFields = {}): Promise<SignedUp> {
  const requested = await requestSignup(email, fields);
  expect(requested.status).toBe(202);
  const [token] = await mailedTokens(sent, email.toLowerCase(), "/signup/confirm");
  const confirmed = await confirmSignup(token ?? "");
  expect(confirmed.status).toBe(201);
  return { email, ...((await confirmed.json()) as Omit<SignedUp, "email">) };
}
