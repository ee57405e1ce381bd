import { type SQL, sql } from "drizzle-orm";
import { outboxColumns } from "#src/features/notifications/notifications.outbox.ts";
import { channelAfter } from "#src/features/notifications/notifications.prefs.ts";
import { SQL_UUIDV7 } from "#src/lib/ids.ts";

/**
 * The next channel's row for each failed row of the CTE `failed` (push -> SMS -> email, skipping
 * what the person cannot get), as the statement's final insert; it returns the new rows, to
 * enqueue. The dedupe key swaps its channel, so a replayed failure adds nothing.
 */
export function fallbackInsert(failed: string): SQL {
  const f = sql.raw(failed);
  return sql`insert into notifications (id, organization_id, user_id, channel, kind, severity, subject_type, subject_id, patient_id, dedupe_key, title, body)
    select ${sql.raw(SQL_UUIDV7)}, f.organization_id, f.user_id, next.channel, f.kind, f.severity, f.subject_type, f.subject_id, f.patient_id,
      regexp_replace(f.dedupe_key, ':[a-z_]+$', '') || ':' || next.channel, f.title, f.body
    from ${f} f
    cross join lateral (select ${channelAfter(sql`f.organization_id`, sql`f.user_id`, sql`f.channel`)} as channel) next
    where next.channel is not null
    on conflict (organization_id, dedupe_key) do nothing
    returning ${outboxColumns("notifications")}`;
}
