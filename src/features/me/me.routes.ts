import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { OrganizationSummarySchema, RoleSchema, UserSchema } from "#src/features/auth/auth.routes.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";
import { MEMBER_ONLY, jsonResponse } from "#src/lib/openapi.ts";

export const MeSchema = z
  .object({
    user: UserSchema,
    organization: OrganizationSummarySchema,
    role: RoleSchema,
    organizations: z.array(z.object({ id: text().uuid(), name: text(), role: RoleSchema })),
  })
  .openapi("Me");

export const getMe = createRoute({
  method: "get",
  path: "/me",
  tags: ["Me"],
  summary: "The signed-in member, the current organization and role, and every organization they belong to",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  responses: {
    200: jsonResponse("The caller", MeSchema),
    ...problemResponses(401, 403, 404, 429, 500, 503),
  },
});
