// What the clinical scenarios of scripts/bench.ts need, written straight into the bench stack's
// database (system scope, like scripts/seed.ts): a clinician who works around the clock (so every
// booking the bench makes is inside working hours), a thousand patients on their care team, a pool
// of members whose first dashboard read is a cache miss, and, unless scripts/bench/seed-notes.ts
// (the notes feature's) provides them, 10,000 progress notes. Access tokens are minted with the
// stack's own signing key instead of logging each member in (PBKDF2 would take minutes).
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { neon, neonConfig, type NeonQueryFunction } from "@neondatabase/serverless";
import { sql as drizzleSql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { parseConfig } from "../../src/env.ts";
import { noteHashSql } from "../../src/features/notes/notes.canonical.ts";
import { signAccessToken } from "../../src/lib/tokens.ts";
import { DEMO_ORGANIZATION } from "../seed.ts";
import { devConfig } from "./api.ts";

type Sql = NeonQueryFunction<false, false>;

export const BENCH_PATIENTS = 1000;
export const BENCH_NOTES = 10_000;

/** A name search with typos and no accents, as the front desk types it: matches "Núñez", "Nuñes"… */
export const PATIENT_QUERY = "nunez";
/** Two words that occur together in a few percent of the seeded notes. */
export const FALLBACK_NOTE_QUERY = '"sleep hygiene" anxiety';

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
 * `count` owners of the demo organization with access tokens: one caller's second dashboard read
 * within 30 s is a KV hit, so the uncached path is measured by cycling through many callers.
 */
export async function seedCallers(env: NodeJS.ProcessEnv, count: number): Promise<string[]> {
  const sql = database(env);
  const ids = Array.from({ length: count }, () => randomUUID());
  const rows = ids.map((id) => ({ id, email: `bench-caller-${id}@example.com` }));
  await inSystemScope(sql, [
    sql`insert into users (id, email, name, password_hash, email_verified_at)
      select r.id, r.email, 'Bench Caller', 'pbkdf2$unused', now() from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, email text)`,
    sql`insert into memberships (organization_id, user_id, role)
      select ${DEMO_ORGANIZATION.id}, r.id, 'owner' from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid)`,
  ]);
  const config = parseConfig(devConfig(env));
  return Promise.all(ids.map((userId) => signAccessToken(config, { userId, organizationId: DEMO_ORGANIZATION.id, role: "owner", sessionId: randomUUID() })));
}

const SUBJECTIVE = [
  "Reports poor sleep and racing thoughts at night",
  "Feels calmer since starting the breathing exercises",
  "Describes low mood and loss of appetite for two weeks",
  "Knee pain after gardening, worse on stairs",
  "Anxiety before work meetings, sleep hygiene improving",
  "Missed two doses of medication this week",
];
const OBJECTIVE = ["Calm, good eye contact", "Tearful at times, speech normal", "Mild swelling of the left knee", "Blood pressure 128/82", "GAD-7 score 11", "PHQ-9 score 14"];
const ASSESSMENT = ["Generalised anxiety, improving", "Moderate depressive episode", "Osteoarthritis flare", "Insomnia linked to stress", "Adherence problem", "Stable, no change"];
const PLAN = [
  "Continue weekly CBT and the sleep hygiene plan",
  "Behavioural activation; review in two weeks",
  "Physiotherapy exercises twice daily",
  "Pill organiser; caregiver to check in each morning",
  "Progressive muscle relaxation before bed",
  "Refer to the memory clinic",
];

/**
 * 10,000 SOAP notes by the bench clinician over the bench patients, two thirds signed (their
 * content_hash computed in SQL exactly as the sign route does), in batches of 2,000.
 */
async function seedNotesFallback(env: NodeJS.ProcessEnv, fixture: ClinicalFixture, count: number): Promise<{ inserted: number; query: string }> {
  const sql = database(env);
  const org = DEMO_ORGANIZATION.id;
  const pools = JSON.stringify({ s: SUBJECTIVE, o: OBJECTIVE, a: ASSESSMENT, p: PLAN });
  const patients = JSON.stringify(fixture.patientIds);
  const dialect = new PgDialect();
  const signed = dialect.sqlToQuery(drizzleSql`update progress_notes n set status = 'signed', signed_at = now(), signed_by = n.author_id,
      content_hash = ${noteHashSql("n")} where n.organization_id = ${org} and n.author_id = ${fixture.clinicianId} and n.status = 'draft'
      and (('x' || substr(md5(n.id::text), 1, 4))::bit(16)::int % 3) <> 0`);
  const batch = 2000;
  for (let offset = 0; offset < count; offset += batch) {
    const size = Math.min(batch, count - offset);
    await inSystemScope(sql, [
      sql`with pools as (select ${pools}::jsonb as j), ids as (select ${patients}::jsonb as p)
        insert into progress_notes (id, organization_id, patient_id, author_id, format, content, created_at, updated_at)
        select gen_random_uuid(), ${org}, (ids.p ->> (g % jsonb_array_length(ids.p)))::uuid, ${fixture.clinicianId}, 'soap',
          jsonb_build_object(
            'subjective', (pools.j -> 's') ->> (g % 6),
            'objective', (pools.j -> 'o') ->> ((g / 6) % 6),
            'assessment', (pools.j -> 'a') ->> ((g / 36) % 6),
            'plan', (pools.j -> 'p') ->> ((g / 7) % 6) || ' (note ' || g || ')'),
          now() - make_interval(mins => g), now() - make_interval(mins => g)
        from generate_series(${offset}::int, ${offset + size - 1}::int) as g, pools, ids`,
    ]);
  }
  await inSystemScope(sql, [sql.query(signed.sql, signed.params) as unknown as ReturnType<Sql>]);
  return { inserted: count, query: FALLBACK_NOTE_QUERY };
}

interface NotesSeeder {
  seedNotes(input: { env: NodeJS.ProcessEnv; organizationId: string; authorId: string; patientIds: string[]; count: number }): Promise<{ inserted: number; query: string }>;
}

/** The notes feature's seeder (scripts/bench/seed-notes.ts) when it is there, else the fallback above. */
export async function seedNotes(env: NodeJS.ProcessEnv, fixture: ClinicalFixture, count = BENCH_NOTES): Promise<{ inserted: number; query: string; by: string }> {
  const path = join(import.meta.dirname, "seed-notes.ts");
  if (existsSync(path)) {
    const module = (await import(path)) as Partial<NotesSeeder>;
    if (typeof module.seedNotes === "function") {
      const result = await module.seedNotes({ env, organizationId: DEMO_ORGANIZATION.id, authorId: fixture.clinicianId, patientIds: fixture.patientIds, count });
      return { ...result, by: "scripts/bench/seed-notes.ts" };
    }
    console.warn("bench: scripts/bench/seed-notes.ts exports no seedNotes(); seeding notes with the fallback");
  }
  return { ...(await seedNotesFallback(env, fixture, count)), by: "scripts/bench/clinical.ts" };
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
