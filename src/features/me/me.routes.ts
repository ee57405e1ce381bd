import { z } from "@hono/zod-openapi";
import { OrganizationSummarySchema, RoleSchema, UserSchema } from "#src/features/auth/auth.routes.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, uuid } from "#src/lib/text.ts";

export const MeSchema = z
  .object({
    user: UserSchema,
    organization: OrganizationSummarySchema,
    role: RoleSchema,
    organizations: z.array(z.object({ id: uuid(), name: text(200), role: RoleSchema })).max(1000),
  })
  .openapi("Me");

export const getMe = defineRoute({
  method: "get",
  path: "/me",
  operationId: "getMe",
  tags: ["Me"],
  summary: "The signed-in member, the current organization and role, and every organization they belong to",
  description: "404 when the member has been removed from the token's organization since it was issued.",
  permission: "profile:self",
  membersOnly: true,
  problems: [404],
  responses: { 200: jsonResponse("The caller", MeSchema) },
});
