import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { ROLES } from "#src/db/schema/identity.ts";
import { MEMBER_OR_API_KEY, PROTECTED_PROBLEMS, jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";

export const RoleSchema = z.enum(ROLES).openapi("Role");

export const MemberSchema = z
  .object({ userId: z.uuid(), email: text(), name: text(), role: RoleSchema, joinedAt: text() })
  .openapi("Member");

const MemberListSchema = z
  .object({ data: z.array(MemberSchema), nextCursor: z.uuid().nullable() })
  .openapi("MemberList");

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.uuid().optional(),
});

const UserParam = z.object({ userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }) });

export const RoleChangeSchema = z.object({ role: RoleSchema }).strict().openapi("MemberRoleChange");

export const list = createRoute({
  method: "get",
  path: "/members",
  tags: ["Members"],
  summary: "Members of the organization, oldest first",
  middleware: [requirePermission("members:read")] as const,
  security: MEMBER_OR_API_KEY,
  request: { query: ListQuery },
  responses: {
    200: jsonResponse("A page of members", MemberListSchema),
    ...problemResponses(...PROTECTED_PROBLEMS, 422),
  },
});

export const changeRole = createRoute({
  method: "patch",
  path: "/members/{userId}",
  tags: ["Members"],
  summary: "Change a member's role; the last owner cannot be demoted",
  middleware: [requirePermission("members:write")] as const,
  security: MEMBER_OR_API_KEY,
  request: { params: UserParam, body: jsonBody(RoleChangeSchema) },
  responses: {
    200: jsonResponse("The member with the new role", MemberSchema),
    ...problemResponses(...PROTECTED_PROBLEMS, 400, 404, 409, 413, 415, 422),
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/members/{userId}",
  tags: ["Members"],
  summary: "Remove a member; their sessions in this organization end at once",
  middleware: [requirePermission("members:write")] as const,
  security: MEMBER_OR_API_KEY,
  request: { params: UserParam },
  responses: {
    204: { description: "Removed" },
    ...problemResponses(...PROTECTED_PROBLEMS, 404, 409, 422),
  },
});
