import { integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per job run (kind + run key), claimed before its handler runs: the unique key that
 * makes every job idempotent. `finished_at` is null while a claim's handler has not finished.
 */
export const jobRuns = pgTable(
  "job_runs",
  {
    kind: text("kind").notNull(),
    occurrence: text("occurrence").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [primaryKey({ columns: [table.kind, table.occurrence] })],
);

/** Messages that exhausted their retries, parked for an operator to inspect and replay. */
export const deadLetters = pgTable("dead_letters", {
  messageId: text("message_id").primaryKey(),
  queue: text("queue").notNull(),
  kind: text("kind"),
  body: jsonb("body").notNull(),
  attempts: integer("attempts").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});
