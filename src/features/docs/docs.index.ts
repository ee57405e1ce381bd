import type { OpenAPIHono } from "@hono/zod-openapi";
import { docsPage } from "#src/features/docs/docs.page.ts";
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
    description: "A 15-minute access token from POST /api/v1/auth/login.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "A scoped integration key (tend_…) from POST /api/v1/api-keys.",
  });

  app.doc31(OPENAPI_PATH, (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Tend API",
      version: API_VERSION,
      description:
        "The API behind care practices. Errors are RFC 9457 problem+json; every response carries X-Request-ID and Server-Timing.",
    },
    servers: [{ url: new URL(c.req.url).origin, description: "This deployment" }],
  }));

  app.get("/docs", async (c) => {
    const page = await docsPage(OPENAPI_PATH);
    return c.html(page.html, 200, { "Content-Security-Policy": page.csp, "Cache-Control": "no-cache" });
  });
}
