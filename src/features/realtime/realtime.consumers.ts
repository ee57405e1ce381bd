import { sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import type { DeliveredEvent, EventConsumer } from "#src/features/events/events.consumers.ts";
import type { JobDeps } from "#src/jobs/job.ts";
import { currentCareTeam } from "#src/lib/access.ts";
import { enqueueAll } from "#src/platform/ports.ts";

const LIVE_PREFIXES = ["alert.", "reminder.", "appointment."];

/** Hubs one consumer invocation publishes to itself; past it, `realtime.publish` jobs of this many each. */
export const LIVE_FANOUT_PER_CALL = 100;

const Uuid = z.uuid();
const uuidOrNull = (value: unknown): string | null => (Uuid.safeParse(value).success ? (value as string) : null);

const RecipientRow = z.object({ user_id: z.string() });

/**
 * Who sees an event about a patient live: the patient's care team, the organization's owners and
 * admins, and the patient's own linked user; staff hold no care permission, so they get no alert
 * or reminder; an appointment event also goes to its clinician. A care-team row outlives a role
 * change, so only members who are still clinicians or caregivers (or staff, for an appointment)
 * count. One statement; every recipient is a current member.
 */
export async function liveRecipients(deps: Pick<JobDeps, "db">, event: DeliveredEvent): Promise<string[]> {
  const org = event.organizationId;
  const patientId = uuidOrNull(event.payload.patientId);
  const appointment = event.type.startsWith("appointment.");
  const clinicianId = appointment ? uuidOrNull(event.payload.clinicianId) : null;
  const result = await scoped(deps.db, org).db.execute(sql`
    select team.user_id::text as user_id from (${currentCareTeam(sql`${org}::uuid`, sql`${patientId}::uuid`, { withStaff: sql`${appointment}::boolean` })}) team
    union
    select user_id::text from memberships where organization_id = ${org}::uuid and role in ('owner', 'admin')
    union
    select user_id::text from patients where organization_id = ${org}::uuid and id = ${patientId}::uuid and user_id is not null
    union
    select user_id::text from memberships where organization_id = ${org}::uuid and user_id = ${clinicianId}::uuid`);
  return rowsOf(RecipientRow, result).map((row) => row.user_id);
}

/**
 * Alerts, reminders and appointment changes to the open sockets of the users who may see the
 * patient (outside the database: the hubs). The payload goes as it is (ids and states, no PHI).
 * A redelivery publishes again with the same event id, which each hub has stored once.
 */
export const liveUpdatesConsumer: EventConsumer = {
  name: "realtime",
  handles: (type) => LIVE_PREFIXES.some((prefix) => type.startsWith(prefix)),
  async outside(event, deps) {
    const recipients = await liveRecipients(deps, event);
    if (recipients.length === 0) return;
    const live = { id: event.id, type: event.type, organizationId: event.organizationId, data: event.payload };
    if (recipients.length <= LIVE_FANOUT_PER_CALL) return deps.realtime.publish(recipients, live);
    // More hubs than one invocation should call (each is a subrequest): slices, as jobs.
    const slices = Array.from({ length: Math.ceil(recipients.length / LIVE_FANOUT_PER_CALL) }, (_, index) =>
      recipients.slice(index * LIVE_FANOUT_PER_CALL, (index + 1) * LIVE_FANOUT_PER_CALL),
    );
    await enqueueAll(
      deps.jobs,
      slices.map((userIds) => ({ kind: "realtime.publish", organizationId: event.organizationId, eventId: event.id, type: event.type, data: event.payload, userIds })),
    );
  },
};

/** This feature's domain-event consumers (EVENT_CONSUMERS in src/features/events/events.consumers.ts lists them). */
export const realtimeConsumers: readonly EventConsumer[] = [liveUpdatesConsumer];
