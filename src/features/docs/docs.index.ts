import type { OpenAPIHono } from "@hono/zod-openapi";
import { docsPage } from "#src/features/docs/docs.page.ts";
import { TAGS } from "#src/lib/openapi.ts";
import { RESPONSE_HEADERS } from "#src/lib/problem.ts";
import type { AppEnv } from "#src/lib/types.ts";

export const OPENAPI_PATH = "/api/v1/openapi.json";
export const API_VERSION = "1.0.0";

/**
 * Publishes the OpenAPI 3.1 document built from every registered route, and Swagger UI at
 * /docs with its assets served by this deployment (Workers static assets), never a CDN.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
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

  app.doc31(OPENAPI_PATH, (c) => ({
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
        url: new URL(c.req.url).protocol === "https:" ? new URL(c.req.url).origin : "/",
        description: "This deployment (production, staging or local: the server that served this document)",
        "x-internal": false,
      },
    ],
    tags: [...TAGS],
  }));

  app.get("/docs", async (c) => {
    const page = await docsPage(OPENAPI_PATH);
    return c.html(page.html, 200, { "Content-Security-Policy": page.csp, "Cache-Control": "no-cache" });
  });
}
