import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonResponse, MEMBER_ONLY, MEMBER_OR_API_KEY, PROTECTED_PROBLEMS } from "#src/lib/openapi.ts";
import { API_KEY_SCOPES } from "#src/lib/permissions.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";
import { IdempotencyKeyHeader, idempotent } from "#src/middleware/idempotency.ts";

const ScopeSchema = z.enum(API_KEY_SCOPES as [string, ...string[]]).openapi("ApiKeyScope");

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: text(),
    prefix: text(),
    scopes: z.array(text()),
    createdAt: text(),
    lastUsedAt: text().nullable(),
    expiresAt: text().nullable(),
    revokedAt: text().nullable(),
  })
  .openapi("ApiKey");

export const IssuedApiKeySchema = ApiKeySchema.extend({
  key: text().openapi({ description: "The secret: shown this once, never again" }),
}).openapi("IssuedApiKey");

export const ApiKeyCreateSchema = z
  .object({ name: text().trim().min(1).max(100), scopes: z.array(ScopeSchema).min(1).max(20) })
  .strict()
  .openapi("ApiKeyCreate");

const IdParam = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });
const issued = jsonResponse("The key, shown once", IssuedApiKeySchema);

export const list = createRoute({
  method: "get",
  path: "/api-keys",
  tags: ["API keys"],
  summary: "The organization's API keys, without secrets",
  middleware: [requirePermission("api-keys:read")] as const,
  security: MEMBER_OR_API_KEY,
  responses: {
    200: jsonResponse("Keys", z.object({ data: z.array(ApiKeySchema) })),
    ...problemResponses(...PROTECTED_PROBLEMS),
  },
});

export const create = createRoute({
  method: "post",
  path: "/api-keys",
  tags: ["API keys"],
  summary: "Issue a key with scopes the caller holds",
  middleware: [requirePermission("api-keys:write"), idempotent()] as const,
  security: MEMBER_ONLY,
  request: {
    headers: IdempotencyKeyHeader,
    body: jsonBody(ApiKeyCreateSchema),
  },
  responses: { 201: issued, ...problemResponses(...PROTECTED_PROBLEMS, 400, 409, 413, 415, 422) },
});

export const rotate = createRoute({
  method: "post",
  path: "/api-keys/{id}/rotate",
  tags: ["API keys"],
  summary: "Replace a key; the old one works until the grace period ends",
  middleware: [requirePermission("api-keys:write"), idempotent()] as const,
  security: MEMBER_ONLY,
  request: { params: IdParam, headers: IdempotencyKeyHeader },
  responses: { 201: issued, ...problemResponses(...PROTECTED_PROBLEMS, 404, 409, 422) },
});

export const revoke = createRoute({
  method: "delete",
  path: "/api-keys/{id}",
  tags: ["API keys"],
  summary: "Revoke a key at once",
  middleware: [requirePermission("api-keys:write")] as const,
  security: MEMBER_ONLY,
  request: { params: IdParam },
  responses: { 204: { description: "Revoked" }, ...problemResponses(...PROTECTED_PROBLEMS, 404, 422) },
});
