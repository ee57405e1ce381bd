import { z } from "@hono/zod-openapi";
import { ROLES } from "#src/db/schema/identity.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { email, text, timestamp, uuid } from "#src/lib/text.ts";

export const RoleSchema = z.enum(ROLES).openapi("Role");

export const MemberSchema = z
  .object({ userId: uuid(), email: email(), name: text(200), role: RoleSchema, joinedAt: timestamp() })
  .openapi("Member");

const MemberListSchema = z
  .object({ data: z.array(MemberSchema).max(100), nextCursor: uuid().nullable() })
  .openapi("MemberList");

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).openapi({ type: "integer", format: "int32", minimum: 1, maximum: 100 }),
  cursor: uuid().optional().openapi({ description: "nextCursor from the previous page" }),
});

const UserParam = z.object({ userId: uuid().openapi({ param: { name: "userId", in: "path" } }) });

export const RoleChangeSchema = z.object({ role: RoleSchema }).strict().openapi("MemberRoleChange");

const tags: ["Members"] = ["Members"];

export const list = defineRoute({
  method: "get",
  path: "/members",
  operationId: "listMembers",
  tags,
  summary: "Members of the organization, oldest first",
  description: "Pages by cursor: pass nextCursor back as cursor until it is null.",
  permission: "members:read",
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of members", MemberListSchema) },
});

export const changeRole = defineRoute({
  method: "patch",
  path: "/members/{userId}",
  operationId: "changeMemberRole",
  tags,
  summary: "Change a member's role; the last owner cannot be demoted",
  description: "Only an owner grants or changes the owner role. The member's sessions in this organization end.",
  permission: "members:write",
  problems: [404, 409],
  request: { params: UserParam, body: jsonBody(RoleChangeSchema) },
  responses: { 200: jsonResponse("The member with the new role", MemberSchema) },
});

export const remove = defineRoute({
  method: "delete",
  path: "/members/{userId}",
  operationId: "removeMember",
  tags,
  summary: "Remove a member; their sessions in this organization end at once",
  description: "The last owner cannot be removed; the member's API keys in this organization are revoked.",
  permission: "members:write",
  problems: [404, 409],
  request: { params: UserParam },
  responses: { 204: { description: "Removed" } },
});
