import type { Context, ErrorHandler, MiddlewareHandler, Next } from "hono";
import type { AppEnv } from "#src/lib/types.ts";

/**
 * Features load on first use. A Worker evaluates its whole bundle before it serves a request, and
 * a feature's routes are mostly zod schemas built at module load: with every feature in the
 * entry module, startup grew with each one. So the app registers every route's method and path
 * up front, from the generated manifest (src/routes.manifest.ts, `npm run routes`), and each
 * feature's router (in a chunk of the deployed bundle, src/chunks/) is imported by the first
 * request that reaches one of its routes. Routing, the middleware before it and `405` for a known
 * path are decided without loading anything.
 */

/** What a feature's router is to the app: its routes, each a method, a path and one handler of its chain. */
export interface FeatureRouter {
  routes: readonly { method: string; path: string; handler: MiddlewareHandler<AppEnv> | ((c: Context<AppEnv>, next: Next) => unknown) }[];
}

/** A feature: where its router is mounted, and how to load it. */
export interface Feature {
  mount: "/" | "/api/v1";
  load: () => Promise<FeatureRouter>;
}

/**
 * What admission needs to know of a route before its feature loads: `auth` routes pay the strict
 * per-IP policy, `parallel` ones are side-effect-free reads whose handler may run beside the
 * admission call, `serial` ones wait for it.
 */
export type RouteAdmission = "auth" | "parallel" | "serial";

/** One manifest row: the feature, the method, the path it answers on in the app, and its admission. */
export type ManifestRoute = readonly [feature: string, method: string, path: string, admission: RouteAdmission];

/** The path a feature's route answers on in the app. */
export function mountedPath(feature: Feature, path: string): string {
  return feature.mount === "/" ? path : `${feature.mount}${path}`;
}

/** The path of a mounted route inside its feature's router. */
function routerPath(feature: Feature, path: string): string {
  return feature.mount === "/" ? path : path.slice(feature.mount.length);
}

type Chains = Map<string, FeatureRouter["routes"][number]["handler"][]>;

/**
 * Each loaded feature's routes by `METHOD path`, the handlers of each in order. Only what is
 * built is kept, never a promise in flight: workerd runs what awaits a promise in the context of
 * the request that settles it, so a request that awaited another's import would read its own
 * body from a foreign request ("Cannot perform I/O on behalf of a different request"). Each
 * request awaits its own `import()` (the module itself evaluates once).
 */
const loaded = new Map<Feature, Chains>();

function chainsFrom(router: FeatureRouter): Chains {
  const byRoute: Chains = new Map();
  for (const route of router.routes) {
    const key = `${route.method} ${route.path}`;
    const chain = byRoute.get(key);
    if (chain) chain.push(route.handler);
    else byRoute.set(key, [route.handler]);
  }
  return byRoute;
}

async function chainsOf(feature: Feature): Promise<Chains> {
  const ready = loaded.get(feature);
  if (ready) return ready;
  const router = await feature.load();
  let chains = loaded.get(feature);
  if (!chains) {
    chains = chainsFrom(router);
    loaded.set(feature, chains);
  }
  return chains;
}

/** Loads every feature's router: for the OpenAPI document, which describes them all. */
export async function loadAll<F extends Record<string, Feature>>(features: F): Promise<{ [K in keyof F]: Awaited<ReturnType<F[K]["load"]>> }> {
  const entries = await Promise.all(Object.entries(features).map(async ([name, feature]) => [name, await feature.load()] as const));
  return Object.fromEntries(entries) as { [K in keyof F]: Awaited<ReturnType<F[K]["load"]>> };
}

/**
 * The route's handler in the app: loads its feature, then runs the feature's chain for it (the
 * route's guard, validators and handler) on the same context, as Hono runs a mounted router's:
 * an error a handler throws becomes the app's error answer right there (`onError`), so a
 * middleware of the chain (Idempotency-Key's, which keeps refusals too) sees an answer, never the
 * throw. Hono's own compose is not used for it: it renumbers `c.req.routeIndex`, by which the
 * matched path parameters are read.
 */
export function lazyRoute(feature: Feature, name: string, method: string, path: string, onError: ErrorHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  const key = `${method} ${routerPath(feature, path)}`;
  return async (c, next) => {
    const chain = (loaded.get(feature) ?? (await chainsOf(feature))).get(key);
    if (!chain) throw new Error(`the route manifest lists ${key} in ${name}, whose router has no such route: run \`npm run routes\``);
    let last = -1;
    const dispatch = async (index: number): Promise<void> => {
      if (index <= last) throw new Error("next() called multiple times");
      last = index;
      const handler = chain[index];
      if (!handler) return next();
      let answer: unknown;
      let failed = false;
      try {
        answer = await handler(c, () => dispatch(index + 1));
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        c.error = error;
        answer = await onError(error, c);
        failed = true;
      }
      if (answer instanceof Response && (!c.finalized || failed)) c.res = answer;
    };
    await dispatch(0);
  };
}
