import { sql } from "drizzle-orm";
import { boolean, customType, date, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations } from "#src/db/schema/organizations.ts";

/**
 * The clinical core (migration 0008_clinical.sql holds the constraints, indexes, triggers and
 * row-level security; these declarations are what the query builder needs).
 */

export const PATIENT_STATUSES = ["active", "inactive", "discharged"] as const;
export type PatientStatus = (typeof PATIENT_STATUSES)[number];
export const VOICES = ["male", "female", "neutral"] as const;
export const COMMUNICATION_STYLES = ["friendly", "formal", "casual"] as const;
export const APPOINTMENT_STATUSES = ["scheduled", "confirmed", "completed", "cancelled", "no_show"] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];
export const APPOINTMENT_KINDS = ["in_person", "telehealth"] as const;
export const NOTE_FORMATS = ["soap", "dap", "free"] as const;
export type NoteFormat = (typeof NOTE_FORMATS)[number];
export const NOTE_STATUSES = ["draft", "signed"] as const;

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });
const instant = (name: string) => timestamp(name, { withTimezone: true });
const createdAt = () => instant("created_at").notNull().defaultNow();
const updatedAt = () => instant("updated_at").notNull().defaultNow();

export const patients = pgTable("patients", {
  id: uuid("id").primaryKey(),
  organizationId: uuid("organization_id")
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" }),
  /** The linked member (role `patient`) who signs in as this patient. */
  userId: uuid("user_id"),
  name: text("name").notNull(),
  preferredName: text("preferred_name"),
  dateOfBirth: date("date_of_birth"),
  email: text("email"),
  /** E.164, whatever notation it arrived in. */
  phone: text("phone"),
  address: text("address"),
  status: text("status").$type<PatientStatus>().notNull().default("active"),
  timezone: text("timezone").notNull().default("UTC"),
  language: text("language").notNull().default("en"),
  preferredVoice: text("preferred_voice").$type<(typeof VOICES)[number]>().notNull().default("neutral"),
  communicationStyle: text("communication_style").$type<(typeof COMMUNICATION_STYLES)[number]>().notNull().default("friendly"),
  profilePhotoUrl: text("profile_photo_url"),
  appVersion: text("app_version"),
  lastHeartbeatAt: instant("last_heartbeat_at"),
  inactivityThresholdMinutes: integer("inactivity_threshold_minutes"),
  /** tend_fold(name + preferred name): lower-case, accents removed; trigram-indexed. */
  searchName: text("search_name").generatedAlwaysAs(sql`tend_fold(name || coalesce(' ' || preferred_name, ''))`),
  version: integer("version").notNull().default(1),
  createdBy: uuid("created_by"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const careTeamMembers = pgTable(
  "care_team_members",
  {
    organizationId: uuid("organization_id").notNull(),
    patientId: uuid("patient_id").notNull(),
    userId: uuid("user_id").notNull(),
    relationship: text("relationship").notNull(),
    isPrimary: boolean("is_primary").notNull().default(false),
    createdBy: uuid("created_by"),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.patientId, table.userId] })],
);

export interface WorkingInterval {
  /** ISO weekday: Monday = 1 … Sunday = 7. */
  weekday: number;
  /** "HH:MM", local to the row's timezone. */
  start: string;
  end: string;
}

export const workingHours = pgTable(
  "working_hours",
  {
    organizationId: uuid("organization_id").notNull(),
    userId: uuid("user_id").notNull(),
    timezone: text("timezone").notNull(),
    intervals: jsonb("intervals").$type<WorkingInterval[]>().notNull().default([]),
    updatedAt: updatedAt(),
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.userId] })],
);

export const appointments = pgTable("appointments", {
  id: uuid("id").primaryKey(),
  organizationId: uuid("organization_id").notNull(),
  patientId: uuid("patient_id").notNull(),
  clinicianId: uuid("clinician_id").notNull(),
  startsAt: instant("starts_at").notNull(),
  endsAt: instant("ends_at").notNull(),
  status: text("status").$type<AppointmentStatus>().notNull().default("scheduled"),
  kind: text("kind").$type<(typeof APPOINTMENT_KINDS)[number]>().notNull().default("in_person"),
  location: text("location"),
  videoUrl: text("video_url"),
  reason: text("reason"),
  cancelReason: text("cancel_reason"),
  seriesId: uuid("series_id"),
  outsideHours: boolean("outside_hours").notNull().default(false),
  version: integer("version").notNull().default(1),
  createdBy: uuid("created_by"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  confirmedAt: instant("confirmed_at"),
  completedAt: instant("completed_at"),
  cancelledAt: instant("cancelled_at"),
});

export const progressNotes = pgTable("progress_notes", {
  id: uuid("id").primaryKey(),
  organizationId: uuid("organization_id").notNull(),
  patientId: uuid("patient_id").notNull(),
  appointmentId: uuid("appointment_id"),
  authorId: uuid("author_id").notNull(),
  format: text("format").$type<NoteFormat>().notNull(),
  content: jsonb("content").$type<Record<string, string>>().notNull(),
  status: text("status").$type<(typeof NOTE_STATUSES)[number]>().notNull().default("draft"),
  signedAt: instant("signed_at"),
  signedBy: uuid("signed_by"),
  contentHash: text("content_hash"),
  search: tsvector("search").generatedAlwaysAs(sql`jsonb_to_tsvector('english'::regconfig, content, '["string"]')`),
  version: integer("version").notNull().default(1),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const noteAddenda = pgTable("note_addenda", {
  id: uuid("id").primaryKey(),
  organizationId: uuid("organization_id").notNull(),
  noteId: uuid("note_id").notNull(),
  authorId: uuid("author_id").notNull(),
  body: text("body").notNull(),
  contentHash: text("content_hash").notNull(),
  signedAt: instant("signed_at").notNull().defaultNow(),
  search: tsvector("search").generatedAlwaysAs(sql`to_tsvector('english'::regconfig, body)`),
  createdAt: createdAt(),
});

export const domainEvents = pgTable("domain_events", {
  id: uuid("id").primaryKey(),
  organizationId: uuid("organization_id").notNull(),
  type: text("type").notNull(),
  subjectType: text("subject_type").notNull(),
  subjectId: uuid("subject_id").notNull(),
  payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
  requestId: text("request_id"),
  createdAt: createdAt(),
  dispatchedAt: instant("dispatched_at"),
  attempts: integer("attempts").notNull().default(0),
});

export const eventConsumptions = pgTable(
  "event_consumptions",
  {
    eventId: uuid("event_id").notNull(),
    consumer: text("consumer").notNull(),
    organizationId: uuid("organization_id").notNull(),
    processedAt: instant("processed_at").notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.eventId, table.consumer] })],
);

export const auditSeals = pgTable(
  "audit_seals",
  {
    organizationId: uuid("organization_id").notNull(),
    seq: integer("seq").notNull(),
    firstId: uuid("first_id").notNull(),
    lastId: uuid("last_id").notNull(),
    rowCount: integer("row_count").notNull(),
    rowsDigest: text("rows_digest").notNull(),
    previousHash: text("previous_hash").notNull(),
    hash: text("hash").notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.seq] })],
);
