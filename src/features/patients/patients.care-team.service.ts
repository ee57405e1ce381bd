import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { invalidateClinicianList } from "#src/features/clinicians/clinicians.cache.ts";
import {
  AddOutcome,
  addCareTeamMember,
  CareTeamRow,
  demotePrimary,
  listCareTeam,
  RemoveOutcome,
  removeCareTeamMember,
} from "#src/features/patients/patients.care-team.repo.ts";
import type { CareTeamAdd } from "#src/features/patients/patients.schemas.ts";
import { notFoundPatient } from "#src/features/patients/patients.service.ts";
import type { Role } from "#src/db/schema/index.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Conflict, NotFound, ValidationFailed } from "#src/lib/errors.ts";
import { domainEvent, publishEvents } from "#src/lib/events.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export interface CareTeamMemberView {
  userId: string;
  name: string;
  role: Role;
  relationship: string;
  isPrimary: boolean;
  createdAt: string;
}

export type CareTeamDeps = Pick<Deps, "db" | "origin" | "cache" | "writes" | "jobs" | "defer" | "logger" | "realtime">;

/** GET /patients/{id}/care-team: primary first, then by when they joined. */
export async function getCareTeam(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, patientId: string): Promise<CareTeamMemberView[]> {
  const rows = rowsOf(CareTeamRow, await listCareTeam(scoped(deps.db, auth.organizationId), deps.origin, auth, patientId));
  if (!rows[0]?.found) throw notFoundPatient();
  return rows.flatMap((row) =>
    row.user_id && row.name !== null && row.role && row.relationship !== null && row.is_primary !== null && row.created_at
      ? [{ userId: row.user_id, name: row.name, role: row.role, relationship: row.relationship, isPrimary: row.is_primary, createdAt: row.created_at }]
      : [],
  );
}

/**
 * POST /patients/{id}/care-team. A clinician or caregiver of the organization joins; a new
 * primary demotes the previous one in the same transaction. The clinicians list (which counts
 * each clinician's patients) is invalidated after commit.
 */
export async function addToCareTeam(deps: CareTeamDeps, auth: AuthContext, patientId: string, body: CareTeamAdd): Promise<CareTeamMemberView> {
  const org = auth.organizationId;
  const scope = scoped(deps.db, org);
  const event = domainEvent(org, "patient.updated", { type: "patient", id: patientId });
  const input = { patientId, userId: body.userId, relationship: body.relationship, isPrimary: body.isPrimary, eventId: event.id };
  const add = addCareTeamMember(scope, deps.origin, auth, input);
  const result = body.isPrimary ? (await scope.db.batch([demotePrimary(scope, auth, input), add]))[1] : await add;
  const outcome = firstRow(AddOutcome, result);
  if (!outcome?.found) throw notFoundPatient();
  if (!outcome.user_id || outcome.is_primary === null || !outcome.created_at) {
    if (outcome.duplicate) throw Conflict("This member is already on the patient's care team.");
    const message = outcome.member_role === null ? "is not a member of this organization" : "must be a clinician or caregiver of this organization";
    throw ValidationFailed([{ path: "body.userId", message }]);
  }
  publishEvents(deps, org, [event.id]);
  await invalidateClinicianList(deps, org);
  return {
    userId: outcome.user_id,
    name: outcome.member_name ?? "",
    role: outcome.member_role ?? "clinician",
    relationship: outcome.relationship ?? body.relationship,
    isPrimary: outcome.is_primary,
    createdAt: outcome.created_at,
  };
}

/** DELETE /patients/{id}/care-team/{userId}. */
export async function removeFromCareTeam(deps: CareTeamDeps, auth: AuthContext, patientId: string, userId: string): Promise<void> {
  const org = auth.organizationId;
  const event = domainEvent(org, "patient.updated", { type: "patient", id: patientId });
  const outcome = firstRow(RemoveOutcome, await removeCareTeamMember(scoped(deps.db, org), deps.origin, auth, { patientId, userId, eventId: event.id }));
  if (!outcome?.found) throw notFoundPatient();
  if (!outcome.removed) throw NotFound("This member is not on the patient's care team.");
  publishEvents(deps, org, [event.id]);
  // Best effort, after the answer: they get no new event about the patient anyway.
  deps.defer(deps.realtime.forget(userId, org, patientId).catch(() => deps.logger.log("warn", "realtime.forget_failed")));
  await invalidateClinicianList(deps, org);
}
