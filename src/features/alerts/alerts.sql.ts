import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { ALERT_STATUSES, ALERT_TYPES, SEVERITIES } from "#src/db/schema/index.ts";
import { isoOf } from "#src/db/sql-time.ts";

/**
 * How an alert leaves the database (one jsonb column, AlertRow), and the escalation rule every
 * producer shares: high and critical alerts escalate `escalation_minutes` after they open; low and
 * medium ones never do.
 */

/** The alert `alias` (a table or a CTE of alerts' rows) as jsonb, the analytics durations included. */
export const alertJson = (alias: string): SQL => {
  const a = (column: string) => `${alias}.${column}`;
  return sql`jsonb_build_object('id', ${sql.raw(a("id"))}, 'patient_id', ${sql.raw(a("patient_id"))}, 'type', ${sql.raw(a("type"))},
    'severity', ${sql.raw(a("severity"))}, 'status', ${sql.raw(a("status"))}, 'message', ${sql.raw(a("message"))},
    'reminder_id', ${sql.raw(a("reminder_id"))}, 'created_by', ${sql.raw(a("created_by"))}, 'created_at', ${isoOf(a("created_at"))},
    'acknowledged_at', ${isoOf(a("acknowledged_at"))}, 'acknowledged_by', ${sql.raw(a("acknowledged_by"))},
    'resolved_at', ${isoOf(a("resolved_at"))}, 'resolved_by', ${sql.raw(a("resolved_by"))},
    'escalation_level', ${sql.raw(a("escalation_level"))}, 'next_escalation_at', ${isoOf(a("next_escalation_at"))},
    'updated_at', ${isoOf(a("updated_at"))},
    'seconds_to_acknowledge', floor(extract(epoch from ${sql.raw(a("acknowledged_at"))} - ${sql.raw(a("created_at"))}))::int,
    'seconds_to_resolve', floor(extract(epoch from ${sql.raw(a("resolved_at"))} - ${sql.raw(a("created_at"))}))::int,
    'cursor_at', ${sql.raw(`to_char(${a("created_at")} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)})`;
};

export const AlertRow = z.object({
  id: z.string(),
  patient_id: z.string(),
  type: z.enum(ALERT_TYPES),
  severity: z.enum(SEVERITIES),
  status: z.enum(ALERT_STATUSES),
  message: z.string().nullable(),
  reminder_id: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  acknowledged_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  resolved_at: z.string().nullable(),
  resolved_by: z.string().nullable(),
  escalation_level: z.number().int(),
  next_escalation_at: z.string().nullable(),
  updated_at: z.string(),
  seconds_to_acknowledge: z.number().int().nullable(),
  seconds_to_resolve: z.number().int().nullable(),
  cursor_at: z.string(),
});

export type AlertRowValue = z.infer<typeof AlertRow>;

export const alertView = (row: AlertRowValue) => ({
  id: row.id,
  patientId: row.patient_id,
  type: row.type,
  severity: row.severity,
  status: row.status,
  message: row.message,
  reminderId: row.reminder_id,
  createdBy: row.created_by,
  createdAt: row.created_at,
  acknowledgedAt: row.acknowledged_at,
  acknowledgedBy: row.acknowledged_by,
  resolvedAt: row.resolved_at,
  resolvedBy: row.resolved_by,
  escalationLevel: row.escalation_level,
  nextEscalationAt: row.next_escalation_at,
  updatedAt: row.updated_at,
  timeToAcknowledgeSeconds: row.seconds_to_acknowledge,
  timeToResolveSeconds: row.seconds_to_resolve,
});

export type AlertView = ReturnType<typeof alertView>;

/**
 * When an alert of `severity` (an SQL text expression) opened at `openedAt` first escalates:
 * `escalation_minutes` later for high and critical, never for low and medium.
 */
export const firstEscalationAt = (severity: SQL, openedAt: SQL, escalationMinutes: SQL): SQL =>
  sql`case when ${severity} in ('high', 'critical') then ${openedAt} + make_interval(mins => ${escalationMinutes}) end`;

/** The highest escalation step: 3 (the voice call) for critical alerts, 2 (owners and admins) for high. */
export const lastEscalationLevel = (severity: SQL): SQL => sql`(case when ${severity} = 'critical' then 3 else 2 end)`;

/** The alert.* event payload for a CTE of alerts' rows (ids and states only, never the message). */
export const alertPayload = sql`jsonb_build_object('patientId', patient_id, 'severity', severity)`;
