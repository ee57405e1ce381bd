import { env } from "cloudflare:test";
import type { Role } from "#src/db/schema/identity.ts";
import { careTeamMembers, memberships, patients, users } from "#src/db/schema/index.ts";
import { parseConfig } from "#src/env.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { signAccessToken } from "#src/lib/tokens.ts";
import { type Member, type Tenant, uniqueEmail } from "./fixtures.ts";
import { testDb } from "./helpers.ts";

/**
 * Clinical fixtures, straight in the database: the routes under test are exercised by the tests
 * themselves, not by their setup.
 */

/** One more member of the tenant with `role` (a second clinician, another caregiver), with a token. */
export async function addMember(tenant: Tenant, role: Role, name = `${role} ${uuidv7().slice(-4)}`): Promise<Member> {
  const config = parseConfig(env);
  const db = testDb();
  const id = uuidv7();
  const email = uniqueEmail(role);
  await db.batch([
    db.insert(users).values({ id, email, name, passwordHash: "pbkdf2$unused" }),
    db.insert(memberships).values({ organizationId: tenant.organizationId, userId: id, role }),
  ]);
  const token = await signAccessToken(config, { userId: id, organizationId: tenant.organizationId, role, sessionId: uuidv7() });
  return { id, email, role, token, headers: { Authorization: `Bearer ${token}` } };
}

export interface PatientSeed {
  name?: string;
  phone?: string | null;
  userId?: string | null;
  status?: "active" | "inactive" | "discharged";
  timezone?: string;
  dateOfBirth?: string;
  /** Care team: user ids; the first is primary. */
  careTeam?: { userId: string; relationship?: string; primary?: boolean }[];
}

/** A patient of the tenant (and its care team), inserted directly; answers its id. */
export async function insertPatient(tenant: Tenant, seed: PatientSeed = {}): Promise<string> {
  const db = testDb();
  const id = uuidv7();
  const organizationId = tenant.organizationId;
  const team = seed.careTeam ?? [];
  const insertPatientRow = db.insert(patients).values({
    id,
    organizationId,
    name: seed.name ?? `Patient ${id.slice(-6)}`,
    phone: seed.phone ?? null,
    userId: seed.userId ?? null,
    status: seed.status ?? "active",
    timezone: seed.timezone ?? "UTC",
    dateOfBirth: seed.dateOfBirth ?? null,
  });
  if (team.length === 0) {
    await insertPatientRow;
    return id;
  }
  await db.batch([
    insertPatientRow,
    db.insert(careTeamMembers).values(
      team.map((member, index) => ({
        organizationId,
        patientId: id,
        userId: member.userId,
        relationship: member.relationship ?? "clinician",
        isPrimary: member.primary ?? index === 0,
      })),
    ),
  ]);
  return id;
}

/** The tenant's standard relationships: its clinician and caregiver on the care team, its patient member linked. */
export async function insertCaredPatient(tenant: Tenant, name?: string): Promise<string> {
  return insertPatient(tenant, {
    ...(name ? { name } : {}),
    userId: tenant.members.patient.id,
    careTeam: [
      { userId: tenant.members.clinician.id, relationship: "therapist", primary: true },
      { userId: tenant.members.caregiver.id, relationship: "daughter", primary: false },
    ],
  });
}
