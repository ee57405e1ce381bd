import { type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * Who sees what (SPEC "Who sees what"), as SQL. Permissions (src/lib/permissions.ts) say what a
 * role may do at all; these predicates narrow a permitted caller to the records their
 * relationship reaches, inside the query that reads or writes them, so a record outside the
 * reach is indistinguishable from a missing one (404) and never counted.
 *
 * - owner, admin, staff, API keys: the whole organization (staff never hold notes:read).
 * - clinician, caregiver: the patients on whose care team they are.
 * - patient: their own linked record.
 */
export type PatientReach =
  | { kind: "organization" }
  | { kind: "care-team"; userId: string }
  | { kind: "self"; userId: string };

export function patientReach(auth: AuthContext): PatientReach {
  if (auth.kind === "api_key" || !auth.userId) return { kind: "organization" };
  switch (auth.role) {
    case "clinician":
    case "caregiver":
      return { kind: "care-team", userId: auth.userId };
    case "patient":
      return { kind: "self", userId: auth.userId };
    default:
      return { kind: "organization" };
  }
}

type Column = PgColumn | SQL;

/** `patientId` (a column or expression) is a patient of the caller's reach, in their organization. */
export function patientVisible(auth: AuthContext, patientId: Column): SQL {
  const reach = patientReach(auth);
  const org = auth.organizationId;
  switch (reach.kind) {
    case "organization":
      return sql`true`;
    case "care-team":
      return sql`${patientId} in (select ct.patient_id from care_team_members ct where ct.organization_id = ${org} and ct.user_id = ${reach.userId})`;
    case "self":
      return sql`${patientId} in (select sp.id from patients sp where sp.organization_id = ${org} and sp.user_id = ${reach.userId})`;
  }
}

/** Appointments: those of reachable patients, and a clinician's own. */
export function appointmentVisible(auth: AuthContext, columns: { patientId: Column; clinicianId: Column }): SQL {
  const reach = patientReach(auth);
  const visible = patientVisible(auth, columns.patientId);
  if (auth.role === "clinician" && reach.kind === "care-team") return sql`(${visible} or ${columns.clinicianId} = ${reach.userId})`;
  return visible;
}

/**
 * Notes: owners, admins and keys with notes:read see every note; a clinician those of their
 * care-team patients; nobody else any (staff, caregivers and patients never hold notes:read,
 * and this predicate refuses them again should a matrix change hand it to them).
 */
export function noteVisible(auth: AuthContext, patientId: Column): SQL {
  if (!auth.permissions.has("notes:read")) return sql`false`;
  if (auth.kind === "api_key" || auth.role === "owner" || auth.role === "admin") return sql`true`;
  if (auth.role === "clinician" && auth.userId) return patientVisible(auth, patientId);
  return sql`false`;
}

/**
 * The background's view of a patient's care loop, where no caller's AuthContext exists (events,
 * notifications, live updates act for their recipients). A care_team_members row outlives a role
 * change, so the care team is the members on it who are still clinicians or caregivers (staff too
 * where `withStaff`, for appointments the front desk books): `select user_id, is_primary`.
 */
export function currentCareTeam(org: SQL, patientId: SQL, { withStaff = sql`false` }: { withStaff?: SQL } = {}): SQL {
  return sql`select ct.user_id, ct.is_primary from care_team_members ct
    join memberships ctm on ctm.organization_id = ct.organization_id and ctm.user_id = ct.user_id
    where ct.organization_id = ${org} and ct.patient_id = ${patientId}
      and (ctm.role in ('clinician', 'caregiver') or (${withStaff} and ctm.role = 'staff'))`;
}

/**
 * Whether `userId` may still be told about the patient's alerts and reminders: a current member
 * of the care team, an owner or admin, or the patient's own linked user. Checked again when a
 * notification written earlier (deferred by quiet hours, retried) is finally sent.
 */
export function followsPatient(org: SQL, patientId: SQL, userId: SQL): SQL {
  return sql`(
    exists (select 1 from (${currentCareTeam(org, patientId)}) team where team.user_id = ${userId})
    or exists (select 1 from memberships fm where fm.organization_id = ${org} and fm.user_id = ${userId} and fm.role in ('owner', 'admin'))
    or exists (select 1 from patients fp where fp.organization_id = ${org} and fp.id = ${patientId} and fp.user_id = ${userId}))`;
}
