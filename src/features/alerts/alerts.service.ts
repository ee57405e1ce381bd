import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped, systemScope } from "#src/db/scope.ts";
import type { AlertCreate, AlertListInput } from "#src/features/alerts/alerts.schemas.ts";
import {
  AlertOutcome,
  AlertPage,
  type AlertTransition,
  insertManualAlert,
  listAlerts,
  readAlert,
  TransitionOutcome,
  transitionAlert,
} from "#src/features/alerts/alerts.repo.ts";
import { EmittedEvent, escalateAlerts, openInactivityAlerts } from "#src/features/alerts/alerts.scan.repo.ts";
import { type AlertView, alertView } from "#src/features/alerts/alerts.sql.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Conflict, NotFound } from "#src/lib/errors.ts";
import { dispatchWritten, publishEvents } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { timestamp } from "#src/lib/text.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export type AlertDeps = Pick<Deps, "db" | "origin" | "clock" | "jobs" | "defer" | "logger" | "writes">;

const NoSuchAlert = () => NotFound("No such alert.");

const CursorPosition = z.object({ c: timestamp(), i: z.uuid() });

export async function listAlertsFor(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, input: AlertListInput) {
  const position = decodeCursor(input.cursor, CursorPosition);
  const { cursor, ...filters } = input;
  void cursor;
  const result = await listAlerts(scoped(deps.db, auth.organizationId), deps.origin, auth, {
    ...filters,
    ...(position ? { before: { createdAt: position.c, id: position.i } } : {}),
  });
  const rows = firstRow(AlertPage, result)?.rows ?? [];
  return pageOf(rows, input.limit, alertView, (row) => ({ c: row.cursor_at, i: row.id }));
}

export async function getAlert(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, id: string): Promise<AlertView> {
  const alert = firstRow(AlertOutcome, await readAlert(scoped(deps.db, auth.organizationId), deps.origin, auth, id))?.alert;
  if (!alert) throw NoSuchAlert();
  return alertView(alert);
}

/** A manual alert (type manual), for a patient the caller reaches; high and critical ones escalate. */
export async function raiseAlert(deps: AlertDeps, auth: AuthContext, body: AlertCreate): Promise<AlertView> {
  const input = { id: uuidv7(), eventId: uuidv7(), ...body, now: deps.clock.now().toISOString() };
  const alert = firstRow(AlertOutcome, await insertManualAlert(scoped(deps.db, auth.organizationId), deps.origin, auth, input))?.alert;
  if (!alert) throw NotFound("No such patient.");
  publishEvents(deps, auth.organizationId, [input.eventId]);
  return alertView(alert);
}

export type AlertVerb = "acknowledge" | "resolve";

/** open → acknowledged (escalation stops); open or acknowledged → resolved. */
const TRANSITIONS: Record<AlertVerb, AlertTransition & { past: string }> = {
  acknowledge: { from: ["open"], to: "acknowledged", event: "alert.acknowledged", action: "alert.acknowledged", past: "acknowledged" },
  resolve: { from: ["open", "acknowledged"], to: "resolved", event: "alert.resolved", action: "alert.resolved", past: "resolved" },
};

export async function changeAlertStatus(deps: AlertDeps, auth: AuthContext, id: string, verb: AlertVerb): Promise<AlertView> {
  const step = TRANSITIONS[verb];
  const result = await transitionAlert(scoped(deps.db, auth.organizationId), deps.origin, auth, id, step, deps.clock.now().toISOString());
  const outcome = firstRow(TransitionOutcome, result);
  if (!outcome?.current_status) throw NoSuchAlert();
  if (!outcome.alert) {
    throw Conflict(`The alert is ${outcome.current_status}: it cannot be ${step.past}.`, { extensions: { currentStatus: outcome.current_status } });
  }
  publishEvents(deps, auth.organizationId, outcome.event_ids);
  return alertView(outcome.alert);
}

type JobDeps = Pick<Deps, "db" | "origin" | "clock" | "jobs" | "logger">;

/** After a cron statement commits: each event it wrote goes to dispatch (best effort: the sweeper re-sends). */
async function dispatchAll(deps: JobDeps, events: z.infer<typeof EmittedEvent>[], what: string): Promise<number> {
  await dispatchWritten(deps, events);
  if (events.length > 0) deps.logger.log("info", what, { count: events.length });
  return events.length;
}

/** The inactivity scan (every minute; `only` narrows it to one organization): answers how many alerts it opened. */
export async function scanInactivity(deps: JobDeps, only?: string): Promise<number> {
  const result = await openInactivityAlerts(systemScope(deps.db, "alerts.inactivity-scan"), deps.origin, deps.clock.now().toISOString(), only ?? null);
  return dispatchAll(deps, rowsOf(EmittedEvent, result), "alerts.inactivity_opened");
}

/** The escalation step (every minute; `only` narrows it to one organization): answers how many alerts it escalated. */
export async function escalateDueAlerts(deps: JobDeps, only?: string): Promise<number> {
  const result = await escalateAlerts(systemScope(deps.db, "alerts.escalate"), deps.origin, deps.clock.now().toISOString(), only ?? null);
  return dispatchAll(deps, rowsOf(EmittedEvent, result), "alerts.escalated");
}
