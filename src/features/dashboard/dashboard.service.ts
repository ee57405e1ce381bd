import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { APPOINTMENT_STATUSES, type AppointmentStatus } from "#src/db/schema/index.ts";
import { DashboardRow, dashboardStatement } from "#src/features/dashboard/dashboard.repo.ts";
import type { Deps } from "#src/lib/deps.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { NotFound } from "#src/lib/errors.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export interface DashboardAppointment {
  id: string;
  startsAt: string;
  endsAt: string;
  status: AppointmentStatus;
  patientId: string;
  patientName: string | null;
  clinicianId: string;
}

export interface Dashboard {
  generatedAt: string;
  timezone: string;
  activePatients: number;
  today: { date: string; total: number; appointments: DashboardAppointment[] };
  thisWeek: { from: string; to: string; total: number; byStatus: Record<AppointmentStatus, number> };
  /** Null until the care loop (alerts, reminders) exists. */
  openAlerts: null;
  adherenceThisWeek: null;
}

export type DashboardDeps = Pick<Deps, "db" | "origin" | "cache" | "clock" | "defer" | "writes" | "jobs">;

/** How long one caller's dashboard is served from KV. */
export const DASHBOARD_CACHE_SECONDS = 30;

interface CachedDashboard {
  /** When the audited read that built it ran (epoch ms). */
  at: number;
  /** The role it was built for: after a role change the member's reach differs. */
  role: string | null;
  body: Dashboard;
}

/**
 * One entry per caller (member or API key): what one caller may see is never served to another.
 * (The events feature's dashboard-cache consumer drops these keys when patients or appointments
 * change.)
 */
export function dashboardCacheKey(auth: Pick<AuthContext, "organizationId" | "userId" | "apiKeyId">): string {
  return `dashboard:v1:${auth.organizationId}:${auth.userId ?? auth.apiKeyId ?? "anonymous"}`;
}

/**
 * The caller's dashboard: from KV when their own was built less than 30 s ago (0 round trips),
 * otherwise from one audited statement. A hit writes no audit row: it re-serves, to the same
 * caller, exactly what an audited read answered them at most 30 s before (the audit trail names
 * that read, its patients and its request id). The age is checked here because KV's own TTL
 * cannot go below 60 s. An entry built for another role (before a role change) is never served. A
 * caller who changed something since (a booking that marked their write
 * stamp, `deps.writes`) reads afresh: they see their own change at once.
 */
export async function readDashboard(deps: DashboardDeps, auth: AuthContext): Promise<{ dashboard: Dashboard; cache: "hit" | "miss" }> {
  const key = dashboardCacheKey(auth);
  const now = deps.clock.now();
  const cached = await deps.cache.get<CachedDashboard>(key);
  const age = cached ? now.getTime() - cached.at : Number.POSITIVE_INFINITY;
  if (cached && cached.role === auth.role && age >= 0 && age < DASHBOARD_CACHE_SECONDS * 1000) {
    const lastWrite = await deps.writes.lastWriteMs();
    if (lastWrite === undefined || lastWrite < cached.at) {
      recordCachedRead(deps, auth, cached.body);
      return { dashboard: cached.body, cache: "hit" };
    }
  }

  const dashboard = await buildDashboard(deps, auth, now);
  const entry: CachedDashboard = { at: now.getTime(), role: auth.role, body: dashboard };
  deps.defer(deps.cache.put(key, entry, DASHBOARD_CACHE_SECONDS));
  return { dashboard, cache: "miss" };
}

/**
 * A hit re-serves patient data, so it is audited too: through the queue (`audit.record`), keeping
 * the hit's 0 SQL round trips. The row names the same patients and appointments as the read it
 * repeats, with `cached: true`.
 */
function recordCachedRead(deps: Pick<DashboardDeps, "jobs" | "defer" | "origin">, auth: AuthContext, dashboard: Dashboard): void {
  const listed = dashboard.today.appointments;
  deps.defer(
    deps.jobs.enqueue({
      kind: "audit.record",
      id: uuidv7(),
      organizationId: auth.organizationId,
      actorUserId: auth.userId,
      actorApiKeyId: auth.apiKeyId,
      action: "dashboard.read",
      targetType: "dashboard",
      targetId: null,
      patientIds: [...new Set(listed.map((appointment) => appointment.patientId))],
      metadata: { outcome: "ok", cached: true, appointmentIds: listed.map((appointment) => appointment.id) },
      ip: deps.origin.ip,
      userAgent: deps.origin.userAgent,
      requestId: deps.origin.requestId,
    }),
  );
}

/** The dashboard at `now`, straight from the database (one round trip, audited). */
export async function buildDashboard(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, now: Date): Promise<Dashboard> {
  const result = await dashboardStatement(scoped(deps.db, auth.organizationId), deps.origin, auth, now);
  const row = firstRow(DashboardRow, result);
  if (!row) throw NotFound("No such organization.");
  return dashboardOf(row, now);
}

function dashboardOf(row: DashboardRow, now: Date): Dashboard {
  const byStatus = Object.fromEntries(APPOINTMENT_STATUSES.map((status) => [status, row.week[status] ?? 0])) as Record<AppointmentStatus, number>;
  return {
    generatedAt: now.toISOString(),
    timezone: row.timezone,
    activePatients: row.active_patients,
    today: {
      date: row.local_date,
      total: row.today_total,
      appointments: row.today.map((appointment) => ({
        id: appointment.id,
        startsAt: new Date(appointment.starts_at).toISOString(),
        endsAt: new Date(appointment.ends_at).toISOString(),
        status: appointment.status,
        patientId: appointment.patient_id,
        patientName: appointment.patient_name,
        clinicianId: appointment.clinician_id,
      })),
    },
    thisWeek: { from: row.week_start, to: row.week_end, total: Object.values(byStatus).reduce((sum, n) => sum + n, 0), byStatus },
    openAlerts: null,
    adherenceThisWeek: null,
  };
}
