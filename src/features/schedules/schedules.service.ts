import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { DeleteOutcome, deleteSchedule, insertSchedule, ListOutcome, listSchedules, PatchOutcome, updateSchedule, WriteOutcome } from "#src/features/schedules/schedules.repo.ts";
import type { ScheduleCreate, ScheduleListInput, SchedulePatch } from "#src/features/schedules/schedules.schemas.ts";
import { type ScheduleView, scheduleView, smallintArray, sortedDays, sortedTimes, textArray } from "#src/features/schedules/schedules.sql.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { NotFound, ValidationFailed } from "#src/lib/errors.ts";
import { etagOf, expectedVersion, PreconditionFailed } from "#src/lib/etag.ts";
import { domainEvent, publishEvents } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { timestamp } from "#src/lib/text.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export type ScheduleDeps = Pick<Deps, "db" | "origin" | "jobs" | "defer" | "logger" | "writes">;

const NoSuchPatient = () => NotFound("No such patient.");
const NoSuchSchedule = () => NotFound("No such schedule.");

export interface ScheduleWithTag {
  schedule: ScheduleView;
  etag: string;
}

const tagged = (schedule: ScheduleView): ScheduleWithTag => ({ schedule, etag: etagOf(schedule.version) });

const Position = z.object({ c: timestamp(), i: z.uuid() }).strict();

export async function listSchedulesFor(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, patientId: string, input: ScheduleListInput) {
  const after = decodeCursor(input.cursor, Position);
  const result = await listSchedules(scoped(deps.db, auth.organizationId), deps.origin, auth, patientId, {
    ...(input.active === undefined ? {} : { active: input.active === "true" }),
    ...(input.kind ? { kind: input.kind } : {}),
    limit: input.limit,
    ...(after ? { after: { createdAt: after.c, id: after.i } } : {}),
  });
  const outcome = firstRow(ListOutcome, result);
  if (!outcome?.found) throw NoSuchPatient();
  return pageOf(outcome.schedules, input.limit, scheduleView, (row) => ({ c: row.cursor_at, i: row.id }));
}

/** Body field → column, with the SQL type of its value. */
const COLUMNS = {
  kind: ["kind", "text"],
  title: ["title", "text"],
  dose: ["dose", "text"],
  instructions: ["instructions", "text"],
  timesOfDay: ["times_of_day", "text[]"],
  daysOfWeek: ["days_of_week", "smallint[]"],
  active: ["active", "boolean"],
  startDate: ["start_date", "date"],
  endDate: ["end_date", "date"],
  graceMinutes: ["grace_minutes", "integer"],
} as const satisfies Record<keyof SchedulePatch, readonly [string, string]>;

type Field = keyof typeof COLUMNS;

function valueSql(field: Field, value: unknown): SQL {
  const [, type] = COLUMNS[field];
  if (value === null || value === undefined) return sql`null::${sql.raw(type)}`;
  if (field === "timesOfDay") return textArray(sortedTimes(value as string[]));
  if (field === "daysOfWeek") return smallintArray(sortedDays(value as number[]));
  return sql`${value}::${sql.raw(type)}`;
}

/** POST /patients/{id}/schedules: one statement, the event enqueued after commit. */
export async function createSchedule(deps: ScheduleDeps, auth: AuthContext, patientId: string, body: ScheduleCreate): Promise<ScheduleWithTag> {
  const org = auth.organizationId;
  const id = uuidv7();
  const event = domainEvent(org, "schedule.created", { type: "schedule", id });
  const values: Record<string, SQL> = {};
  for (const field of Object.keys(COLUMNS) as Field[]) values[COLUMNS[field][0]] = valueSql(field, body[field]);
  const outcome = firstRow(WriteOutcome, await insertSchedule(scoped(deps.db, org), deps.origin, auth, { id, patientId, eventId: event.id, values }));
  if (!outcome?.found || !outcome.schedule) throw NoSuchPatient();
  publishEvents(deps, org, [event.id]);
  return tagged(scheduleView(outcome.schedule));
}

/**
 * The row a PATCH proposes: each column the body's value or the stored one (`t.<column>`).
 * Leaving medication without naming a dose clears the stored dose.
 */
function proposedOf(body: SchedulePatch): Record<string, SQL> {
  const proposed: Record<string, SQL> = {};
  for (const field of Object.keys(COLUMNS) as Field[]) {
    const [column] = COLUMNS[field];
    proposed[column] = body[field] === undefined ? sql.raw(`t.${column}`) : valueSql(field, body[field]);
  }
  if (body.kind !== undefined && body.kind !== "medication" && body.dose === undefined) proposed.dose = sql`null::text`;
  return proposed;
}

/** PATCH /schedules/{id} at the version If-Match names: 428 without it, 412 when stale. */
export async function patchSchedule(deps: ScheduleDeps, auth: AuthContext, id: string, ifMatch: string | undefined, body: SchedulePatch): Promise<ScheduleWithTag> {
  const org = auth.organizationId;
  const expected = expectedVersion(ifMatch);
  const event = domainEvent(org, "schedule.updated", { type: "schedule", id });
  const fields = Object.keys(body).filter((field) => body[field as Field] !== undefined).sort();
  const result = await updateSchedule(scoped(deps.db, org), deps.origin, auth, { id, eventId: event.id, expected, proposed: proposedOf(body), fields });
  const outcome = firstRow(PatchOutcome, result);
  if (!outcome?.found) throw NoSuchSchedule();
  if (!outcome.fresh) throw PreconditionFailed();
  if (!outcome.dose_ok) throw ValidationFailed([{ path: "body.dose", message: "is only for a medication schedule" }]);
  if (!outcome.dates_ok) throw ValidationFailed([{ path: body.endDate === undefined ? "body.startDate" : "body.endDate", message: "leaves endDate before startDate" }]);
  if (!outcome.schedule) throw new Error("the schedule update changed nothing");
  publishEvents(deps, org, [event.id]);
  return tagged(scheduleView(outcome.schedule));
}

/** DELETE /schedules/{id}: soft, its open reminders cancelled; a deleted schedule is a 404 after. */
export async function removeSchedule(deps: ScheduleDeps, auth: AuthContext, id: string): Promise<void> {
  const org = auth.organizationId;
  const event = domainEvent(org, "schedule.deleted", { type: "schedule", id });
  const outcome = firstRow(DeleteOutcome, await deleteSchedule(scoped(deps.db, org), deps.origin, auth, { id, eventId: event.id }));
  if (!outcome?.deleted) throw NoSuchSchedule();
  publishEvents(deps, org, [event.id]);
}
