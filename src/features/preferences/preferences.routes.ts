import { z } from "@hono/zod-openapi";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text } from "#src/lib/text.ts";
import { TimeZoneSchema } from "#src/lib/timezone.ts";

const HHMM = z
  .string()
  .max(5)
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a 24-hour time HH:MM")
  .openapi({ example: "22:00" });

/** The person's own number for SMS and voice calls (users have no phone column). */
const PHONE = z
  .string()
  .max(16)
  .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number, e.g. +447700900123")
  .openapi({ example: "+447700900123" });

const THRESHOLDS = ["low", "medium", "high", "critical"] as const;

export const PreferencesSchema = z
  .object({
    channels: z.object({ email: z.boolean(), sms: z.boolean(), push: z.boolean() }),
    alertThreshold: z.enum(THRESHOLDS),
    quietHours: z.object({ enabled: z.boolean(), start: HHMM, end: HHMM }),
    dailySummaryTime: HHMM,
    timezone: text(64).openapi({ example: "Europe/London" }),
    phone: PHONE.nullable().optional().openapi({ description: "Where SMS and voice calls go; absent until set" }),
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
    phone: PHONE.nullable().optional().openapi({ description: "null forgets it" }),
  })
  .strict()
  .openapi("PreferencesPatch");

const tags: ["Me"] = ["Me"];

export const getOne = defineRoute({
  method: "get",
  path: "/me/preferences",
  operationId: "getPreferences",
  tags,
  summary: "The caller's notification preferences, defaults filled in",
  description: "Preferences belong to the person, so API keys cannot read them.",
  permission: "profile:self",
  membersOnly: true,
  responses: { 200: jsonResponse("Preferences", PreferencesSchema) },
});

export const patch = defineRoute({
  method: "patch",
  path: "/me/preferences",
  operationId: "updatePreferences",
  tags,
  summary: "Change some preferences; nested objects merge field by field",
  description: "Fields left out keep their values; quiet hours may wrap midnight.",
  permission: "profile:self",
  membersOnly: true,
  request: { body: jsonBody(PreferencesPatchSchema) },
  responses: { 200: jsonResponse("The merged preferences", PreferencesSchema) },
});
