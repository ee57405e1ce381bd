import { z } from "@hono/zod-openapi";
import { COMMUNICATION_STYLES, PATIENT_STATUSES, ROLES, VOICES } from "#src/db/schema/index.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { email, longText, text, timestamp, uuid } from "#src/lib/text.ts";
import { TimeZoneSchema } from "#src/lib/timezone.ts";

/** The patient record on the wire (camelCase), its read-only fields included. */

export const PatientStatusSchema = z.enum(PATIENT_STATUSES).openapi("PatientStatus");
const VoiceSchema = z.enum(VOICES).openapi("PreferredVoice");
const StyleSchema = z.enum(COMMUNICATION_STYLES).openapi("CommunicationStyle");

function isLanguageTag(value: string): boolean {
  try {
    return Intl.getCanonicalLocales(value).length === 1;
  } catch {
    return false;
  }
}

function isHttpsUrl(value: string): boolean {
  if (!value.startsWith("https://")) return false;
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}

const EARLIEST_BIRTH_DATE = "1850-01-01";

const name = text(200).trim().min(1).openapi({ example: "Ada Lovelace" });
const preferredName = text(100).trim().min(1).openapi({ example: "Ada" });
const dateOfBirth = z.iso
  .date()
  .max(10)
  .refine((value) => value >= EARLIEST_BIRTH_DATE, `must be on or after ${EARLIEST_BIRTH_DATE}`)
  .openapi({ description: "YYYY-MM-DD, not in the future", example: "1961-04-12" });
const phone = text(40).openapi({
  description: "Any common notation (+49 30 1234567, 0049 30…, (555) 123-4567); stored as E.164. A national number takes the organization's country.",
  example: "+1 555 123 4567",
});
const address = longText(500);
const language = text(35)
  .refine(isLanguageTag, "is not a BCP 47 language tag")
  .openapi({ description: "BCP 47 language tag", example: "de-DE" });
const profilePhotoUrl = text(2048).refine(isHttpsUrl, "must be an https:// URL").openapi({ example: "https://cdn.example/photo.jpg" });
const inactivityThresholdMinutes = z.number().int().min(5).max(43_200).openapi({ type: "integer", format: "int32", minimum: 5, maximum: 43_200 });

const writable = {
  name,
  preferredName: preferredName.nullable(),
  dateOfBirth: dateOfBirth.nullable(),
  email: email().nullable(),
  phone: phone.nullable(),
  address: address.nullable(),
  status: PatientStatusSchema,
  timezone: TimeZoneSchema,
  language,
  preferredVoice: VoiceSchema,
  communicationStyle: StyleSchema,
  profilePhotoUrl: profilePhotoUrl.nullable(),
  userId: uuid().nullable().openapi({ description: "The linked member (role patient) who signs in as this patient" }),
  inactivityThresholdMinutes: inactivityThresholdMinutes.nullable(),
};

export const PatientCreateSchema = z.object(writable).partial().required({ name: true }).strict().openapi("PatientCreate");

export const PatientPatchSchema = z
  .object(writable)
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, "names no field to change")
  .openapi("PatientPatch");

export type PatientCreate = z.infer<typeof PatientCreateSchema>;
export type PatientPatch = z.infer<typeof PatientPatchSchema>;

export const PatientSchema = z
  .object({
    id: uuid(),
    name: text(200),
    preferredName: text(100).nullable(),
    dateOfBirth: z.iso.date().max(10).nullable(),
    email: text(254).nullable(),
    phone: text(16).nullable().openapi({ description: "E.164", example: "+15551234567" }),
    address: longText(500).nullable(),
    status: PatientStatusSchema,
    timezone: text(64),
    language: text(35),
    preferredVoice: VoiceSchema,
    communicationStyle: StyleSchema,
    profilePhotoUrl: text(2048).nullable(),
    userId: uuid().nullable(),
    inactivityThresholdMinutes: z.number().int().min(5).max(43_200).openapi({ type: "integer", format: "int32", minimum: 5, maximum: 43_200 }).nullable(),
    appVersion: text(64).nullable().openapi({ description: "Read-only: reported by the companion app" }),
    lastHeartbeatAt: timestamp().nullable().openapi({ description: "Read-only: the companion app's last heartbeat" }),
    createdAt: timestamp(),
    updatedAt: timestamp(),
    version: z.number().int().min(1).max(2_147_483_647).openapi({ type: "integer", format: "int32", minimum: 1, maximum: 2_147_483_647, description: "Read-only: the ETag's version" }),
  })
  .openapi("Patient");

export const PatientListSchema = z
  .object({ data: z.array(PatientSchema).max(100), nextCursor: text(512).nullable() })
  .openapi("PatientList");

export const PATIENT_SORTS = ["name", "created_at", "updated_at"] as const;
export type PatientSort = (typeof PATIENT_SORTS)[number];

export const PatientListQuery = z.object({
  q: text(100)
    .trim()
    .min(1)
    .optional()
    .openapi({ description: "Name (case-, accent- and typo-tolerant, ranked by similarity) or phone number in any notation" }),
  status: PatientStatusSchema.optional(),
  clinicianId: uuid().optional().openapi({ description: "Only patients on whose care team this member is" }),
  sort: z.enum(PATIENT_SORTS).default("name").openapi({ description: "Ignored with q: results are ranked by similarity" }),
  order: z.enum(["asc", "desc"]).default("asc"),
  limit: LimitQuery,
  cursor: CursorQuery.optional(),
});

export type PatientListInput = z.infer<typeof PatientListQuery>;

export const PatientIdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });

export const CareTeamMemberSchema = z
  .object({
    userId: uuid(),
    name: text(200),
    role: z.enum(ROLES).openapi({ description: "Their role in the organization (clinician or caregiver when they joined)" }),
    relationship: text(100),
    isPrimary: z.boolean(),
    createdAt: timestamp(),
  })
  .openapi("CareTeamMember");

export const CareTeamSchema = z.object({ data: z.array(CareTeamMemberSchema).max(100) }).openapi("CareTeam");

export const CareTeamAddSchema = z
  .object({
    userId: uuid().openapi({ description: "A clinician or caregiver of the organization" }),
    relationship: text(100).trim().min(1).openapi({ example: "therapist" }),
    isPrimary: z.boolean().default(false).openapi({ description: "Makes this member the primary; a previous primary is demoted in the same transaction" }),
  })
  .strict()
  .openapi("CareTeamAdd");

export type CareTeamAdd = z.infer<typeof CareTeamAddSchema>;

export const CareTeamMemberParam = z.object({
  id: uuid().openapi({ param: { name: "id", in: "path" } }),
  userId: uuid().openapi({ param: { name: "userId", in: "path" } }),
});
