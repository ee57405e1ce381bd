import { sql } from "drizzle-orm";
import { check, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** A tenant: practice, clinic or care facility. Every tenant table points here. */
export const organizations = pgTable(
  "organizations",
  {
    id: uuid("id").primaryKey(),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    locale: text("locale").notNull().default("en"),
    /** Minutes without a heartbeat before an inactivity alert (a patient's own value overrides it). */
    inactivityThresholdMinutes: integer("inactivity_threshold_minutes").notNull().default(240),
    /** Minutes a high or critical alert may stay unacknowledged before it escalates a step. */
    escalationMinutes: integer("escalation_minutes").notNull().default(15),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("organizations_slug_key").on(table.slug),
    check("organizations_slug_format", sql`${table.slug} ~ '^[a-z0-9][a-z0-9-]{1,62}$'`),
  ],
);
