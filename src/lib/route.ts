import { createRoute, type RouteConfig, type RouteConfigToEnv, type RouteHandler } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { patientVisible } from "#src/lib/access.ts";
import { actorOf, auditInsert, auditOnceFromCte, auditOrigin } from "#src/lib/audit.ts";
import { NotFound, ProblemError, ValidationFailed } from "#src/lib/errors.ts";
import { type ApiTag, MEMBER_ONLY, MEMBER_OR_API_KEY, PUBLIC } from "#src/lib/openapi.ts";
import type { Permission } from "#src/lib/permissions.ts";
import { CORS_HEADERS, problemResponsesFor, RATE_LIMIT_HEADERS } from "#src/lib/problem.ts";
import { declareAdmission } from "#src/lib/route-admission.ts";
import type { AppEnv } from "#src/lib/types.ts";
import { type CallerEnv, type MemberEnv, requireMember, requirePermission } from "#src/middleware/auth.ts";
import { IdempotencyKeyHeader, idempotent } from "#src/middleware/idempotency.ts";

/**
 * The rate-limit policy a route pays on top of its caller's: `auth` adds the strict per-IP policy
 * (login, signup, resets, MFA, invitations), `default` none, and `none` marks a route served outside
 * /api/v1, where neither authentication nor the rate limiter runs (health, JWKS).
 */
export type RateLimitPolicyName = "auth" | "default" | "none";

/** What is particular to a route; the rest of its `createRoute` config is derived from it. */
export interface RouteSpec extends Omit<RouteConfig, "middleware" | "security" | "tags" | "operationId" | "summary" | "description"> {
  operationId: string;
  summary: string;
  description: string;
  tags: [ApiTag];
  /** The permission the caller's role or key scopes must grant; without it the route is public. */
  permission?: Permission;
  /** Only a signed-in member may call it, never an API key (routes about the caller themself). */
  membersOnly?: true;
  /** A create: takes `Idempotency-Key` and replays the first answer to a retry. */
  create?: true;
  rateLimit?: RateLimitPolicyName;
  /**
   * A GET that writes (an audit row, a counter): admission runs before its handler. Without it a
   * GET is side-effect free and admission runs beside the handler (`admitsInParallel`).
   */
  sideEffects?: true;
  /** The statuses the route's own service can answer (404, 409, 410), beside the derived ones. */
  problems?: readonly number[];
  /**
   * The route reads or writes patient data: a caller its guard refuses (403) is audited as
   * `access.denied`, naming the operation. (Its handler audits what it reads and writes.) A GET
   * that is `phi` writes its audit row, so it has side effects: admission runs before it.
   */
  phi?: true;
}

type GuardEnv<S> = S extends { membersOnly: true } ? MemberEnv : S extends { permission: Permission } ? CallerEnv : AppEnv;
type WithIdempotency<S extends RouteSpec> = S extends { create: true }
  ? { request: NonNullable<S["request"]> & { headers: typeof IdempotencyKeyHeader } }
  : unknown;

/**
 * The route config `defineRoute` hands to `openapi()`: one middleware whose type narrows
 * `c.var.auth` for the handler. Its `responses` type lists the declared ones only, so a handler
 * cannot answer a problem itself: it throws, and `onError` writes it.
 */
export type DefinedRoute<S extends RouteSpec> = Omit<S, "permission" | "membersOnly" | "create" | "rateLimit" | "problems" | "sideEffects" | "phi"> & {
  middleware: [MiddlewareHandler<AppEnv & GuardEnv<S>>];
  security: Record<string, string[]>[];
} & WithIdempotency<S>;

/** What a handler's dependency builder reads from the request; every route's narrowed context fits it. */
export type RequestContext = Pick<Context<AppEnv>, "req" | "get" | "executionCtx">;

/** A handler for a declared route: `c.var.auth` is the caller (or the signed-in member) the guard let through. */
export type AppHandler<R extends RouteConfig> = RouteHandler<R, AppEnv & RouteConfigToEnv<R>>;

const API_PREFIX = "/api/v1";

export { admitsInParallel, rateLimitPolicyOf } from "#src/lib/route-admission.ts";

/** Every problem status the route can answer, from what it declares and what runs before it. */
export function problemStatusesOf(spec: RouteSpec): number[] {
  const behindApi = spec.rateLimit !== "none";
  const statuses = new Set<number>([500, ...(spec.problems ?? [])]);
  if (behindApi) [400, 401, 429, 503].forEach((status) => statuses.add(status));
  if (spec.permission || spec.membersOnly) statuses.add(403);
  // Every request's body is measured, a GET's too (a client may send one): 413 anywhere.
  statuses.add(413);
  if (behindApi && spec.method !== "get") statuses.add(415);
  const { request } = spec;
  if (spec.create || request?.body || request?.query || request?.params || request?.headers || takesNoBody(spec)) statuses.add(422);
  if (spec.create) statuses.add(409);
  // A replayed patient-data create is refused once the patient is out of reach (auditReplay).
  if (spec.create && spec.phi) statuses.add(404);
  return [...statuses].sort((a, b) => a - b);
}

/** A write that declares no body: a body with fields is refused (unknown fields are never ignored). */
const takesNoBody = (spec: RouteSpec): boolean => spec.method !== "get" && spec.rateLimit !== "none" && !spec.request?.body;

/** Nothing, or an empty JSON object, is the only body such a route takes. */
async function refuseBody(c: Context<AppEnv>): Promise<void> {
  const text = (await c.req.raw.clone().text()).trim();
  if (text === "" || /^\{\s*\}$/.test(text)) return;
  throw ValidationFailed([{ path: "body", message: "this operation takes no body: send none, or {}" }]);
}

function guardOf(spec: RouteSpec): MiddlewareHandler<AppEnv> | undefined {
  if (spec.membersOnly) return requireMember(spec.permission);
  if (spec.permission) return requirePermission(spec.permission);
  return undefined;
}

/**
 * The guard, then Idempotency-Key handling for a create, as one middleware. What the inner one
 * answers (a replayed response) is passed on as this middleware's answer.
 */
function middlewareOf(spec: RouteSpec): MiddlewareHandler<AppEnv> {
  const guard = guardOf(spec);
  const idempotency = spec.create ? idempotent(spec.phi ? { onReplay: (c, replayed) => auditReplay(c, spec.operationId, replayed) } : {}) : undefined;
  const noBody = takesNoBody(spec);
  return async (c, next) => {
    let answer: Response | void = undefined;
    let passed = false;
    const afterGuard = async () => {
      passed = true;
      if (noBody) await refuseBody(c);
      answer = idempotency ? await idempotency(c, next) : await next();
    };
    try {
      if (guard) await guard(c, afterGuard);
      else await afterGuard();
    } catch (error) {
      if (spec.phi && !passed && error instanceof ProblemError && error.status === 403) await auditDenied(c, spec.operationId);
      throw error;
    }
    return answer;
  };
}

const ReplayedBody = z.object({ id: z.string().optional(), patientId: z.string().optional() }).loose();

/**
 * An Idempotency-Key replay of a patient-data create re-serves patient data, so it is audited
 * like a read (one statement), and refused (404) once the caller can no longer reach the patient
 * it names: a replay is no way around a lost care-team place.
 */
async function auditReplay(c: Context<AppEnv>, operationId: string, replayed: Response): Promise<Response> {
  const auth = c.get("auth");
  if (!auth) return replayed;
  const parsed = ReplayedBody.safeParse(await replayed.clone().json().catch(() => null));
  const body = parsed.success ? parsed.data : {};
  const patientId = body.patientId ?? (operationId === "createPatient" ? body.id : undefined);
  const named = patientId !== undefined && /^[0-9a-f-]{36}$/i.test(patientId) ? patientId : null;
  const org = auth.organizationId;
  const result = await scoped(c.get("db"), org).db.execute(sql`
    with reach as (
      select p.id from patients p where p.organization_id = ${org} and p.id = ${named}::uuid and ${patientVisible(auth, sql`p.id`)}
    ), audit as (
      ${auditOnceFromCte("reach", auditOrigin(c), {
        action: "access.replayed",
        organizationId: org,
        ...actorOf(auth),
        targetType: "operation",
        targetId: operationId,
        patientIds: named ? [named] : [],
        metadata: sql`jsonb_build_object('outcome', case when ${named}::uuid is null or count(id) > 0 then 'ok' else 'denied' end, 'status', ${replayed.status}::int)`,
      })}
    )
    select ${named}::uuid is null or exists (select 1 from reach) as reachable`);
  if (firstRow(Reachable, result)?.reachable === false) throw NotFound("No such patient.");
  return replayed;
}

const Reachable = z.object({ reachable: z.boolean() });

/** A refused attempt at patient data: one audit row, then the 403 goes on. */
async function auditDenied(c: Context<AppEnv>, operationId: string): Promise<void> {
  const auth = c.get("auth");
  if (!auth) return;
  await auditInsert(c.get("db"), auditOrigin(c), {
    action: "access.denied",
    organizationId: auth.organizationId,
    actorUserId: auth.userId,
    actorApiKeyId: auth.apiKeyId,
    targetType: "operation",
    targetId: operationId,
    metadata: { method: c.req.method, path: c.req.routePath },
  });
}

/**
 * One declaration drives a route's guard, its OpenAPI security entry, Idempotency-Key support,
 * its rate-limit policy and every problem status it documents. Declared `responses` win over the
 * derived problem responses (for a problem with extension members, like the 409 that lists
 * organizations to choose from).
 */
export function defineRoute<const P extends string, S extends RouteSpec & { path: P }>(spec: S & { path: P }): DefinedRoute<S> {
  const { permission, membersOnly, create, rateLimit = "default", problems, sideEffects, phi, request, responses, ...rest } = spec;
  void permission;
  void membersOnly;
  void problems;
  const parallel = spec.method.toLowerCase() === "get" && rateLimit === "default" && !sideEffects && !phi;
  declareAdmission(spec.method, `${API_PREFIX}${spec.path}`, rateLimit === "auth" ? "auth" : parallel ? "parallel" : "serial");
  const security = membersOnly ? MEMBER_ONLY : permission ? MEMBER_OR_API_KEY : PUBLIC;
  const config = {
    ...rest,
    ...(phi ? { "x-tend-phi": true } : {}),
    middleware: [middlewareOf(spec)],
    security,
    ...(request || create ? { request: { ...request, ...(create ? { headers: IdempotencyKeyHeader } : {}) } } : {}),
    responses: { ...problemResponsesFor(problemStatusesOf(spec), { rateLimited: rateLimit !== "none" }), ...withResponseHeaders(responses, rateLimit !== "none") },
  };
  return createRoute(config as RouteConfig) as unknown as DefinedRoute<S>;
}

/** Success responses carry the CORS header and, behind the rate limiter, the RateLimit ones, beside their own. */
function withResponseHeaders(responses: RouteConfig["responses"], rateLimited: boolean): RouteConfig["responses"] {
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => {
      if (Number(status) >= 300 || !response || typeof response !== "object" || "$ref" in response) return [status, response];
      const headers = (response as { headers?: Record<string, unknown> }).headers ?? {};
      return [status, { ...response, headers: { ...CORS_HEADERS, ...(rateLimited ? RATE_LIMIT_HEADERS : {}), ...headers } }];
    }),
  );
}
