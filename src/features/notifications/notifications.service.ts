import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { exactOf, isoOf } from "#src/db/sql-time.ts";
import type { NotificationSchema } from "#src/features/notifications/notifications.routes.ts";
import { followsPatient } from "#src/lib/access.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import { NotFound } from "#src/lib/errors.ts";
import { timestamp, uuid } from "#src/lib/text.ts";

/**
 * The in-app inbox: a member's own in_app rows in the organization they are signed in to, bar
 * those about a patient they no longer follow (taken off the care team, a role change).
 */

type Notification = z.infer<typeof NotificationSchema>;

export interface InboxOwner {
  userId: string;
  organizationId: string;
}

const Row = z.object({
  id: z.string(),
  kind: z.string(),
  severity: z.enum(["low", "medium", "high", "critical"]).nullable(),
  subject_type: z.string().nullable(),
  subject_id: z.string().nullable(),
  title: z.string(),
  body: z.string(),
  created_at: z.string(),
  read_at: z.string().nullable(),
  position: z.string(),
});
type Row = z.infer<typeof Row>;

const Position = z.tuple([timestamp(), uuid()]);

const columns = sql`n.id, n.kind, n.severity, n.subject_type, n.subject_id, n.title, n.body, ${isoOf("n.created_at")} as created_at,
  ${isoOf("n.read_at")} as read_at, ${exactOf("n.created_at")} as position`;

/** The member's own in-app rows that they may still see (the notifications row is aliased `n`). */
const inboxOf = (owner: InboxOwner) => {
  const org = sql`${owner.organizationId}::uuid`;
  const user = sql`${owner.userId}::uuid`;
  return sql`n.organization_id = ${org} and n.user_id = ${user} and n.channel = 'in_app' and (n.patient_id is null or ${followsPatient(org, sql`n.patient_id`, user)})`;
};

const view = (row: Row): Notification => ({
  id: row.id,
  kind: row.kind,
  severity: row.severity,
  subjectType: row.subject_type,
  subjectId: row.subject_id,
  title: row.title,
  body: row.body,
  createdAt: row.created_at,
  readAt: row.read_at,
});

export async function listInbox(db: Database, owner: InboxOwner, query: { unread?: "true" | "false" | undefined; cursor?: string | undefined; limit: number }) {
  const after = decodeCursor(query.cursor, Position);
  const scope = scoped(db, owner.organizationId);
  const result = await scope.db.execute(sql`
    select ${columns} from notifications n
    where ${inboxOf(owner)}
      ${query.unread === "true" ? sql`and n.read_at is null` : sql``}
      ${after ? sql`and (n.created_at, n.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``}
    order by n.created_at desc, n.id desc limit ${query.limit + 1}`);
  return pageOf(rowsOf(Row, result), query.limit, view, (row) => [row.position, row.id]);
}

export async function markRead(db: Database, owner: InboxOwner, id: string, now: Date): Promise<Notification> {
  const scope = scoped(db, owner.organizationId);
  const result = await scope.db.execute(sql`
    update notifications n set read_at = coalesce(n.read_at, ${now.toISOString()}::timestamptz), updated_at = now()
    where n.id = ${id}::uuid and ${inboxOf(owner)}
    returning ${columns}`);
  const row = firstRow(Row, result);
  if (!row) throw NotFound("No such notification.");
  return view(row);
}
