import { createRoute, z } from "@hono/zod-openapi";
import { PROTECTED_PROBLEMS, SECURED } from "#src/features/organization/security.ts";
import { TimeZoneSchema } from "#src/features/organization/timezone.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";

export const OrganizationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    timezone: z.string(),
    locale: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Organization");

export const OrganizationPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    timezone: TimeZoneSchema.optional(),
    locale: z
      .string()
      .max(35)
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "is not a BCP 47 language tag")
      .optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, "send at least one field")
  .openapi("OrganizationPatch");

const ok = (description: string) => ({ description, content: { "application/json": { schema: OrganizationSchema } } });

export const getOne = createRoute({
  method: "get",
  path: "/organization",
  tags: ["Organization"],
  summary: "The caller's organization",
  middleware: [requirePermission("organization:read")] as const,
  security: SECURED,
  responses: { 200: ok("The organization"), ...problemResponses(...PROTECTED_PROBLEMS, 404) },
});

export const patch = createRoute({
  method: "patch",
  path: "/organization",
  tags: ["Organization"],
  summary: "Rename the organization or change its timezone or locale",
  middleware: [requirePermission("organization:write")] as const,
  security: SECURED,
  request: { body: { required: true, content: { "application/json": { schema: OrganizationPatchSchema } } } },
  responses: { 200: ok("The updated organization"), ...problemResponses(...PROTECTED_PROBLEMS, 400, 404, 413, 415, 422) },
});
