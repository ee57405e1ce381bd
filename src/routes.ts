import type { ErrorHandler, Hono } from "hono";
import type { MergeSchemaPath } from "hono/types";
import { type Feature, lazyRoute } from "#src/lib/lazy-routes.ts";
import type { AppEnv } from "#src/lib/types.ts";
import { ROUTE_MANIFEST } from "#src/routes.manifest.ts";

/**
 * Every feature's router and where it is mounted: API routes under /api/v1, health and
 * `/.well-known` at the root. Each feature adds one line here (then `npm run routes` lists its
 * routes in the manifest). A feature's router is imported by the first request for one of its
 * routes (src/lib/lazy-routes.ts), through the chunk it ships in (src/chunks/): features used
 * together share one, because each chunk boundary costs bundle size (shared code splits into
 * more pieces, which compress apart), and a first request then loads its neighbours too.
 */
export const FEATURES = {
  health: { mount: "/", load: () => import("#src/chunks/health.ts").then((m) => m.healthRouter) },
  auth: { mount: "/api/v1", load: () => import("#src/chunks/signin.ts").then((m) => m.authRouter) },
  me: { mount: "/api/v1", load: () => import("#src/chunks/account.ts").then((m) => m.meRouter) },
  jwks: { mount: "/", load: () => import("#src/chunks/signin.ts").then((m) => m.jwksRouter) },
  mfa: { mount: "/api/v1", load: () => import("#src/chunks/signin.ts").then((m) => m.mfaRouter) },
  organization: { mount: "/api/v1", load: () => import("#src/chunks/organization.ts").then((m) => m.organizationRouter) },
  members: { mount: "/api/v1", load: () => import("#src/chunks/organization.ts").then((m) => m.membersRouter) },
  invitations: { mount: "/api/v1", load: () => import("#src/chunks/organization.ts").then((m) => m.invitationsRouter) },
  apiKeys: { mount: "/api/v1", load: () => import("#src/chunks/organization.ts").then((m) => m.apiKeysRouter) },
  preferences: { mount: "/api/v1", load: () => import("#src/chunks/account.ts").then((m) => m.preferencesRouter) },
  patients: { mount: "/api/v1", load: () => import("#src/chunks/patients.ts").then((m) => m.patientsRouter) },
  clinicians: { mount: "/api/v1", load: () => import("#src/chunks/clinicians.ts").then((m) => m.cliniciansRouter) },
  appointments: { mount: "/api/v1", load: () => import("#src/chunks/appointments.ts").then((m) => m.appointmentsRouter) },
  notes: { mount: "/api/v1", load: () => import("#src/chunks/notes.ts").then((m) => m.notesRouter) },
  dashboard: { mount: "/api/v1", load: () => import("#src/chunks/insight.ts").then((m) => m.dashboardRouter) },
  audit: { mount: "/api/v1", load: () => import("#src/chunks/insight.ts").then((m) => m.auditRouter) },
  schedules: { mount: "/api/v1", load: () => import("#src/chunks/care.ts").then((m) => m.schedulesRouter) },
  reminders: { mount: "/api/v1", load: () => import("#src/chunks/care.ts").then((m) => m.remindersRouter) },
  activity: { mount: "/api/v1", load: () => import("#src/chunks/alerts.ts").then((m) => m.activityRouter) },
  alerts: { mount: "/api/v1", load: () => import("#src/chunks/alerts.ts").then((m) => m.alertsRouter) },
  notifications: { mount: "/api/v1", load: () => import("#src/chunks/account.ts").then((m) => m.notificationsRouter) },
  devices: { mount: "/api/v1", load: () => import("#src/chunks/account.ts").then((m) => m.devicesRouter) },
  realtime: { mount: "/api/v1", load: () => import("#src/chunks/account.ts").then((m) => m.realtimeRouter) },
} as const satisfies Record<string, Feature>;

export type FeatureName = keyof typeof FEATURES;

/**
 * Registers every feature's routes, in the manifest's order (the order their routers declare
 * them); `onError` is the app's, which a route's chain answers its errors with.
 */
export function registerFeatures(app: Hono<AppEnv>, onError: ErrorHandler<AppEnv>): void {
  for (const [name, method, path] of ROUTE_MANIFEST) app.on(method, path, lazyRoute(FEATURES[name], name, method, path, onError));
}

type Routers = { [K in FeatureName]: Awaited<ReturnType<(typeof FEATURES)[K]["load"]>> };
type SchemaOf<R> = R extends Hono<infer _E, infer S, infer _B> ? S : never;

/** Every feature route with its input and output types, for Hono's `hc` client: `hc<AppType>(baseUrl)`. */
export type AppType = Hono<AppEnv, { [K in FeatureName]: MergeSchemaPath<SchemaOf<Routers[K]>, (typeof FEATURES)[K]["mount"]> }[FeatureName]>;
