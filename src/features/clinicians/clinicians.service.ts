import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { type CachedClinician, invalidateClinicianList, readCachedClinicians, storeCachedClinicians } from "#src/features/clinicians/clinicians.cache.ts";
import { type WorkingInterval } from "#src/features/clinicians/clinicians.hours.ts";
import { ClinicianRow, listClinicianRows, upsertWorkingHours, WorkingHoursRow, workingHoursRow } from "#src/features/clinicians/clinicians.repo.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Forbidden, NotFound } from "#src/lib/errors.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export interface ClinicianView {
  id: string;
  name: string;
  email?: string;
  timezone: string;
  patientCount: number;
}

export interface WorkingHoursView {
  clinicianId: string;
  timezone: string;
  intervals: WorkingInterval[];
  updatedAt: string | null;
}

/** Emails are for callers who may read members (owners, admins, clinicians, front desk); the rest get names. */
function viewFor(auth: AuthContext, clinicians: CachedClinician[]): ClinicianView[] {
  const withEmail = auth.permissions.has("members:read");
  return clinicians.map(({ email, ...rest }) => (withEmail ? { ...rest, email } : rest));
}

/**
 * The organization's clinicians from KV when the cached list is current (no SQL at all), else from
 * the database, stored for the next reader after the response (`defer`).
 */
export async function listClinicians(
  deps: Pick<Deps, "db" | "cache" | "clock" | "defer" | "logger" | "writes">,
  auth: AuthContext,
): Promise<{ data: ClinicianView[]; cache: "hit" | "miss" }> {
  const org = auth.organizationId;
  const cached = await readCachedClinicians(deps, org);
  if (cached.hit) return { data: viewFor(auth, cached.clinicians), cache: "hit" };
  const builtAt = deps.clock.now().getTime();
  const rows = rowsOf(ClinicianRow, await listClinicianRows(scoped(deps.db, org)));
  const clinicians = rows.map((row) => ({ id: row.id, name: row.name, email: row.email, timezone: row.timezone, patientCount: row.patient_count }));
  // a failed store (KV allows about one write a second per key) only costs the next reader a miss
  deps.defer(
    storeCachedClinicians(deps, org, { version: cached.version, builtAt }, clinicians).catch((error: unknown) =>
      deps.logger.log("warn", "clinician list store failed", { organizationId: org, error: error instanceof Error ? error.name : "unknown" }),
    ),
  );
  return { data: viewFor(auth, clinicians), cache: "miss" };
}

const viewOfHours = (row: { user_id: string; timezone: string; intervals: WorkingInterval[] | null; updated_at: string | null }): WorkingHoursView => ({
  clinicianId: row.user_id,
  timezone: row.timezone,
  intervals: row.intervals ?? [],
  updatedAt: row.updated_at === null ? null : new Date(row.updated_at).toISOString(),
});

export async function getWorkingHours(deps: Pick<Deps, "db">, auth: AuthContext, clinicianId: string): Promise<WorkingHoursView> {
  const row = firstRow(WorkingHoursRow, await workingHoursRow(scoped(deps.db, auth.organizationId), clinicianId));
  if (!row) throw NotFound("No such clinician.");
  return viewOfHours(row);
}

/** Owners, admins and API keys (acting as an admin) set any clinician's hours; a clinician only their own. */
const mayManageAnyone = (auth: AuthContext) => auth.kind === "api_key" || auth.role === "owner" || auth.role === "admin";

/**
 * Replaces the clinician's working hours (one statement, with its audit row) and invalidates the
 * hot list, whose timezone may come from them. A clinician id of another organization, or a
 * member who is no clinician, is a 404.
 */
export async function putWorkingHours(
  deps: Pick<Deps, "db" | "cache" | "origin" | "logger" | "writes">,
  auth: AuthContext,
  clinicianId: string,
  input: { timezone: string; intervals: WorkingInterval[] },
): Promise<WorkingHoursView> {
  if (!mayManageAnyone(auth) && auth.userId !== clinicianId) throw Forbidden("A clinician sets only their own working hours.");
  const org = auth.organizationId;
  const intervals = [...input.intervals]
    .sort((a, b) => a.weekday - b.weekday || a.start.localeCompare(b.start))
    .map(({ weekday, start, end }) => ({ weekday, start, end }));
  const result = await upsertWorkingHours(scoped(deps.db, org), deps.origin, auth, { clinicianId, timezone: input.timezone, intervals });
  const row = firstRow(WorkingHoursRow, result);
  if (!row) throw NotFound("No such clinician.");
  await invalidateClinicianList(deps, org);
  return viewOfHours(row);
}
