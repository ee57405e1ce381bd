import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { AckOutcome, acknowledgeReminder, ListedRow, listReminders } from "#src/features/reminders/reminders.repo.ts";
import type { ReminderListInput } from "#src/features/reminders/reminders.schemas.ts";
import { reminderView } from "#src/features/reminders/reminders.sql.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Conflict, NotFound } from "#src/lib/errors.ts";
import { domainEvent, publishEvents } from "#src/lib/events.ts";
import { timestamp } from "#src/lib/text.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export type ReminderDeps = Pick<Deps, "db" | "origin" | "clock" | "jobs" | "defer" | "logger" | "writes">;

const Position = z.object({ d: timestamp(), i: z.uuid() }).strict();

/** GET /reminders: newest due first, narrowed to the patients the caller reaches. */
export async function listRemindersFor(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, input: ReminderListInput) {
  const before = decodeCursor(input.cursor, Position);
  const result = await listReminders(scoped(deps.db, auth.organizationId), deps.origin, auth, {
    ...(input.patientId ? { patientId: input.patientId } : {}),
    ...(input.status ? { status: input.status } : {}),
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    limit: input.limit,
    ...(before ? { before: { dueAt: before.d, id: before.i } } : {}),
  });
  const rows = rowsOf(ListedRow, result).map((row) => row.reminder);
  return pageOf(rows, input.limit, reminderView, (row) => ({ d: row.cursor_at, i: row.id }));
}

/**
 * POST /reminders/{id}/ack: taken or skipped, once. A missed reminder may still be acknowledged
 * (late): it becomes acknowledged, and its missed-medication alert stays open. An acknowledged
 * or cancelled one is a 409.
 */
export async function acknowledge(deps: ReminderDeps, auth: AuthContext, id: string, response: "taken" | "skipped") {
  const org = auth.organizationId;
  const event = domainEvent(org, "reminder.acknowledged", { type: "reminder", id });
  const result = await acknowledgeReminder(scoped(deps.db, org), deps.origin, auth, { id, eventId: event.id, response, now: deps.clock.now().toISOString() });
  const outcome = firstRow(AckOutcome, result);
  if (!outcome?.current_status) throw NotFound("No such reminder.");
  if (!outcome.reminder) {
    throw Conflict(
      outcome.current_status === "acknowledged" ? "The reminder is already acknowledged." : "The reminder was cancelled (its schedule was paused or deleted): there is nothing to acknowledge.",
    );
  }
  publishEvents(deps, org, [event.id]);
  return reminderView(outcome.reminder);
}
