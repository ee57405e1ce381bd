import { z } from "@hono/zod-openapi";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";
import { TimeZoneSchema } from "#src/lib/timezone.ts";

const minutes = (minimum: number, maximum: number) => z.number().int().min(minimum).max(maximum).openapi({ type: "integer", format: "int32", minimum, maximum });

export const OrganizationSchema = z
  .object({
    id: uuid(),
    name: text(200),
    slug: text(63),
    timezone: text(64).openapi({ example: "Europe/London" }),
    locale: text(35).openapi({ example: "en-GB" }),
    inactivityThresholdMinutes: minutes(5, 43_200).openapi({ description: "Minutes without a heartbeat before an inactivity alert; a patient's own value overrides it" }),
    escalationMinutes: minutes(1, 1440).openapi({ description: "Minutes a high or critical alert may stay unacknowledged before it escalates a step" }),
    createdAt: timestamp(),
    updatedAt: timestamp(),
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
    inactivityThresholdMinutes: minutes(5, 43_200).optional(),
    escalationMinutes: minutes(1, 1440).optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, "send at least one field")
  .openapi("OrganizationPatch");

const tags: ["Organization"] = ["Organization"];

export const getOne = defineRoute({
  method: "get",
  path: "/organization",
  operationId: "getOrganization",
  tags,
  summary: "The caller's organization",
  description: "The organization the access token or API key belongs to.",
  permission: "organization:read",
  problems: [404],
  responses: { 200: jsonResponse("The organization", OrganizationSchema) },
});

export const patch = defineRoute({
  method: "patch",
  path: "/organization",
  operationId: "updateOrganization",
  tags,
  summary: "Rename the organization, or change its timezone, locale or care-loop defaults",
  description: "Send at least one field; the others keep their values.",
  permission: "organization:write",
  problems: [404],
  request: { body: jsonBody(OrganizationPatchSchema) },
  responses: { 200: jsonResponse("The updated organization", OrganizationSchema) },
});
