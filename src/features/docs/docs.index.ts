import type { Hono } from "hono";
import type { AppEnv } from "#src/lib/types.ts";

export const OPENAPI_PATH = "/api/v1/openapi.json";
export const API_VERSION = "1.0.0";

/**
 * Publishes the OpenAPI 3.1 document built from every registered route, and Swagger UI at
 * /docs with its assets served by this deployment (Workers static assets), never a CDN. Both
 * load what they need (every feature, Swagger UI's page) when first asked for.
 */
export function registerDocs(app: Hono<AppEnv>): void {
  app.get(OPENAPI_PATH, async (c) => {
    const { openApiDocument } = await import("#src/features/docs/docs.document.ts");
    return c.json(await openApiDocument(new URL(c.req.url)));
  });

  app.get("/docs", async (c) => {
    const { docsPage } = await import("#src/features/docs/docs.page.ts");
    const page = await docsPage(OPENAPI_PATH);
    return c.html(page.html, 200, { "Content-Security-Policy": page.csp, "Cache-Control": "no-cache" });
  });
}
