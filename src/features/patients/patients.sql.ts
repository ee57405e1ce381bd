import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { COMMUNICATION_STYLES, PATIENT_STATUSES, VOICES } from "#src/db/schema/index.ts";
import { isoOf } from "#src/db/sql-time.ts";

/** SQL fragments the patient and care-team statements share, and the row shape they return. */


/** The patient's columns from alias `p` (a table or a CTE holding patients' rows). */
export const PATIENT_COLUMNS = sql.join(
  [
    sql.raw("p.id, p.user_id, p.name, p.preferred_name, p.date_of_birth::text as date_of_birth, p.email, p.phone, p.address"),
    sql.raw("p.status, p.timezone, p.language, p.preferred_voice, p.communication_style, p.profile_photo_url, p.app_version"),
    sql`${isoOf("p.last_heartbeat_at")} as last_heartbeat_at, p.inactivity_threshold_minutes, p.version`,
    sql`${isoOf("p.created_at")} as created_at, ${isoOf("p.updated_at")} as updated_at`,
  ],
  sql`, `,
);

export const PatientRow = z.object({
  id: z.string(),
  user_id: z.string().nullable(),
  name: z.string(),
  preferred_name: z.string().nullable(),
  date_of_birth: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
  status: z.enum(PATIENT_STATUSES),
  timezone: z.string(),
  language: z.string(),
  preferred_voice: z.enum(VOICES),
  communication_style: z.enum(COMMUNICATION_STYLES),
  profile_photo_url: z.string().nullable(),
  app_version: z.string().nullable(),
  last_heartbeat_at: z.string().nullable(),
  inactivity_threshold_minutes: z.number().int().nullable(),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

export type PatientRowValue = z.infer<typeof PatientRow>;

/** The patient of a one-row CTE as one jsonb column (null when the CTE is empty), beside a statement's outcome columns. */
export const patientJsonOf = (cte: string): SQL => sql`(select to_jsonb(x) from (select ${PATIENT_COLUMNS} from ${sql.raw(cte)} p) x)`;

/** Whether patient `id` exists in organization `org` at all (RLS hides every other one). */
export const patientExists = (org: string, id: string): SQL =>
  sql`exists (select 1 from patients ep where ep.organization_id = ${org} and ep.id = ${id})`;

/**
 * The audit outcome of a request about one patient, for auditOnceFromCte over a CTE of the
 * reachable target: `reached` when the caller reached it, else "denied" (it exists, outside their
 * reach) or "not_found". The caller gets the same 404 for both.
 */
export const outcomeOf = (org: string, id: string, reached: SQL): SQL =>
  sql`case when count(c.id) > 0 then ${reached} when ${patientExists(org, id)} then 'denied' else 'not_found' end`;

/** The patient ids an audit row names: the patient's, whenever it exists in the organization (a denied attempt too). */
export const namedPatient = (org: string, id: string): SQL =>
  sql`case when ${patientExists(org, id)} then array[${id}::uuid] else '{}'::uuid[] end`;
