import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { RoleSchema } from "#src/features/members/members.routes.ts";
import { MEMBER_OR_API_KEY, PROTECTED_PROBLEMS, jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";
import { IdempotencyKeyHeader, idempotent } from "#src/middleware/idempotency.ts";

export const InvitationCreateSchema = z
  .object({ email: z.email().max(254), role: RoleSchema })
  .strict()
  .openapi("InvitationCreate");

export const InvitationSchema = z
  .object({ id: z.uuid(), email: text(), role: RoleSchema, expiresAt: text() })
  .openapi("Invitation");

export const InvitationAcceptSchema = z
  .object({
    token: text().min(1).max(200),
    name: text().trim().min(1).max(200).optional(),
    password: text().min(1).max(1024).optional(),
  })
  .strict()
  .openapi("InvitationAccept");

export const AcceptedSchema = z
  .object({ organizationId: z.uuid(), userId: z.uuid(), role: RoleSchema })
  .openapi("InvitationAccepted");

export const create = createRoute({
  method: "post",
  path: "/invitations",
  tags: ["Members"],
  summary: "Invite someone by email to join with a role",
  middleware: [requirePermission("invitations:write"), idempotent()] as const,
  security: MEMBER_OR_API_KEY,
  request: {
    headers: IdempotencyKeyHeader,
    body: jsonBody(InvitationCreateSchema),
  },
  responses: {
    201: jsonResponse("Invitation sent", InvitationSchema),
    ...problemResponses(...PROTECTED_PROBLEMS, 400, 409, 413, 415, 422),
  },
});

export const accept = createRoute({
  method: "post",
  path: "/invitations/accept",
  tags: ["Members"],
  summary: "Accept an invitation: creates the account, or links an existing one with its password",
  middleware: [idempotent()] as const,
  request: {
    headers: IdempotencyKeyHeader,
    body: jsonBody(InvitationAcceptSchema),
  },
  responses: {
    201: jsonResponse("Now a member", AcceptedSchema),
    ...problemResponses(400, 401, 404, 409, 410, 413, 415, 422, 429, 500, 503),
  },
});
