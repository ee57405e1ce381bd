// What the clinical scenarios of scripts/bench.ts need, written straight into the bench stack's
// database (system scope, like scripts/seed.ts): a clinician who works around the clock (so every
// booking the bench makes is inside working hours), a thousand patients on their care team, a pool
// of members whose first dashboard read is a cache miss, and 10,000 progress notes (through the
// notes feature's scripts/bench/seed-notes.ts). Access tokens are minted with the
// stack's own signing key instead of logging each member in (PBKDF2 would take minutes).
import { randomUUID } from "node:crypto";
import { neon, neonConfig, type NeonQueryFunction } from "@neondatabase/serverless";
import { parseConfig } from "../../src/env.ts";
import { signAccessToken } from "../../src/lib/tokens.ts";
import { DEMO_ORGANIZATION } from "../seed.ts";
import { devConfig } from "./api.ts";
import { seedNotes as seedNotesOf } from "./seed-notes.ts";

type Sql = NeonQueryFunction<false, false>;

export const BENCH_PATIENTS = 1000;
export const BENCH_NOTES = 10_000;

/** A name search with typos and no accents, as the front desk types it: matches "Núñez", "Nuñes"… */
export const PATIENT_QUERY = "nunez";

function database(env: NodeJS.ProcessEnv): Sql {
  const config = devConfig(env);
  const endpoint = config.DATABASE_HTTP_ENDPOINT;
  if (endpoint) neonConfig.fetchEndpoint = () => endpoint;
  return neon(config.DATABASE_URL ?? "");
}

/** Statements of one transaction in the system scope (RLS binds the tables' owner too). */
async function inSystemScope(sql: Sql, statements: ReturnType<Sql>[]): Promise<unknown[]> {
  return sql.transaction([sql`select set_config('app.scope', 'system', true)`, ...statements]);
}

export interface ClinicalFixture {
  clinicianId: string;
  /** Every bench patient, the clinician on each one's care team. */
  patientIds: string[];
  /** The patient the booking scenario books, over and over at fresh times. */
  bookingPatientId: string;
}

const FIRST = ["José", "Zoë", "Aoife", "Björn", "Chidi", "Małgorzata", "François", "Aroha", "Søren", "Inés", "Mateo", "Priya", "Siobhán", "Jürgen", "Élodie", "Nguyễn", "Kofi", "Ana", "Lars", "Mei"];
const LAST = ["Núñez", "Lefèvre", "Ní Bhriain", "Åkesson", "Okonkwo", "Wiśniewska", "Dubois", "Te Whata", "Kierkegaard", "Ortega", "García", "Raman", "O'Connor", "Weiß", "Marchand", "Thị Lan", "Mensah", "Nuñes", "Lindqvist", "Chen"];

/** The clinician (hours 00:00–24:00 every day, UTC), the patients and their care team. */
export async function seedClinicalFixture(env: NodeJS.ProcessEnv): Promise<ClinicalFixture> {
  const sql = database(env);
  const org = DEMO_ORGANIZATION.id;
  const clinicianId = randomUUID();
  const patients = Array.from({ length: BENCH_PATIENTS }, (_, i) => ({
    id: randomUUID(),
    name: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`,
    phone: `+4477009${String(10_000 + i).padStart(5, "0")}`,
  }));
  const allDay = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: "00:00", end: "24:00" }));
  await inSystemScope(sql, [
    sql`insert into users (id, email, name, password_hash, email_verified_at) values (${clinicianId}, ${`bench-clinician-${clinicianId.slice(0, 8)}@example.com`}, 'Bench Clinician', 'pbkdf2$unused', now())`,
    sql`insert into memberships (organization_id, user_id, role) values (${org}, ${clinicianId}, 'clinician')`,
    sql`insert into working_hours (organization_id, user_id, timezone, intervals) values (${org}, ${clinicianId}, 'UTC', ${JSON.stringify(allDay)}::jsonb)`,
    sql`insert into patients (id, organization_id, name, phone, timezone, created_by)
      select r.id, ${org}, r.name, r.phone, 'Europe/London', ${clinicianId}
      from jsonb_to_recordset(${JSON.stringify(patients)}::jsonb) as r(id uuid, name text, phone text)`,
    sql`insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary)
      select ${org}, r.id, ${clinicianId}, 'clinician', true from jsonb_to_recordset(${JSON.stringify(patients)}::jsonb) as r(id uuid)`,
  ]);
  const patientIds = patients.map((p) => p.id);
  return { clinicianId, patientIds, bookingPatientId: patientIds[0] ?? "" };
}

/**
 * `count` front-desk members (staff) of the demo organization with access tokens: one caller's
 * second dashboard read within 30 s is a KV hit, so the uncached path is measured by cycling
 * through many callers. Staff see the whole organization's dashboard, as owners do, but are not
 * told every change live: 2,000 owners would make each booking a 2,000-hub fan-out, which under
 * `wrangler dev` (every Durable Object on one thread) stalls the stack being measured.
 */
export async function seedCallers(env: NodeJS.ProcessEnv, count: number): Promise<string[]> {
  const sql = database(env);
  const ids = Array.from({ length: count }, () => randomUUID());
  const rows = ids.map((id) => ({ id, email: `bench-caller-${id}@example.com` }));
  await inSystemScope(sql, [
    sql`insert into users (id, email, name, password_hash, email_verified_at)
      select r.id, r.email, 'Bench Caller', 'pbkdf2$unused', now() from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, email text)`,
    sql`insert into memberships (organization_id, user_id, role)
      select ${DEMO_ORGANIZATION.id}, r.id, 'staff' from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid)`,
  ]);
  const config = parseConfig(devConfig(env));
  return Promise.all(ids.map((userId) => signAccessToken(config, { userId, organizationId: DEMO_ORGANIZATION.id, role: "staff", sessionId: randomUUID() })));
}

/**
 * 10,000 notes by the bench clinician over the bench patients (the notes feature's seeder), then
 * fresh planner statistics: a bulk load leaves none, and a database in service has them.
 */
export async function seedNotes(env: NodeJS.ProcessEnv, fixture: ClinicalFixture, count = BENCH_NOTES): Promise<{ inserted: number; query: string }> {
  const seeded = await seedNotesOf({ env, organizationId: DEMO_ORGANIZATION.id, authorId: fixture.clinicianId, patientIds: fixture.patientIds, count });
  const sql = database(env);
  await inSystemScope(sql, ["users", "memberships", "patients", "care_team_members", "working_hours", "appointments", "progress_notes", "note_addenda"].map((table) => sql.query(`analyze ${table}`)));
  return seeded;
}

/**
 * The booking scenario's request bodies: 20-minute appointments of the bench clinician and patient,
 * each 30 minutes after the previous one from a start far in the future, so no two ever overlap
 * (whatever the number of connections) and every one is inside the clinician's hours.
 */
export function bookingBodies(fixture: ClinicalFixture, startMs = Date.UTC(2031, 0, 6, 0, 0)): () => string {
  let slot = 0;
  return () => {
    const startsAt = new Date(startMs + slot * 30 * 60_000);
    slot++;
    return JSON.stringify({
      patientId: fixture.bookingPatientId,
      clinicianId: fixture.clinicianId,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 20 * 60_000).toISOString(),
      kind: "in_person",
      location: "Bench room",
    });
  };
}
