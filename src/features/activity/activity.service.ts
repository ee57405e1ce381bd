import { z } from "zod";
import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import type { ActivityListInput, HeartbeatInput } from "#src/features/activity/activity.schemas.ts";
import { type ActivityInput, ActivityPage, HeartbeatOutcome, listActivity, recordHeartbeat } from "#src/features/activity/activity.repo.ts";
import { actorOf, auditInsert } from "#src/lib/audit.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Forbidden, type FieldError, NotFound, ValidationFailed } from "#src/lib/errors.ts";
import { publishEvents } from "#src/lib/events.ts";
import { timestamp } from "#src/lib/text.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export type ActivityDeps = Pick<Deps, "db" | "origin" | "clock" | "jobs" | "defer" | "logger" | "writes">;

/** A device's clock may run this far ahead of ours. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Events older than this are refused: a phone offline for longer reports what it has now. */
export const OLDEST_EVENT_MS = 7 * 86_400_000;

const NoSuchPatient = () => NotFound("No such patient.");

/**
 * Heartbeats come from the patient's own app (their session) or an integration's key. Owners and
 * admins hold heartbeats:write only to grant it to keys: their own session is refused, audited.
 */
async function assertDeviceCaller(deps: ActivityDeps, auth: AuthContext): Promise<void> {
  if (auth.kind === "api_key" || auth.role === "patient") return;
  await auditInsert(deps.db, deps.origin, {
    action: "access.denied",
    organizationId: auth.organizationId,
    ...actorOf(auth),
    targetType: "operation",
    targetId: "recordHeartbeat",
    metadata: { reason: "heartbeat_from_member_session" },
  });
  throw Forbidden("Heartbeats come from the patient's own app or an API key with heartbeats:write.");
}

/** The heartbeat row and the reported events, each event's time checked against the clock. */
function activityRows(body: HeartbeatInput, now: Date): ActivityInput[] {
  const errors: FieldError[] = [];
  const events = body.events ?? [];
  events.forEach((event, index) => {
    const at = Date.parse(event.at);
    if (at > now.getTime() + CLOCK_SKEW_MS) errors.push({ path: `body.events.${index}.at`, message: "is in the future" });
    else if (at < now.getTime() - OLDEST_EVENT_MS) errors.push({ path: `body.events.${index}.at`, message: "is more than 7 days ago" });
  });
  if (errors.length > 0) throw ValidationFailed(errors);
  const heartbeat: ActivityInput = { type: "heartbeat", occurredAt: now.toISOString(), batteryLevel: body.batteryLevel ?? null, appVersion: body.appVersion ?? null, reminderId: null };
  return [
    heartbeat,
    ...events.map((event) => ({
      type: event.type,
      occurredAt: new Date(event.at).toISOString(),
      batteryLevel: event.batteryLevel ?? null,
      appVersion: null,
      reminderId: event.reminderId ?? null,
    })),
  ];
}

export interface HeartbeatReceipt {
  receivedAt: string;
  lastHeartbeatAt: string;
  recorded: number;
  resolvedAlertIds: string[];
}

/** Records a heartbeat and what came with it, in one round trip (recordHeartbeat). */
export async function receiveHeartbeat(deps: ActivityDeps, auth: AuthContext, patientId: string, body: HeartbeatInput): Promise<HeartbeatReceipt> {
  await assertDeviceCaller(deps, auth);
  const now = deps.clock.now();
  const rows = activityRows(body, now);
  const scope = scoped(deps.db, auth.organizationId);
  const outcome = firstRow(HeartbeatOutcome, await recordHeartbeat(scope, deps.origin, auth, patientId, now.toISOString(), body.appVersion ?? null, rows));
  if (!outcome?.found) throw NoSuchPatient();
  if (!outcome.reminders_ok) {
    const paths = (body.events ?? []).flatMap((event, index) => (event.reminderId ? [`body.events.${index}.reminderId`] : []));
    throw ValidationFailed(paths.map((path) => ({ path, message: "must be one of the patient's reminders (one of these is not)" })));
  }
  if (!outcome.last_heartbeat_at) throw new Error("the heartbeat statement moved no patient");
  publishEvents(deps, auth.organizationId, outcome.event_ids ?? []);
  return { receivedAt: now.toISOString(), lastHeartbeatAt: outcome.last_heartbeat_at, recorded: outcome.recorded, resolvedAlertIds: outcome.resolved_ids ?? [] };
}

const CursorPosition = z.object({ o: timestamp(), i: z.uuid() });

export async function listPatientActivity(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, patientId: string, input: ActivityListInput) {
  const position = decodeCursor(input.cursor, CursorPosition);
  const result = await listActivity(scoped(deps.db, auth.organizationId), deps.origin, auth, patientId, {
    ...(input.type ? { type: input.type } : {}),
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    limit: input.limit,
    ...(position ? { before: { occurredAt: position.o, id: position.i } } : {}),
  });
  const page = firstRow(ActivityPage, result);
  if (!page?.found) throw NoSuchPatient();
  return pageOf(
    page.rows,
    input.limit,
    (row) => ({
      id: row.id,
      patientId: row.patient_id,
      type: row.type,
      occurredAt: row.occurred_at,
      receivedAt: row.received_at,
      batteryLevel: row.battery_level,
      appVersion: row.app_version,
      reminderId: row.reminder_id,
    }),
    (row) => ({ o: row.cursor_at, i: row.id }),
  );
}
