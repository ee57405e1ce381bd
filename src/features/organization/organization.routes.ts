import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { MEMBER_OR_API_KEY, PROTECTED_PROBLEMS, jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { TimeZoneSchema } from "#src/lib/timezone.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";

export const OrganizationSchema = z
  .object({
    id: z.uuid(),
    name: text(),
    slug: text(),
    timezone: text(),
    locale: text(),
    createdAt: text(),
    updatedAt: text(),
  })
  .openapi("Organization");

export const OrganizationPatchSchema = z
  .object({
    name: text().trim().min(1).max(200).optional(),
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

export const getOne = createRoute({
  method: "get",
  path: "/organization",
  tags: ["Organization"],
  summary: "The caller's organization",
  middleware: [requirePermission("organization:read")] as const,
  security: MEMBER_OR_API_KEY,
  responses: { 200: jsonResponse("The organization", OrganizationSchema), ...problemResponses(...PROTECTED_PROBLEMS, 404) },
});

export const patch = createRoute({
  method: "patch",
  path: "/organization",
  tags: ["Organization"],
  summary: "Rename the organization or change its timezone or locale",
  middleware: [requirePermission("organization:write")] as const,
  security: MEMBER_OR_API_KEY,
  request: { body: jsonBody(OrganizationPatchSchema) },
  responses: { 200: jsonResponse("The updated organization", OrganizationSchema), ...problemResponses(...PROTECTED_PROBLEMS, 400, 404, 413, 415, 422) },
});
