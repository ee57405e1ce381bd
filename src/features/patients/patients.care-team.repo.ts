import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { ROLES } from "#src/db/schema/index.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { isoOf } from "#src/db/sql-time.ts";
import { namedPatient, outcomeOf } from "#src/features/patients/patients.sql.ts";
import { patientVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, auditOnceFromCte } from "#src/lib/audit.ts";
import { eventFromCte } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/**
 * Care-team statements: the patient must be within the caller's reach (src/lib/access.ts), or the
 * statement touches nothing and answers "not found"; each writes one audit row naming the
 * patient, whatever happened, and a change writes a `patient.updated` outbox row.
 */

/** The roles a care-team member may hold. */
export const CARE_TEAM_ROLES = ["clinician", "caregiver"] as const;
const careRoles = sql.raw(CARE_TEAM_ROLES.map((role) => `'${role}'`).join(", "));

export const CARE_TEAM_MAX = 100;

const targetOf = (org: string, auth: AuthContext, patientId: string): SQL =>
  sql`select p.id from patients p where p.organization_id = ${org} and p.id = ${patientId} and ${patientVisible(auth, sql`p.id`)}`;

const memberColumns = (alias: string): SQL =>
  sql`${sql.raw(alias)}.user_id, ${sql.raw(alias)}.relationship, ${sql.raw(alias)}.is_primary, ${isoOf(`${alias}.created_at`)} as created_at`;

export const CareTeamRow = z.object({
  found: z.boolean(),
  user_id: z.string().nullable(),
  name: z.string().nullable(),
  role: z.enum(ROLES).nullable(),
  relationship: z.string().nullable(),
  is_primary: z.boolean().nullable(),
  created_at: z.string().nullable(),
});

/** The care team of a reachable patient (primary first), with its `care_team.read` audit row. */
export function listCareTeam(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, patientId: string) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with target as (${targetOf(org, auth, patientId)}),
    team as (
      select ${memberColumns("ct")}, u.name, m.role, ct.created_at as joined
      from care_team_members ct
      join target t on t.id = ct.patient_id
      join memberships m on m.organization_id = ct.organization_id and m.user_id = ct.user_id
      join users u on u.id = ct.user_id
      where ct.organization_id = ${org}
      order by ct.is_primary desc, ct.created_at, ct.user_id
      limit ${CARE_TEAM_MAX}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "care_team.read",
        organizationId: org,
        ...actorOf(auth),
        targetType: "patient",
        targetId: patientId,
        patientIds: namedPatient(org, patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, patientId, sql`'ok'`)})`,
      })}
    )
    select f.found, team.user_id, team.name, team.role, team.relationship, team.is_primary, team.created_at
    from (select exists (select 1 from target) as found) f left join team on true
    order by team.is_primary desc, team.joined, team.user_id`);
}

const memberOf = (org: string, userId: string): SQL =>
  sql`select m.role, u.name from memberships m join users u on u.id = m.user_id where m.organization_id = ${org} and m.user_id = ${userId}`;

const onTeam = (org: string, patientId: string, userId: string): SQL =>
  sql`exists (select 1 from care_team_members d where d.organization_id = ${org} and d.patient_id = ${patientId} and d.user_id = ${userId})`;

const eligible = (org: string, userId: string): SQL =>
  sql`exists (select 1 from memberships em where em.organization_id = ${org} and em.user_id = ${userId} and em.role in (${careRoles}))`;

export const AddOutcome = z.object({
  found: z.boolean(),
  member_role: z.enum(ROLES).nullable(),
  member_name: z.string().nullable(),
  duplicate: z.boolean(),
  user_id: z.string().nullable(),
  relationship: z.string().nullable(),
  is_primary: z.boolean().nullable(),
  created_at: z.string().nullable(),
});

export interface CareTeamAddition {
  patientId: string;
  userId: string;
  relationship: string;
  isPrimary: boolean;
  eventId: string;
}

/**
 * A new primary demotes the previous one first, in the same batch (one transaction, one round
 * trip), and only when the addition itself will pass; the partial unique index
 * care_team_one_primary still refuses two primaries from racing requests (a 409).
 */
export function demotePrimary(scope: TenantScope, auth: AuthContext, input: CareTeamAddition) {
  const org = scope.organizationId;
  const { patientId, userId } = input;
  return scope.db.execute(sql`
    update care_team_members ct set is_primary = false
    where ct.organization_id = ${org} and ct.patient_id = ${patientId} and ct.is_primary and ct.user_id <> ${userId}
      and exists (${targetOf(org, auth, patientId)}) and ${eligible(org, userId)} and not ${onTeam(org, patientId, userId)}`);
}

/** Adds a clinician or caregiver of the organization to a reachable patient's team. */
export function addCareTeamMember(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: CareTeamAddition) {
  const org = scope.organizationId;
  const { patientId, userId } = input;
  return scope.db.execute(sql`
    with target as (${targetOf(org, auth, patientId)}),
    member as (${memberOf(org, userId)}),
    added as (
      insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary, created_by)
      select ${org}::uuid, t.id, ${userId}::uuid, ${input.relationship}::text, ${input.isPrimary}::boolean, ${auth.userId}::uuid
      from target t
      where ${eligible(org, userId)} and not ${onTeam(org, patientId, userId)}
      returning patient_id, user_id, relationship, is_primary, created_at
    ), event as (
      ${eventFromCte("added", origin, {
        id: input.eventId,
        organizationId: org,
        type: "patient.updated",
        subjectType: "patient",
        subjectId: sql`patient_id`,
        payload: sql`jsonb_build_object('change', 'care_team.added', 'userId', user_id, 'isPrimary', is_primary)`,
      })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "care_team.added",
        organizationId: org,
        ...actorOf(auth),
        targetType: "user",
        targetId: userId,
        patientIds: namedPatient(org, patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(
          org,
          patientId,
          sql`case when exists (select 1 from added) then 'ok' when ${onTeam(org, patientId, userId)} then 'duplicate' else 'invalid_member' end`,
        )}, 'isPrimary', ${input.isPrimary}::boolean)`,
      })}
    )
    select exists (select 1 from target) as found, (select role from member) as member_role, (select name from member) as member_name,
      ${onTeam(org, patientId, userId)} as duplicate, ${memberColumns("a")}
    from (select 1) once left join added a on true`);
}

export const RemoveOutcome = z.object({ found: z.boolean(), removed: z.boolean() });

/** Removes a member from a reachable patient's team, with its event and audit row. */
export function removeCareTeamMember(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: { patientId: string; userId: string; eventId: string }) {
  const org = scope.organizationId;
  const { patientId, userId } = input;
  return scope.db.execute(sql`
    with target as (${targetOf(org, auth, patientId)}),
    removed as (
      delete from care_team_members ct using target t
      where ct.organization_id = ${org} and ct.patient_id = t.id and ct.user_id = ${userId}
      returning ct.patient_id, ct.user_id, ct.is_primary
    ), event as (
      ${eventFromCte("removed", origin, {
        id: input.eventId,
        organizationId: org,
        type: "patient.updated",
        subjectType: "patient",
        subjectId: sql`patient_id`,
        payload: sql`jsonb_build_object('change', 'care_team.removed', 'userId', user_id, 'isPrimary', is_primary)`,
      })}
    ), audit as (
      ${auditOnceFromCte("target", origin, {
        action: "care_team.removed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "user",
        targetId: userId,
        patientIds: namedPatient(org, patientId),
        metadata: sql`jsonb_build_object('outcome', ${outcomeOf(org, patientId, sql`case when exists (select 1 from removed) then 'ok' else 'not_member' end`)})`,
      })}
    )
    select exists (select 1 from target) as found, exists (select 1 from removed) as removed`);
}
