import { env } from "cloudflare:test";
import type { Role } from "#src/db/schema/identity.ts";
import { memberships, organizations, users } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { hashPassword } from "#src/lib/password-hash.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import { testDb } from "./helpers.ts";

/** A password that passes the policy; every fixture user has it. */
export const PASSWORD = "amber kettle under the stairs";

let passwordHash: Promise<string> | undefined;

export const uniqueEmail = (label = "user") => `${label}-${crypto.randomUUID().slice(0, 8)}@example.test`;
export const uniqueIp = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

export interface Member {
  id: string;
  email: string;
  role: Role;
  token: string;
  headers: Record<string, string>;
}

export interface Tenant {
  organizationId: string;
  members: Record<Role, Member>;
}

/**
 * A fresh organization with one member per role, made straight in the database, each with a
 * valid access token: every test file builds its own and leans on no one else's data.
 */
export async function createTenant(name = "Test Practice"): Promise<Tenant> {
  const config = parseConfig(env);
  passwordHash ??= hashPassword(PASSWORD, config.PASSWORD_PEPPERS);
  const hash = await passwordHash;
  const organizationId = uuidv7();
  const db = testDb();
  const roles: Role[] = ["owner", "admin", "clinician", "staff", "caregiver", "patient"];
  const people = roles.map((role) => ({ id: uuidv7(), email: uniqueEmail(role), role }));
  await db.batch([
    db.insert(organizations).values({ id: organizationId, name, slug: `t-${organizationId.slice(-12)}` }),
    db.insert(users).values(people.map((person) => ({ id: person.id, email: person.email, name: person.role, passwordHash: hash }))),
    db.insert(memberships).values(people.map((person) => ({ organizationId, userId: person.id, role: person.role }))),
  ]);
  const members = {} as Record<Role, Member>;
  for (const person of people) {
    const token = await signAccessToken(config, { userId: person.id, organizationId, role: person.role, sessionId: uuidv7() });
    members[person.role] = { ...person, token, headers: { Authorization: `Bearer ${token}` } };
  }
  return { organizationId, members };
}

/** A JSON request: POST unless told otherwise (`jsonBody(body, headers, "PATCH")`). */
export const jsonBody = (body: unknown, headers: Record<string, string> = {}, method = "POST"): RequestInit => ({
  method,
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** A JSON PATCH with the given headers (usually a member's). */
export const patch = (body: unknown, headers: Record<string, string>): RequestInit => jsonBody(body, headers, "PATCH");
