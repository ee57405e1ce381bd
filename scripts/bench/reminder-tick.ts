// The reminder tick over 10,000 active schedules (scripts/bench.ts runs it after the HTTP
// scenarios; BENCH_ONLY=reminder runs it alone). Seeds 2,000 patients of the demo organization
// across eight timezones with five schedules each, in set-based statements (generate_series),
// every schedule with one local time due at the bench instant, so one tick inserts 10,000
// reminders and their 10,000 reminder.due events in its one statement. The instant is a minute
// 30 days ahead and the schedules run that local day only, so the dev stack's own cron never
// fires them, and the events are marked dispatched afterwards so its sweeper leaves them alone.
// Then the same tick again (a redelivery: nothing to insert) and the missed step at the end of
// the grace period. Prints each step's ms and SQL round trips, counted by the client and by the
// gateway.
import { neon, neonConfig } from "@neondatabase/serverless";
import { createDb } from "../../src/db/client.ts";
import { parseConfig } from "../../src/env.ts";
import { generateDueReminders, markMissedReminders, type TickDeps } from "../../src/features/reminders/reminders.tick.ts";
import { SQL_UUIDV7 } from "../../src/lib/ids.ts";
import { Timing } from "../../src/lib/timing.ts";
import { DEMO_ORGANIZATION } from "../seed.ts";
import { devConfig } from "./api.ts";
import type { Stack } from "./stack.ts";

export const TICK_PATIENTS = 2000;
export const SCHEDULES_PER_PATIENT = 5;
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland", "Australia/Adelaide"];
const RUN = "bench:reminder-tick";

/** The bench instant: a whole minute 30 days from now. */
const benchInstant = () => new Date(Math.floor((Date.now() + 30 * 86_400_000) / 60_000) * 60_000);

async function seed(env: NodeJS.ProcessEnv, now: Date): Promise<void> {
  const config = devConfig(env);
  const endpoint = config.DATABASE_HTTP_ENDPOINT;
  if (endpoint) neonConfig.fetchEndpoint = () => endpoint;
  const sql = neon(config.DATABASE_URL ?? "");
  const at = now.toISOString();
  await sql.transaction([
    sql`select set_config('app.scope', 'system', true)`,
    sql.query(
      `insert into patients (id, organization_id, name, status, timezone, created_at, updated_at)
       select ${SQL_UUIDV7}, $1::uuid, 'Tick Patient ' || g, 'active', ($2::text[])[1 + g % cardinality($2::text[])], now(), now()
       from generate_series(1, $3::int) as g`,
      [DEMO_ORGANIZATION.id, `{${ZONES.join(",")}}`, TICK_PATIENTS],
    ),
    // Each schedule: the local minute before the instant (due in the tick's window) and two more;
    // the patient's local date of the instant is its only day.
    sql.query(
      `insert into schedules (id, organization_id, patient_id, kind, title, dose, times_of_day, start_date, end_date, grace_minutes, created_at, updated_at)
       select ${SQL_UUIDV7}, p.organization_id, p.id, k.kind, 'Bench task', case when k.kind = 'medication' then '1 tablet' end,
         array[to_char(($2::timestamptz - interval '1 minute') at time zone p.timezone, 'HH24:MI'), '06:15', '21:45'],
         (($2::timestamptz - interval '1 minute') at time zone p.timezone)::date, (($2::timestamptz - interval '1 minute') at time zone p.timezone)::date,
         30, $2::timestamptz - interval '1 day', $2::timestamptz - interval '1 day'
       from patients p cross join generate_series(1, $3::int) as n
       cross join lateral (select (array['medication', 'exercise', 'check_in'])[1 + n % 3] as kind) as k
       where p.organization_id = $1::uuid and p.name like 'Tick Patient %'`,
      [DEMO_ORGANIZATION.id, at, SCHEDULES_PER_PATIENT],
    ),
  ]);
}

async function gatewayCount(gateway: string): Promise<number> {
  const response = await fetch(`${gateway}/stats`);
  return ((await response.json()) as { sqlRequests: number }).sqlRequests;
}

/** One step, timed: its ms, the client's round trips and the gateway's SQL requests. */
async function timed(stack: Stack, name: string, step: (deps: TickDeps) => Promise<{ length: number }>): Promise<string> {
  const timing = new Timing();
  const config = parseConfig(devConfig(stack.env));
  const enqueued = { count: 0 };
  const deps: TickDeps = {
    db: createDb(config, { timing }),
    origin: { ip: null, userAgent: null, requestId: RUN },
    jobs: { enqueue: async () => void enqueued.count++, ping: async () => undefined },
    logger: { log: () => undefined } as unknown as TickDeps["logger"],
  };
  const before = await gatewayCount(stack.gateway);
  const started = performance.now();
  const events = await step(deps);
  const ms = performance.now() - started;
  const gateway = (await gatewayCount(stack.gateway)) - before;
  return `bench: reminder tick: ${name}: ${ms.toFixed(0)} ms, ${timing.dbCalls} SQL round trips (gateway: ${gateway}), ${events.length} events, ${enqueued.count} enqueued`;
}

/** Seeds, runs the tick, its redelivery and the missed step, prints the figures, and tidies up. */
export async function benchReminderTick(stack: Stack): Promise<string[]> {
  const now = benchInstant();
  console.log(`bench: reminder tick: seeding ${TICK_PATIENTS * SCHEDULES_PER_PATIENT} schedules over ${TICK_PATIENTS} patients in ${ZONES.length} timezones…`);
  await seed(stack.env, now);
  const lines = [
    await timed(stack, `generate over ${TICK_PATIENTS * SCHEDULES_PER_PATIENT} active schedules`, (deps) => generateDueReminders(deps, now)),
    await timed(stack, "the same tick again (redelivery, nothing new)", (deps) => generateDueReminders(deps, now)),
    await timed(stack, "missed, 31 minutes on", (deps) => markMissedReminders(deps, new Date(now.getTime() + 31 * 60_000))),
  ];
  for (const line of lines) console.log(line);
  const config = devConfig(stack.env);
  const sql = neon(config.DATABASE_URL ?? "");
  await sql.transaction([sql`select set_config('app.scope', 'system', true)`, sql`update domain_events set dispatched_at = now() where request_id = ${RUN} and dispatched_at is null`]);
  return lines;
}
