import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonResponse, MEMBER_ONLY, PROTECTED_PROBLEMS } from "#src/lib/openapi.ts";
import { TimeZoneSchema } from "#src/lib/timezone.ts";
import { problemResponses } from "#src/lib/problem.ts";
import { requirePermission } from "#src/middleware/auth.ts";

const HHMM = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a 24-hour time HH:MM")
  .openapi({ example: "22:00" });

const THRESHOLDS = ["low", "medium", "high", "critical"] as const;

export const PreferencesSchema = z
  .object({
    channels: z.object({ email: z.boolean(), sms: z.boolean(), push: z.boolean() }),
    alertThreshold: z.enum(THRESHOLDS),
    quietHours: z.object({ enabled: z.boolean(), start: HHMM, end: HHMM }),
    dailySummaryTime: HHMM,
    timezone: text(),
  })
  .openapi("Preferences");

export const PreferencesPatchSchema = z
  .object({
    channels: z.object({ email: z.boolean(), sms: z.boolean(), push: z.boolean() }).partial().strict().optional(),
    alertThreshold: z.enum(THRESHOLDS).optional(),
    quietHours: z
      .object({ enabled: z.boolean(), start: HHMM, end: HHMM })
      .partial()
      .strict()
      .optional()
      .openapi({ description: "start may be after end: quiet hours then wrap midnight" }),
    dailySummaryTime: HHMM.optional(),
    timezone: TimeZoneSchema.optional(),
  })
  .strict()
  .openapi("PreferencesPatch");

export const getOne = createRoute({
  method: "get",
  path: "/me/preferences",
  tags: ["Me"],
  summary: "The caller's notification preferences, defaults filled in",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  responses: { 200: jsonResponse("Preferences", PreferencesSchema), ...problemResponses(...PROTECTED_PROBLEMS) },
});

export const patch = createRoute({
  method: "patch",
  path: "/me/preferences",
  tags: ["Me"],
  summary: "Change some preferences; nested objects merge field by field",
  middleware: [requirePermission("profile:self")] as const,
  security: MEMBER_ONLY,
  request: { body: jsonBody(PreferencesPatchSchema) },
  responses: { 200: jsonResponse("The merged preferences", PreferencesSchema), ...problemResponses(...PROTECTED_PROBLEMS, 400, 413, 415, 422) },
});
