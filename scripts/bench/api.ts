// What the bench and the smoke test need from Tend before measuring: an account (a member of the
// demo organization written straight into the database, since signup mails a link first), an
// access token for it (through POST /auth/login), and the rate limits in force (RateLimit-Policy).
import { randomUUID } from "node:crypto";
import { neon, neonConfig } from "@neondatabase/serverless";
import { configSchema } from "../../src/env.ts";
import { hashPassword } from "../../src/lib/password-hash.ts";
import { devDefaults, environmentOverrides, readDevVars } from "../dev-vars.ts";
import { DEMO_ORGANIZATION } from "../seed.ts";

export const PASSWORD = "bench correct horse battery";

export interface Account {
  email: string;
  accessToken: string;
}

/** q from `RateLimit-Policy: "reads";q=600;w=60`, or Infinity when the header is absent. */
export function policyLimit(response: Response): number {
  const match = /;q=(\d+)/.exec(response.headers.get("RateLimit-Policy") ?? "");
  return match?.[1] ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

export async function failure(what: string, response: Response): Promise<Error> {
  const body = (await response.text()).slice(0, 300);
  if (response.status === 404) return new Error(`${what} answered 404: is the auth feature mounted (src/routes.ts, FEATURE:auth)? ${body}`);
  return new Error(`${what} answered ${response.status}: ${body}`);
}

export const uniqueEmail = (label: string) => `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}-${label}@example.com`;

/**
 * The configuration dev.ts gives the Worker when started with `env` as its environment (and
 * gateway port): the same merge, so the pepper here is the Worker's.
 */
export function devConfig(env: NodeJS.ProcessEnv): Record<string, string> {
  return { ...devDefaults(Number(env.GATEWAY_PORT)), ...readDevVars(), ...environmentOverrides(env) };
}

/**
 * Writes a verified user and their owner membership of the demo organization (which dev.ts
 * seeds) through the gateway, with a password hash the Worker verifies. Returns the email.
 */
export async function seedMember(env: NodeJS.ProcessEnv, label: string, password = PASSWORD): Promise<string> {
  const config = devConfig(env);
  const peppers = configSchema.shape.PASSWORD_PEPPERS.parse(config.PASSWORD_PEPPERS);
  const endpoint = config.DATABASE_HTTP_ENDPOINT;
  if (endpoint) neonConfig.fetchEndpoint = () => endpoint;
  const sql = neon(config.DATABASE_URL ?? "");
  const email = uniqueEmail(label);
  const id = randomUUID();
  const hash = await hashPassword(password, peppers);
  await sql.transaction([
    sql`insert into users (id, email, name, password_hash, email_verified_at) values (${id}, ${email}, ${`Bench ${label}`}, ${hash}, now())`,
    sql`insert into memberships (organization_id, user_id, role) values (${DEMO_ORGANIZATION.id}, ${id}, 'owner')`,
  ]);
  return email;
}

/** POST /api/v1/auth/login; expects 200 with tokens (no MFA, one organization). */
export async function login(base: string, email: string, password = PASSWORD): Promise<Account & { authLimit: number }> {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw await failure("POST /api/v1/auth/login", response);
  const body = (await response.json()) as { tokens?: { accessToken?: unknown } };
  const accessToken = body.tokens?.accessToken;
  if (typeof accessToken !== "string") throw new Error("login answered 200 without tokens.accessToken");
  return { email, accessToken, authLimit: policyLimit(response) };
}

/** The per-user reads limit, read off one GET /api/v1/me. */
export async function readsLimit(base: string, account: Account): Promise<number> {
  const response = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${account.accessToken}` } });
  if (!response.ok) throw await failure("GET /api/v1/me", response);
  return policyLimit(response);
}
