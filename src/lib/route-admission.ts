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
  admission: RouteAdmission;
}

let known: Known[] | undefined;
const declared: Known[] = [];

/** `/api/v1/patients/:id` or `/api/v1/patients/{id}`, with or without a trailing slash. */
function pathPattern(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{\w+\}|:\w+/g, "[^/]+");
  return new RegExp(`^${source}/?$`);
}

function routes(): Known[] {
  known ??= ROUTE_MANIFEST.map(([, method, path, admission]) => ({ method, pattern: pathPattern(path), admission }));
  return declared.length === 0 ? known : [...known, ...declared];
}

/** Records a route `defineRoute` declared: its method, its path in the app and its admission. */
export function declareAdmission(method: string, path: string, admission: RouteAdmission): void {
  declared.push({ method: method.toUpperCase(), pattern: pathPattern(path), admission });
}

/** How a route `defineRoute` declared is admitted, if one was declared with this method and path. */
export function declaredAdmission(method: string, path: string): RouteAdmission | undefined {
  return declared.find((route) => route.method === method && route.pattern.test(path))?.admission;
}

/** The declared rate-limit policy of the API route a request is for (`default` when none matches). */
export function rateLimitPolicyOf(method: string, path: string): "auth" | "default" {
  const verb = method.toUpperCase();
  return routes().some((route) => route.admission === "auth" && route.method === verb && route.pattern.test(path)) ? "auth" : "default";
}

/**
 * Whether the request is a side-effect-free read, whose handler may run beside admission (its
 * answer thrown away on a refusal): a declared GET (or its HEAD), on the default policy, not
 * declared `sideEffects`. Writes, auth routes and undeclared paths wait for admission.
 */
export function admitsInParallel(method: string, path: string): boolean {
  const verb = method.toUpperCase();
  return (verb === "GET" || verb === "HEAD") && routes().some((route) => route.admission === "parallel" && route.method === "GET" && route.pattern.test(path));
}
