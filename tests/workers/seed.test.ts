import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { rowsOf } from "#src/db/rows.ts";
import type { Dashboard } from "#src/features/dashboard/dashboard.service.ts";
import { noteHashSql } from "#src/features/notes/notes.canonical.ts";
import { DEMO_ORGANIZATION, DEMO_PATIENTS, DEMO_USERS, seed } from "../../scripts/seed.ts";
import { jsonBody, uniqueIp } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";

const org = DEMO_ORGANIZATION.id;
const Counts = z.object({
  users: z.coerce.number(),
  patients: z.coerce.number(),
  team: z.coerce.number(),
  hours: z.coerce.number(),
  appointments: z.coerce.number(),
  notes: z.coerce.number(),
  signed: z.coerce.number(),
  addenda: z.coerce.number(),
});

async function counts() {
  const result = await testDb().execute(sql`select
      (select count(*) from memberships where organization_id = ${org}) as users,
      (select count(*) from patients where organization_id = ${org}) as patients,
      (select count(*) from care_team_members where organization_id = ${org}) as team,
      (select count(*) from working_hours where organization_id = ${org}) as hours,
      (select count(*) from appointments where organization_id = ${org}) as appointments,
      (select count(*) from progress_notes where organization_id = ${org}) as notes,
      (select count(*) from progress_notes where organization_id = ${org} and status = 'signed') as signed,
      (select count(*) from note_addenda where organization_id = ${org}) as addenda`);
  return rowsOf(Counts, result)[0];
}

const seedDemo = () => seed(env.DATABASE_URL, env.DATABASE_HTTP_ENDPOINT, env.PASSWORD_PEPPERS, { log: () => {} });

describe("the demo practice seed", () => {
  beforeAll(async () => {
    await seedDemo();
  });

  it("seeds the members, patients with care teams, this week's appointments and notes, and changes nothing when run again", async () => {
    const first = await counts();
    expect(first).toMatchObject({ users: DEMO_USERS.length, patients: DEMO_PATIENTS.length, hours: 2, signed: 6, addenda: 1 });
    expect(first?.team).toBeGreaterThanOrEqual(DEMO_PATIENTS.length);
    expect(first?.notes).toBeGreaterThan(first?.signed ?? 0);
    expect(first?.appointments).toBeGreaterThanOrEqual(29);
    expect(await seedDemo()).toBe(false);
    expect(await counts()).toEqual(first);
  });

  it("books every appointment inside its clinician's working hours, this week in the practice's time zone", async () => {
    const outside = await testDb().execute(sql`select count(*) as n from appointments a
      join working_hours w on w.organization_id = a.organization_id and w.user_id = a.clinician_id
      where a.organization_id = ${org} and not exists (
        select 1 from jsonb_to_recordset(w.intervals) as i(weekday int, start text, "end" text)
        where extract(isodow from a.starts_at at time zone w.timezone) = i.weekday
          and (a.starts_at at time zone w.timezone)::time >= i.start::time
          and (a.ends_at at time zone w.timezone)::time <= i."end"::time)`);
    expect(rowsOf(z.object({ n: z.coerce.number() }), outside)[0]?.n).toBe(0);
    const thisWeek = await testDb().execute(sql`select count(*) as n from appointments a, organizations o
      where o.id = ${org} and a.organization_id = o.id
        and a.starts_at >= date_trunc('week', now() at time zone o.timezone) at time zone o.timezone
        and a.starts_at < (date_trunc('week', now() at time zone o.timezone) + interval '7 days') at time zone o.timezone`);
    expect(rowsOf(z.object({ n: z.coerce.number() }), thisWeek)[0]?.n).toBeGreaterThanOrEqual(29);
  });

  it("signs notes with the SHA-256 of their canonical content, as the sign route does", async () => {
    const result = await testDb().execute(sql`select n.content_hash = ${noteHashSql("n")} as ok from progress_notes n where n.organization_id = ${org} and n.status = 'signed'`);
    const rows = rowsOf(z.object({ ok: z.boolean() }), result);
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.ok)).toBe(true);
  });

  it("lets every printed demo login sign in, and shows a clinician their practice", async () => {
    for (const user of DEMO_USERS) {
      const response = await api("/api/v1/auth/login", jsonBody({ email: user.email, password: user.password }, { "CF-Connecting-IP": uniqueIp() }));
      expect(response.status, user.email).toBe(200);
      if (user.role !== "clinician") continue;
      const { tokens } = (await response.json()) as { tokens: { accessToken: string } };
      const dashboard = await api("/api/v1/dashboard", { headers: { Authorization: `Bearer ${tokens.accessToken}` } });
      expect(dashboard.status).toBe(200);
      const body = (await dashboard.json()) as Dashboard;
      expect(body.timezone).toBe("Europe/London");
      expect(body.activePatients).toBeGreaterThanOrEqual(4);
    }
  });
});
