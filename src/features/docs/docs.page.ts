import { SwaggerUI } from "@hono/swagger-ui";

/** Where Swagger UI's own files are served from: copied from swagger-ui-dist by scripts/docs-assets.ts. */
export const DOCS_ASSETS_BASE = "/docs/vendor";

export interface DocsPage {
  html: string;
  csp: string;
}

/** The built page; a promise is never shared between requests (src/lib/lazy-routes.ts says why). */
let cached: DocsPage | undefined;

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

async function build(specUrl: string): Promise<DocsPage> {
  const body = SwaggerUI({ url: specUrl, baseUrl: DOCS_ASSETS_BASE, validatorUrl: "none", persistAuthorization: true });
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tend API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head><body>${body}</body></html>`;
  const inlineScripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1] ?? "");
  const hashes = await Promise.all(inlineScripts.map(async (script) => `'sha256-${await sha256Base64(script)}'`));
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return { html, csp };
}

/** Swagger UI's page and the CSP that allows exactly its own assets and its one inline script. */
export async function docsPage(specUrl: string): Promise<DocsPage> {
  cached ??= await build(specUrl);
  return cached;
}
