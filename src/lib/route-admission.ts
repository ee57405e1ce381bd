import type { RouteAdmission } from "#src/lib/lazy-routes.ts";
import { ROUTE_MANIFEST } from "#src/routes.manifest.ts";

/**
 * What admission knows of a request's route before the route's feature is loaded: its rate-limit
 * policy and whether it may run beside the admission call. Read from the route manifest, and from
 * routes declared with `defineRoute` since (a router built outside the app, as tests do).
 */
interface Known {
  method: string;
  pattern: RegExp;
}

/** The manifest's routes by admission, compiled on first use; `defineRoute` adds to them. */
let byAdmission: Record<RouteAdmission, Known[]> | undefined;

function known(): Record<RouteAdmission, Known[]> {
  if (!byAdmission) {
    byAdmission = { auth: [], parallel: [], serial: [] };
    for (const [, method, path, admission] of ROUTE_MANIFEST) byAdmission[admission].push({ method, pattern: pathPattern(path) });
  }
  return byAdmission;
}

/** `/api/v1/patients/:id` or `/api/v1/patients/{id}`, with or without a trailing slash. */
function pathPattern(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{\w+\}|:\w+/g, "[^/]+");
  return new RegExp(`^${source}/?$`);
}

const matches = (routes: readonly Known[], method: string, path: string): boolean => routes.some((route) => route.method === method && route.pattern.test(path));

/** Every route `defineRoute` declared in this isolate, as declared (what `npm run routes` writes). */
const declared: (Known & { admission: RouteAdmission })[] = [];

/**
 * Records a route `defineRoute` declared: its method, its path in the app and its admission. A
 * feature's routes are in the manifest already; a router built outside the app (tests) is not.
 */
export function declareAdmission(method: string, path: string, admission: RouteAdmission): void {
  const route = { method: method.toUpperCase(), pattern: pathPattern(path) };
  declared.push({ ...route, admission });
  const routes = known();
  if (!matches(routes[admission], route.method, path)) routes[admission].push(route);
}

/** How the route with this method and path was declared, when one was (the manifest aside). */
export function declaredAdmission(method: string, path: string): RouteAdmission | undefined {
  return declared.find((route) => route.method === method && route.pattern.test(path))?.admission;
}

/** The declared rate-limit policy of the API route a request is for (`default` when none matches). */
export function rateLimitPolicyOf(method: string, path: string): "auth" | "default" {
  return matches(known().auth, method.toUpperCase(), path) ? "auth" : "default";
}

/**
 * Whether the request is a side-effect-free read, whose handler may run beside admission (its
 * answer thrown away on a refusal): a declared GET (or its HEAD), on the default policy, not
 * declared `sideEffects`. Writes, auth routes and undeclared paths wait for admission.
 */
export function admitsInParallel(method: string, path: string): boolean {
  const verb = method.toUpperCase();
  return (verb === "GET" || verb === "HEAD") && matches(known().parallel, "GET", path);
}
