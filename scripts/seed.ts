// Seeds the demo practice used by `npm run dev`: the organization, its owner and, with them, a
// living practice to look at (two clinicians with working hours, a front desk, a caregiver, a
// patient who signs in, eight patients with care teams, this week's appointments, signed and
// draft notes), so the walk-through can sign in at once. Idempotent: every row has a fixed id
// (appointments one derived from the week they fall in) and goes in with ON CONFLICT DO NOTHING,
// so running it again in the same week changes nothing; in a later week it books that week too.
// Development only: the passwords are printed and in the README, so never seed a database anyone
// else can reach.
import { neon, neonConfig, type NeonQueryFunction } from "@neondatabase/serverless";
import { configSchema } from "../src/env.ts";
import { addendumContentHash, noteContentHash } from "../src/features/notes/notes.canonical.ts";
import { hashPassword } from "../src/lib/password-hash.ts";
import {
  DEMO_ORGANIZATION,
  DEMO_OWNER,
  FRONT_DESK,
  DEMO_USERS,
  DEMO_PATIENTS,
  WORKING_HOURS,
  weekSlots,
  DEMO_NOTES,
  DEMO_SCHEDULES,
  AMARA,
} from "./demo-practice.ts";

export { DEMO_ORGANIZATION, DEMO_OWNER, DEMO_PATIENTS, DEMO_USERS } from "./demo-practice.ts";

type Sql = NeonQueryFunction<false, false>;

async function userStatements(sql: Sql, peppers: string) {
  const keyring = configSchema.shape.PASSWORD_PEPPERS.parse(peppers);
  const statements = [];
  for (const user of DEMO_USERS) {
    const passwordHash = await hashPassword(user.password, keyring);
    statements.push(
      sql`insert into users (id, email, name, password_hash, email_verified_at)
        values (${user.id}, ${user.email}, ${user.name}, ${passwordHash}, now())
        on conflict do nothing`,
      sql`insert into memberships (organization_id, user_id, role)
        select ${DEMO_ORGANIZATION.id}, id, ${user.role} from users where id = ${user.id}
        on conflict do nothing`,
    );
  }
  return statements;
}

function patientStatements(sql: Sql) {
  const org = DEMO_ORGANIZATION.id;
  const team = DEMO_PATIENTS.flatMap((p) => p.team.map((member) => ({ patient_id: p.id, user_id: member.userId, relationship: member.relationship, is_primary: member.primary })));
  const rows = DEMO_PATIENTS.map((p) => ({
    id: p.id, name: p.name, preferred_name: p.preferredName ?? null, date_of_birth: p.dateOfBirth, email: p.email ?? null, phone: p.phone,
    timezone: p.timezone, language: p.language, user_id: p.userId ?? null,
  }));
  return [
    sql`insert into patients (id, organization_id, user_id, name, preferred_name, date_of_birth, email, phone, timezone, language, created_by)
      select r.id, ${org}, r.user_id, r.name, r.preferred_name, r.date_of_birth, r.email, r.phone, r.timezone, r.language, ${DEMO_OWNER.id}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, user_id uuid, name text, preferred_name text, date_of_birth date, email text, phone text, timezone text, language text)
      on conflict do nothing`,
    sql`insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary, created_by)
      select ${org}, r.patient_id, r.user_id, r.relationship, r.is_primary, ${DEMO_OWNER.id}
      from jsonb_to_recordset(${JSON.stringify(team)}::jsonb) as r(patient_id uuid, user_id uuid, relationship text, is_primary boolean)
      on conflict do nothing`,
    sql`insert into working_hours (organization_id, user_id, timezone, intervals)
      select ${org}, r.user_id, ${DEMO_ORGANIZATION.timezone}, r.intervals
      from jsonb_to_recordset(${JSON.stringify(WORKING_HOURS.map((h) => ({ user_id: h.userId, intervals: h.intervals })))}::jsonb) as r(user_id uuid, intervals jsonb)
      on conflict do nothing`,
  ];
}

/**
 * This week's appointments (the ISO week in the practice's time zone), each with an id derived
 * from its week and slot (a UUIDv7-shaped md5), so re-running within the week inserts nothing.
 * A slot already over is completed (or a no-show); one still to come is scheduled or confirmed.
 * ON CONFLICT DO NOTHING also skips a slot that would overlap a booking made meanwhile.
 */
function appointmentStatement(sql: Sql) {
  const slots = weekSlots().map((s) => ({
    key: s.key, day: s.day, local_time: s.localTime, clinician_id: s.clinicianId, patient_id: s.patientId, kind: s.kind,
    location: s.location, video_url: s.videoUrl, past: s.past, upcoming: s.upcoming,
  }));
  const tz = DEMO_ORGANIZATION.timezone;
  return sql`with week as (
      select date_trunc('week', now() at time zone ${tz})::date as monday
    ), timed as (
      select s.*, w.monday, ((w.monday + s.day) + s.local_time) at time zone ${tz} as starts_at
      from jsonb_to_recordset(${JSON.stringify(slots)}::jsonb) as s(key text, day int, local_time time, clinician_id uuid, patient_id uuid, kind text, location text, video_url text, past text, upcoming text), week w
    ), decided as (
      select t.*, t.starts_at + interval '50 minutes' as ends_at,
        case when t.starts_at + interval '50 minutes' <= now() then t.past else t.upcoming end as status
      from timed t
    )
    insert into appointments (id, organization_id, patient_id, clinician_id, starts_at, ends_at, status, kind, location, video_url,
      reason, cancel_reason, created_by, created_at, confirmed_at, completed_at, cancelled_at)
    select overlay(overlay(md5('tend-demo:' || d.monday || ':' || d.key) placing '7' from 13) placing '8' from 17)::uuid,
      ${DEMO_ORGANIZATION.id}, d.patient_id, d.clinician_id, d.starts_at, d.ends_at, d.status, d.kind, d.location, d.video_url,
      'Follow-up session', case when d.status = 'cancelled' then 'Patient unwell' end, ${FRONT_DESK.id},
      d.monday::timestamp at time zone ${tz} - interval '3 days',
      case when d.status in ('confirmed', 'completed', 'no_show') then least(now(), d.starts_at - interval '1 day') end,
      case when d.status = 'completed' then d.ends_at end,
      case when d.status = 'cancelled' then least(now(), d.starts_at - interval '2 hours') end
    from decided d
    on conflict do nothing`;
}

/** Signed notes carry the SHA-256 of their canonical content, as the notes feature signs them. */
async function noteStatements(sql: Sql) {
  const rows = [];
  const addenda = [];
  for (const note of DEMO_NOTES) {
    const hash = note.signed ? await noteContentHash({ appointmentId: null, authorId: note.authorId, content: note.content, format: note.format, patientId: note.patientId }) : null;
    rows.push({ id: note.id, patient_id: note.patientId, author_id: note.authorId, format: note.format, content: note.content, signed: note.signed, content_hash: hash, days_ago: note.daysAgo });
    if (note.addendum) {
      const addendumHash = await addendumContentHash({ authorId: note.authorId, body: note.addendum.body, noteId: note.id });
      addenda.push({ id: note.addendum.id, note_id: note.id, author_id: note.authorId, body: note.addendum.body, content_hash: addendumHash, days_ago: note.daysAgo - 1 });
    }
  }
  const org = DEMO_ORGANIZATION.id;
  return [
    sql`insert into progress_notes (id, organization_id, patient_id, author_id, format, content, status, signed_at, signed_by, content_hash, created_at, updated_at)
      select r.id, ${org}, r.patient_id, r.author_id, r.format, r.content,
        case when r.signed then 'signed' else 'draft' end,
        case when r.signed then now() - make_interval(days => r.days_ago) + interval '1 hour' end,
        case when r.signed then r.author_id end, r.content_hash,
        now() - make_interval(days => r.days_ago), now() - make_interval(days => r.days_ago)
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, patient_id uuid, author_id uuid, format text, content jsonb, signed boolean, content_hash text, days_ago int)
      on conflict do nothing`,
    sql`insert into note_addenda (id, organization_id, note_id, author_id, body, content_hash, signed_at, created_at)
      select r.id, ${org}, r.note_id, r.author_id, r.body, r.content_hash, now() - make_interval(days => r.days_ago), now() - make_interval(days => r.days_ago)
      from jsonb_to_recordset(${JSON.stringify(addenda)}::jsonb) as r(id uuid, note_id uuid, author_id uuid, body text, content_hash text, days_ago int)
      on conflict do nothing`,
  ];
}

function scheduleStatement(sql: Sql) {
  const rows = DEMO_SCHEDULES.map((s) => ({ id: s.id, patient_id: s.patientId, kind: s.kind, title: s.title, dose: s.dose ?? null, times: s.timesOfDay, days: s.daysOfWeek }));
  return sql`insert into schedules (id, organization_id, patient_id, kind, title, dose, times_of_day, days_of_week, created_by)
    select r.id, ${DEMO_ORGANIZATION.id}, r.patient_id, r.kind, r.title, r.dose,
      array(select jsonb_array_elements_text(r.times)), array(select jsonb_array_elements_text(r.days)::smallint), ${AMARA.id}::uuid
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, patient_id uuid, kind text, title text, dose text, times jsonb, days jsonb)
    on conflict do nothing`;
}

/**
 * Inserts the demo organization and, given the password peppers (`id:secret,…` as in the
 * configuration), its members with verified emails and the demo practice, and prints their logins
 * (through `options.log`, console.log by default). Answers whether the organization was new.
 */
export async function seed(databaseUrl: string, httpEndpoint?: string, passwordPeppers?: string, options: { log?: (line: string) => void } = {}): Promise<boolean> {
  if (httpEndpoint) neonConfig.fetchEndpoint = () => httpEndpoint;
  const sql = neon(databaseUrl);
  const practice = passwordPeppers ? [...(await userStatements(sql, passwordPeppers)), ...patientStatements(sql), appointmentStatement(sql), ...(await noteStatements(sql)), scheduleStatement(sql)] : [];
  // One transaction in the audited system scope: row-level security (migration 0007) binds the
  // tables' owner too, so the seed says whose rows it writes, like a migration does.
  const [, inserted] = await sql.transaction([
    sql`select set_config('app.scope', 'system', true)`,
    sql`insert into organizations (id, name, slug, timezone)
      values (${DEMO_ORGANIZATION.id}, ${DEMO_ORGANIZATION.name}, ${DEMO_ORGANIZATION.slug}, ${DEMO_ORGANIZATION.timezone})
      on conflict do nothing returning id`,
    ...practice,
  ]);
  if (passwordPeppers) printLogins(options.log);
  return (inserted?.length ?? 0) > 0;
}

/** The demo logins, for the console of `npm run dev`. */
export function printLogins(log: (line: string) => void = console.log): void {
  const width = Math.max(...DEMO_USERS.map((user) => user.email.length));
  log(`demo logins (${DEMO_ORGANIZATION.name}; development only):`);
  for (const user of DEMO_USERS) log(`  ${user.role.padEnd(9)}  ${user.email.padEnd(width)}  "${user.password}"  (${user.name})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("db:seed: set DATABASE_URL (and DATABASE_HTTP_ENDPOINT for the local gateway; PASSWORD_PEPPERS to seed the demo members and practice)");
    process.exit(1);
  }
  const created = await seed(url, process.env.DATABASE_HTTP_ENDPOINT, process.env.PASSWORD_PEPPERS);
  console.log(`db:seed: demo organization ${created ? "created" : "already present"}`);
}
