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

export const DEMO_ORGANIZATION = {
  id: "01936f3e-0000-7000-8000-000000000001",
  name: "Tend Demo Practice",
  slug: "demo",
  timezone: "Europe/London",
};

export const DEMO_OWNER = {
  id: "01936f3e-0000-7000-8000-000000000002",
  email: "owner@demo.tend.test",
  name: "Demo Owner",
  password: "quiet lantern over the harbour",
};

type DemoRole = "owner" | "clinician" | "staff" | "caregiver" | "patient";

interface DemoUser {
  id: string;
  email: string;
  name: string;
  password: string;
  role: DemoRole;
}

const demoId = (n: number) => `01936f3e-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;

const AMARA = { id: demoId(3), email: "amara.okafor@demo.tend.test", name: "Dr Amara Okafor", password: "copper kettle by the window", role: "clinician" } as const;
const MATEO = { id: demoId(4), email: "mateo.alvarez@demo.tend.test", name: "Dr Mateo Álvarez", password: "seven herons across the marsh", role: "clinician" } as const;
const FRONT_DESK = { id: demoId(5), email: "frontdesk@demo.tend.test", name: "Priya Raman", password: "bright ledger on the front desk", role: "staff" } as const;
const CAREGIVER = { id: demoId(6), email: "siobhan.oconnor@demo.tend.test", name: "Siobhán O'Connor", password: "warm scarf in the hallway", role: "caregiver" } as const;
const PATIENT_LOGIN = { id: demoId(7), email: "zoe.lefevre@demo.tend.test", name: "Zoë Lefèvre", password: "paper boats on the river", role: "patient" } as const;

/** Everyone who signs in to the demo practice, in the order the logins are printed. */
export const DEMO_USERS: DemoUser[] = [{ ...DEMO_OWNER, role: "owner" }, AMARA, MATEO, FRONT_DESK, CAREGIVER, PATIENT_LOGIN];

interface DemoPatient {
  id: string;
  name: string;
  preferredName?: string;
  dateOfBirth: string;
  phone: string;
  email?: string;
  timezone: string;
  language: string;
  userId?: string;
  team: { userId: string; relationship: string; primary: boolean }[];
}

const clinicianOf = (clinician: { id: string }, primary = true) => ({ userId: clinician.id, relationship: "clinician", primary });

/** Eight patients; every one has a primary clinician, some a second clinician or the caregiver. */
export const DEMO_PATIENTS: DemoPatient[] = [
  { id: demoId(0x101), name: "Zoë Lefèvre", dateOfBirth: "1991-04-17", phone: "+447700900123", email: PATIENT_LOGIN.email, timezone: "Europe/London", language: "fr", userId: PATIENT_LOGIN.id, team: [clinicianOf(AMARA), { userId: CAREGIVER.id, relationship: "sister", primary: false }] },
  { id: demoId(0x102), name: "José Núñez García", preferredName: "Pepe", dateOfBirth: "1958-11-02", phone: "+34600123456", timezone: "Europe/Madrid", language: "es", team: [clinicianOf(MATEO)] },
  { id: demoId(0x103), name: "Aoife Ní Bhriain", dateOfBirth: "1944-02-29", phone: "+353871234567", timezone: "Europe/Dublin", language: "en-IE", team: [clinicianOf(AMARA), { userId: CAREGIVER.id, relationship: "daughter", primary: false }] },
  { id: demoId(0x104), name: "Björn Åkesson", dateOfBirth: "1979-07-08", phone: "+46701234567", timezone: "Europe/Stockholm", language: "sv", team: [clinicianOf(MATEO)] },
  { id: demoId(0x105), name: "Aroha Te Whata", dateOfBirth: "1986-09-23", phone: "+64211234567", timezone: "Pacific/Auckland", language: "en-NZ", team: [clinicianOf(AMARA)] },
  { id: demoId(0x106), name: "François Dubois", dateOfBirth: "1967-12-30", phone: "+33612345678", timezone: "Europe/Paris", language: "fr", team: [clinicianOf(MATEO), clinicianOf(AMARA, false)] },
  { id: demoId(0x107), name: "Chidi Okonkwo", dateOfBirth: "2001-05-14", phone: "+2348012345678", timezone: "Africa/Lagos", language: "en", team: [clinicianOf(AMARA)] },
  { id: demoId(0x108), name: "Małgorzata Wiśniewska", preferredName: "Gosia", dateOfBirth: "1952-03-05", phone: "+48601234567", timezone: "Europe/Warsaw", language: "pl", team: [clinicianOf(MATEO), { userId: CAREGIVER.id, relationship: "neighbour", primary: false }] },
];

const patient = (n: number): DemoPatient => DEMO_PATIENTS[n - 1] as DemoPatient;

/** Weekly hours, in the practice's time zone (ISO weekdays, Monday = 1). */
const WORKING_HOURS = [
  { userId: AMARA.id, intervals: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: "09:00", end: "17:00" })) },
  { userId: MATEO.id, intervals: [...[1, 2, 3, 4].map((weekday) => ({ weekday, start: "08:00", end: "16:00" })), { weekday: 6, start: "09:00", end: "13:00" }] },
];

interface Slot {
  /** Names the slot within its week: with the week's Monday it makes the appointment's id. */
  key: string;
  day: number;
  localTime: string;
  clinicianId: string;
  patientId: string;
  kind: "in_person" | "telehealth";
  location: string | null;
  videoUrl: string | null;
  /** What it is once over, and before. */
  past: "completed" | "no_show" | "cancelled";
  upcoming: "scheduled" | "confirmed" | "cancelled";
}

/**
 * This week's sessions, 50 minutes each, inside each clinician's hours and at times that never
 * overlap across clinicians (08:00, 11:30 and 15:00 for one; 09:00, 10:30 and 14:00 for the other),
 * so neither a clinician nor a patient is ever booked twice.
 */
function weekSlots(): Slot[] {
  const slots: Slot[] = [];
  const plan = [
    { clinician: AMARA, days: [0, 1, 2, 3, 4], times: ["09:00", "10:30", "14:00"], patients: [1, 3, 5, 6, 7], room: "Room 1" },
    { clinician: MATEO, days: [0, 1, 2, 3], times: ["08:00", "11:30", "15:00"], patients: [2, 4, 6, 8], room: "Room 2" },
    { clinician: MATEO, days: [5], times: ["09:00", "10:30"], patients: [8, 2], room: "Room 2" },
  ];
  let n = 0;
  for (const { clinician, days, times, patients, room } of plan) {
    for (const day of days) {
      times.forEach((localTime, index) => {
        const who = patient(patients[(day * times.length + index) % patients.length] ?? 1);
        const telehealth = who.timezone === "Pacific/Auckland" || index === 2;
        n++;
        slots.push({
          key: `${clinician.id}:${day}:${localTime}`,
          day,
          localTime,
          clinicianId: clinician.id,
          patientId: who.id,
          kind: telehealth ? "telehealth" : "in_person",
          location: telehealth ? null : room,
          videoUrl: telehealth ? `https://meet.demo.tend.test/${who.id.slice(-4)}-${day}${index}` : null,
          past: n % 7 === 0 ? "no_show" : "completed",
          upcoming: n % 9 === 0 ? "cancelled" : n % 2 === 0 ? "confirmed" : "scheduled",
        });
      });
    }
  }
  return slots;
}

interface DemoNote {
  id: string;
  patientId: string;
  authorId: string;
  format: "soap" | "dap" | "free";
  content: Record<string, string>;
  signed: boolean;
  daysAgo: number;
  addendum?: { id: string; body: string };
}

const DEMO_NOTES: DemoNote[] = [
  {
    id: demoId(0x201), patientId: patient(1).id, authorId: AMARA.id, format: "soap", signed: true, daysAgo: 9,
    content: { subjective: "Reports sleeping better since starting the evening routine; anxiety before work meetings persists.", objective: "Calm, good eye contact. GAD-7 score 9, down from 13.", assessment: "Generalised anxiety improving with CBT.", plan: "Continue weekly CBT. Practise the breathing exercise before meetings." },
    addendum: { id: demoId(0x301), body: "Correction: GAD-7 was 10, not 9. Plan unchanged." },
  },
  {
    id: demoId(0x202), patientId: patient(3).id, authorId: AMARA.id, format: "dap", signed: true, daysAgo: 6,
    content: { data: "Daughter attended. Mrs Ní Bhriain recalled two of three words; walking with a frame.", assessment: "Mild cognitive decline, stable since last month.", plan: "Memory clinic referral; review medication with the GP." },
  },
  {
    id: demoId(0x203), patientId: patient(2).id, authorId: MATEO.id, format: "soap", signed: true, daysAgo: 5,
    content: { subjective: "Knee pain after gardening, 4/10.", objective: "Mild swelling of the left knee, full range of motion.", assessment: "Osteoarthritis flare.", plan: "Physiotherapy exercises twice daily; ice after activity." },
  },
  {
    id: demoId(0x204), patientId: patient(4).id, authorId: MATEO.id, format: "free", signed: true, daysAgo: 4,
    content: { text: "Telephone follow-up. Blood pressure diary reviewed: average 128/82. Continues the low-salt diet. No dizziness." },
  },
  {
    id: demoId(0x205), patientId: patient(6).id, authorId: MATEO.id, format: "dap", signed: true, daysAgo: 3,
    content: { data: "Reports low mood for three weeks, poor appetite. PHQ-9 score 14.", assessment: "Moderate depressive episode.", plan: "Start behavioural activation; joint review with Dr Okafor next week." },
  },
  {
    id: demoId(0x206), patientId: patient(7).id, authorId: AMARA.id, format: "soap", signed: true, daysAgo: 2,
    content: { subjective: "Exam stress; headaches most afternoons.", objective: "Tension in neck and shoulders.", assessment: "Tension-type headache linked to stress.", plan: "Sleep hygiene, hydration, progressive muscle relaxation." },
  },
  {
    id: demoId(0x207), patientId: patient(5).id, authorId: AMARA.id, format: "free", signed: false, daysAgo: 1,
    content: { text: "Telehealth session from Auckland. Discussed jet lag after travel; draft plan to follow." },
  },
  {
    id: demoId(0x208), patientId: patient(8).id, authorId: MATEO.id, format: "soap", signed: false, daysAgo: 1,
    content: { subjective: "Neighbour reports missed medication twice this week.", objective: "", assessment: "", plan: "Pill organiser; ask the caregiver to check in each morning." },
  },
  {
    id: demoId(0x209), patientId: patient(1).id, authorId: AMARA.id, format: "dap", signed: false, daysAgo: 0,
    content: { data: "Preparing for a presentation at work; using the breathing exercise.", assessment: "", plan: "" },
  },
];

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

/**
 * Inserts the demo organization and, given the password peppers (`id:secret,…` as in the
 * configuration), its members with verified emails and the demo practice, and prints their logins
 * (through `options.log`, console.log by default). Answers whether the organization was new.
 */
export async function seed(databaseUrl: string, httpEndpoint?: string, passwordPeppers?: string, options: { log?: (line: string) => void } = {}): Promise<boolean> {
  if (httpEndpoint) neonConfig.fetchEndpoint = () => httpEndpoint;
  const sql = neon(databaseUrl);
  const practice = passwordPeppers ? [...(await userStatements(sql, passwordPeppers)), ...patientStatements(sql), appointmentStatement(sql), ...(await noteStatements(sql))] : [];
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
