import type { OpenAPIHono } from "@hono/zod-openapi";
import { API_VERSION } from "#src/features/docs/docs.index.ts";
import { createRouter } from "#src/lib/create-router.ts";
import { loadAll } from "#src/lib/lazy-routes.ts";
import { TAGS } from "#src/lib/openapi.ts";
import { RESPONSE_HEADERS } from "#src/lib/problem.ts";
import type { AppEnv } from "#src/lib/types.ts";
import { FEATURES, type FeatureName } from "#src/routes.ts";

/** The OpenAPI 3.1 document of every feature's routes, for the deployment at `url`. */
export async function openApiDocument(url: URL): Promise<ReturnType<OpenAPIHono["getOpenAPI31Document"]>> {
  return (await documented()).getOpenAPI31Document(documentConfig(url));
}

let described: OpenAPIHono<AppEnv> | undefined;

/**
 * An app that holds every route's OpenAPI definition: each feature's router, loaded for it (the
 * serving app loads a feature on its first request; src/lib/lazy-routes.ts). Built once per
 * isolate; only the built app is kept, never a promise another request would await (see there).
 */
async function documented(): Promise<OpenAPIHono<AppEnv>> {
  if (described) return described;
  const routers = await loadAll(FEATURES);
  if (described) return described;
  const app = createRouter();
  for (const name of Object.keys(FEATURES) as FeatureName[]) app.route(FEATURES[name].mount, routers[name] as unknown as OpenAPIHono<AppEnv>);
  registerComponents(app);
  described = app;
  return app;
}

function registerComponents(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A 15-minute access token from POST /api/v1/auth/login: an ES256-signed JWT, issued and verified as RFC8725 (JWT best current practices) asks: one pinned algorithm, never `none`, issuer, audience and expiry checked, keys published at /.well-known/jwks.json.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "A scoped integration key (tend_…) from POST /api/v1/api-keys.",
  });

  for (const [name, header] of Object.entries(RESPONSE_HEADERS)) app.openAPIRegistry.registerComponent("headers", name, header);
}

function documentConfig(url: URL): Parameters<OpenAPIHono["getOpenAPI31Document"]>[0] {
  return {
    openapi: "3.1.0",
    info: {
      title: "Tend API",
      version: API_VERSION,
      description:
        "The API behind care practices. Errors are RFC 9457 problem+json; every response carries X-Request-ID and Server-Timing.",
      contact: { name: "Tend API support", email: "api@tend.care", url: "https://tend.care/support" },
    },
    // Only an https origin is written out; over plain http (local development) the server is relative.
    servers: [
      {
        url: url.protocol === "https:" ? url.origin : "/",
        description: "This deployment (production, staging or local: the server that served this document)",
        "x-internal": false,
      },
    ],
    tags: [...TAGS],
  };
}
