import { boolean, date, integer, pgTable, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations } from "#src/db/schema/organizations.ts";
import { users } from "#src/db/schema/identity.ts";

/**
 * The care loop (migration 0009_care.sql holds the constraints, indexes and row-level security;
 * these declarations are what the query builder needs).
 */

export const SCHEDULE_KINDS = ["medication", "exercise", "check_in"] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];
export const REMINDER_KINDS = [...SCHEDULE_KINDS, "appointment"] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];
export const REMINDER_STATUSES = ["pending", "sent", "acknowledged", "missed", "cancelled"] as const;
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];
export const REMINDER_RESPONSES = ["taken", "skipped"] as const;
export const ACTIVITY_TYPES = ["heartbeat", "app_open", "reminder_interaction", "battery"] as const;
export const ALERT_TYPES = ["inactivity", "missed_medication", "manual"] as const;
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;
export const DEVICE_PLATFORMS = ["ios", "android", "web"] as const;
/** `voice` is only ever the last escalation step of a critical alert (a Twilio call). */
export const CHANNELS = ["email", "sms", "push", "in_app", "voice"] as const;
export type Channel = (typeof CHANNELS)[number];
export const NOTIFICATION_STATUSES = ["pending", "sending", "sent", "failed", "suppressed"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

const instant = (name: string) => timestamp(name, { withTimezone: true });
const createdAt = () => instant("created_at").notNull().defaultNow();
const updatedAt = () => instant("updated_at").notNull().defaultNow();
const organizationId = () =>
  uuid("organization_id")
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" });

export const schedules = pgTable("schedules", {
  id: uuid("id").primaryKey(),
  organizationId: organizationId(),
  patientId: uuid("patient_id").notNull(),
  kind: text("kind").$type<ScheduleKind>().notNull(),
  /** What the task is ("Metformin", "Morning walk"): PHI, never in a lock-screen text by default. */
  title: text("title").notNull(),
  dose: text("dose"),
  instructions: text("instructions"),
  /** Local 'HH:MM' in the patient's timezone. */
  timesOfDay: text("times_of_day").array().notNull(),
  /** ISO weekdays, Monday = 1. */
  daysOfWeek: smallint("days_of_week").array().notNull(),
  active: boolean("active").notNull().default(true),
  startDate: date("start_date"),
  endDate: date("end_date"),
  graceMinutes: integer("grace_minutes").notNull().default(60),
  version: integer("version").notNull().default(1),
  createdBy: uuid("created_by"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  deletedAt: instant("deleted_at"),
});

export const reminders = pgTable("reminders", {
  id: uuid("id").primaryKey(),
  organizationId: organizationId(),
  patientId: uuid("patient_id").notNull(),
  scheduleId: uuid("schedule_id"),
  appointmentId: uuid("appointment_id"),
  kind: text("kind").$type<ReminderKind>().notNull(),
  occurrenceKey: text("occurrence_key").notNull(),
  dueAt: instant("due_at").notNull(),
  missedAfter: instant("missed_after"),
  status: text("status").$type<ReminderStatus>().notNull().default("pending"),
  response: text("response").$type<(typeof REMINDER_RESPONSES)[number]>(),
  acknowledgedAt: instant("acknowledged_at"),
  acknowledgedBy: uuid("acknowledged_by"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const activityEvents = pgTable("activity_events", {
  id: uuid("id").primaryKey(),
  organizationId: organizationId(),
  patientId: uuid("patient_id").notNull(),
  type: text("type").$type<(typeof ACTIVITY_TYPES)[number]>().notNull(),
  occurredAt: instant("occurred_at").notNull(),
  receivedAt: instant("received_at").notNull().defaultNow(),
  batteryLevel: smallint("battery_level"),
  appVersion: text("app_version"),
  reminderId: uuid("reminder_id"),
});

export const alerts = pgTable("alerts", {
  id: uuid("id").primaryKey(),
  organizationId: organizationId(),
  patientId: uuid("patient_id").notNull(),
  type: text("type").$type<(typeof ALERT_TYPES)[number]>().notNull(),
  severity: text("severity").$type<Severity>().notNull(),
  status: text("status").$type<(typeof ALERT_STATUSES)[number]>().notNull().default("open"),
  message: text("message"),
  reminderId: uuid("reminder_id"),
  createdBy: uuid("created_by"),
  createdAt: createdAt(),
  acknowledgedAt: instant("acknowledged_at"),
  acknowledgedBy: uuid("acknowledged_by"),
  resolvedAt: instant("resolved_at"),
  resolvedBy: uuid("resolved_by"),
  escalationLevel: smallint("escalation_level").notNull().default(0),
  nextEscalationAt: instant("next_escalation_at"),
  updatedAt: updatedAt(),
});

export const pushDevices = pgTable("push_devices", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  token: text("token").notNull(),
  platform: text("platform").$type<(typeof DEVICE_PLATFORMS)[number]>().notNull(),
  label: text("label"),
  createdAt: createdAt(),
  lastSeenAt: instant("last_seen_at").notNull().defaultNow(),
});

export const notifications = pgTable("notifications", {
  id: uuid("id").primaryKey(),
  organizationId: organizationId(),
  userId: uuid("user_id").notNull(),
  channel: text("channel").$type<Channel>().notNull(),
  kind: text("kind").notNull(),
  severity: text("severity").$type<Severity>(),
  subjectType: text("subject_type"),
  subjectId: uuid("subject_id"),
  patientId: uuid("patient_id"),
  dedupeKey: text("dedupe_key").notNull(),
  title: text("title").notNull(),
  body: text("body").notNull(),
  status: text("status").$type<NotificationStatus>().notNull().default("pending"),
  attempts: integer("attempts").notNull().default(0),
  notBefore: instant("not_before").notNull().defaultNow(),
  claimedAt: instant("claimed_at"),
  sentAt: instant("sent_at"),
  readAt: instant("read_at"),
  providerMessageId: text("provider_message_id"),
  lastError: text("last_error"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
