import { z } from "@hono/zod-openapi";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { API_KEY_SCOPES } from "#src/lib/permissions.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";

const ScopeSchema = z.enum(API_KEY_SCOPES as [string, ...string[]]).openapi("ApiKeyScope");

export const ApiKeySchema = z
  .object({
    id: uuid(),
    name: text(100),
    prefix: text(12).openapi({ description: "The key's first 12 characters, to recognise it by", example: "tend_Ab3dE6g" }),
    scopes: z.array(ScopeSchema).max(API_KEY_SCOPES.length),
    createdAt: timestamp(),
    lastUsedAt: timestamp().nullable(),
    expiresAt: timestamp().nullable(),
    revokedAt: timestamp().nullable(),
  })
  .openapi("ApiKey");

export const IssuedApiKeySchema = ApiKeySchema.extend({
  key: text(48).openapi({ description: "The secret (tend_ and 43 base64url characters): shown this once, never again" }),
}).openapi("IssuedApiKey");

export const ApiKeyCreateSchema = z
  .object({ name: text().trim().min(1).max(100), scopes: z.array(ScopeSchema).min(1).max(API_KEY_SCOPES.length) })
  .strict()
  .openapi("ApiKeyCreate");

const IdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
const issued = jsonResponse("The key, shown once", IssuedApiKeySchema);
const tags: ["API keys"] = ["API keys"];

export const list = defineRoute({
  method: "get",
  path: "/api-keys",
  operationId: "listApiKeys",
  tags,
  summary: "The organization's API keys, without secrets",
  description: "Every key of the organization, newest first, revoked ones included; secrets are never shown again.",
  permission: "api-keys:read",
  responses: { 200: jsonResponse("Keys", z.object({ data: z.array(ApiKeySchema).max(1000) }).openapi("ApiKeyList")) },
});

export const create = defineRoute({
  method: "post",
  path: "/api-keys",
  operationId: "createApiKey",
  tags,
  summary: "Issue a key with scopes the caller holds",
  description: "Keys are managed by signed-in members only: a key cannot mint keys. The secret is in this answer only.",
  permission: "api-keys:write",
  membersOnly: true,
  create: true,
  request: { body: jsonBody(ApiKeyCreateSchema) },
  responses: { 201: issued },
});

export const rotate = defineRoute({
  method: "post",
  path: "/api-keys/{id}/rotate",
  operationId: "rotateApiKey",
  tags,
  summary: "Replace a key; the old one works until the grace period ends",
  description: "Issues a new secret with the same name and scopes; the old key expires after API_KEY_GRACE_HOURS.",
  permission: "api-keys:write",
  membersOnly: true,
  create: true,
  problems: [404],
  request: { params: IdParam },
  responses: { 201: issued },
});

export const revoke = defineRoute({
  method: "delete",
  path: "/api-keys/{id}",
  operationId: "revokeApiKey",
  tags,
  summary: "Revoke a key at once",
  description: "The key stops working on its next request.",
  permission: "api-keys:write",
  membersOnly: true,
  problems: [404],
  request: { params: IdParam },
  responses: { 204: { description: "Revoked" } },
});
