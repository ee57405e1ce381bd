import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "#src/lib/types.ts";
import { authRouter } from "#src/features/auth/auth.index.ts";
import { jwksRouter } from "#src/features/jwks/jwks.index.ts";
import { meRouter } from "#src/features/me/me.index.ts";
import { apiKeysRouter } from "#src/features/api-keys/api-keys.index.ts";
import { invitationsRouter } from "#src/features/invitations/invitations.index.ts";
import { mfaRouter } from "#src/features/mfa/mfa.index.ts";
import { membersRouter } from "#src/features/members/members.index.ts";
import { organizationRouter } from "#src/features/organization/organization.index.ts";
import { preferencesRouter } from "#src/features/preferences/preferences.index.ts";
import { patientsRouter } from "#src/features/patients/patients.index.ts";
import { cliniciansRouter } from "#src/features/clinicians/clinicians.index.ts";
import { appointmentsRouter } from "#src/features/appointments/appointments.index.ts";
import { notesRouter } from "#src/features/notes/notes.index.ts";
import { dashboardRouter } from "#src/features/dashboard/dashboard.index.ts";
import { auditRouter } from "#src/features/audit/audit.index.ts";
import { schedulesRouter } from "#src/features/schedules/schedules.index.ts";
import { remindersRouter } from "#src/features/reminders/reminders.index.ts";
import { activityRouter } from "#src/features/activity/activity.index.ts";
import { alertsRouter } from "#src/features/alerts/alerts.index.ts";
import { notificationsRouter } from "#src/features/notifications/notifications.index.ts";
import { devicesRouter } from "#src/features/devices/devices.index.ts";
import { realtimeRouter } from "#src/features/realtime/realtime.index.ts";

/**
 * Mounts every feature's router. API routes live under /api/v1; `/.well-known` at the root.
 * Each feature adds one line here.
 */
export function registerFeatures(app: OpenAPIHono<AppEnv>) {
  return app
    .route("/api/v1", authRouter)
    .route("/api/v1", meRouter)
    .route("/", jwksRouter)
    .route("/api/v1", mfaRouter)
    .route("/api/v1", organizationRouter)
    .route("/api/v1", membersRouter)
    .route("/api/v1", invitationsRouter)
    .route("/api/v1", apiKeysRouter)
    .route("/api/v1", preferencesRouter)
    .route("/api/v1", patientsRouter)
    .route("/api/v1", cliniciansRouter)
    .route("/api/v1", appointmentsRouter)
    .route("/api/v1", notesRouter)
    .route("/api/v1", dashboardRouter)
    .route("/api/v1", auditRouter)
    .route("/api/v1", schedulesRouter)
    .route("/api/v1", remindersRouter)
    .route("/api/v1", activityRouter)
    .route("/api/v1", alertsRouter)
    .route("/api/v1", notificationsRouter)
    .route("/api/v1", devicesRouter)
    .route("/api/v1", realtimeRouter);
}

/** Every feature route with its input and output types, for Hono's `hc` client: `hc<AppType>(baseUrl)`. */
export type AppType = ReturnType<typeof registerFeatures>;
