import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { isoOf } from "#src/db/sql-time.ts";
import type { DeviceRegisterSchema, DeviceSchema } from "#src/features/devices/devices.routes.ts";
import { NotFound } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";

/** A person's push tokens: push_devices belongs to the user, not a practice (no tenant scope). */

type Device = z.infer<typeof DeviceSchema>;

const DeviceRow = z.object({
  id: z.string(),
  platform: z.enum(["ios", "android", "web"]),
  label: z.string().nullable(),
  created_at: z.string(),
  last_seen_at: z.string(),
});

const columns = sql`id, platform, label, ${isoOf("created_at")} as created_at, ${isoOf("last_seen_at")} as last_seen_at`;

const view = (row: z.infer<typeof DeviceRow>): Device => ({
  id: row.id,
  platform: row.platform,
  label: row.label,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
});

export async function listDevices(db: Database, userId: string): Promise<Device[]> {
  const result = await db.execute(sql`select ${columns} from push_devices where user_id = ${userId}::uuid order by created_at desc, id desc limit 100`);
  return rowsOf(DeviceRow, result).map(view);
}

/** A person's devices at most: registering one more forgets the one least recently seen. */
export const DEVICES_PER_USER = 10;

/**
 * Upsert by token, in one statement, keeping the person's newest DEVICES_PER_USER; `created`
 * tells a new token from a known one.
 */
export async function registerDevice(db: Database, userId: string, input: z.infer<typeof DeviceRegisterSchema>): Promise<{ device: Device; created: boolean }> {
  const result = await db.execute(sql`
    with registered as (
      insert into push_devices as d (id, user_id, token, platform, label)
      values (${uuidv7()}::uuid, ${userId}::uuid, ${input.token}, ${input.platform}, ${input.label ?? null})
      on conflict (token) do update set user_id = excluded.user_id, platform = excluded.platform,
        label = coalesce(excluded.label, case when d.user_id = excluded.user_id then d.label end), last_seen_at = now()
      returning ${columns}, (xmax = 0) as created
    ), pruned as (
      delete from push_devices p where p.user_id = ${userId}::uuid and p.token <> ${input.token}
        and p.id not in (select o.id from push_devices o where o.user_id = ${userId}::uuid and o.token <> ${input.token}
          order by o.last_seen_at desc, o.id desc limit ${DEVICES_PER_USER - 1})
    )
    select * from registered`);
  const row = firstRow(DeviceRow.extend({ created: z.boolean() }), result);
  if (!row) throw new Error("device upsert returned no row");
  return { device: view(row), created: row.created };
}

export async function deleteDevice(db: Database, userId: string, id: string): Promise<void> {
  const result = await db.execute(sql`delete from push_devices where id = ${id}::uuid and user_id = ${userId}::uuid returning id`);
  if (!firstRow(z.object({ id: z.string() }), result)) throw NotFound("No such device.");
}
