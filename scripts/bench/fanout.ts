// WebSocket fan-out: 500 live-updates sockets across 50 users (BENCH_FANOUT_USERS ×
// BENCH_FANOUT_SOCKETS) on the local stack, each user an admin of an organization of the bench's
// own, so every appointment booked there reaches all of them. BENCH_FANOUT_EVENTS (40) bookings go
// through the API one after the other, each waiting until every socket has its event: the real
// path (POST /appointments → outbox → events.dispatch on the jobs queue → the realtime consumer →
// Realtime.publish → 51 NotificationHub objects in parallel → 500 sockets). Reports, per delivered
// message, publish→receive (the message's `at`, stamped by the Worker when it called publish, to
// the client's receipt: the same machine's clock) and write→receive (from the booking's response:
// adds the local queue's batching, up to max_batch_timeout = 1 s), after BENCH_FANOUT_WARMUP (3) events not
// counted, and each event's slowest socket. Budget: publish→receive p99 < 250 ms.
// Part of `npm run bench` (BENCH_ONLY=fanout for this alone), or `node scripts/bench/fanout.ts`.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { neon, neonConfig } from "@neondatabase/serverless";
import { parseConfig } from "../../src/env.ts";
import { signAccessToken } from "../../src/lib/tokens.ts";
import { devConfig } from "./api.ts";
import { snapshotTree, startStack, type Stack } from "./stack.ts";

const envInt = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const USERS = envInt("BENCH_FANOUT_USERS", 50);
const SOCKETS_PER_USER = envInt("BENCH_FANOUT_SOCKETS", 10);
const EVENTS = envInt("BENCH_FANOUT_EVENTS", 40);
/** Events first sent and not measured: the consumer's and the hubs' first calls. */
const WARMUP_EVENTS = envInt("BENCH_FANOUT_WARMUP", 3);
const EVENT_TIMEOUT_MS = 15_000;
export const FANOUT_P99_BUDGET_MS = 250;

export interface FanoutResult {
  sockets: number;
  events: number;
  delivered: number;
  missing: number;
  publishP50: number;
  publishP99: number;
  writeP50: number;
  writeP99: number;
}

interface Fixture {
  organizationId: string;
  clinicianId: string;
  patientId: string;
  tokens: string[];
}

/** The organization, its admins (with tokens), a clinician working around the clock and a patient on their care team. */
async function seed(env: NodeJS.ProcessEnv): Promise<Fixture> {
  const config = devConfig(env);
  if (config.DATABASE_HTTP_ENDPOINT) neonConfig.fetchEndpoint = () => config.DATABASE_HTTP_ENDPOINT ?? "";
  const sql = neon(config.DATABASE_URL ?? "");
  const organizationId = randomUUID();
  const clinicianId = randomUUID();
  const patientId = randomUUID();
  const admins = Array.from({ length: USERS }, () => ({ id: randomUUID(), email: `bench-fanout-${randomUUID()}@example.com` }));
  const allDay = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: "00:00", end: "24:00" }));
  await sql.transaction([
    sql`select set_config('app.scope', 'system', true)`,
    sql`insert into organizations (id, name, slug) values (${organizationId}, 'Bench Fan-out', ${`bench-fanout-${organizationId.slice(0, 8)}`})`,
    sql`insert into users (id, email, name, password_hash, email_verified_at)
      select r.id, r.email, 'Bench Admin', 'pbkdf2$unused', now() from jsonb_to_recordset(${JSON.stringify(admins)}::jsonb) as r(id uuid, email text)`,
    sql`insert into users (id, email, name, password_hash, email_verified_at) values (${clinicianId}, ${`bench-fanout-clinician-${clinicianId}@example.com`}, 'Bench Clinician', 'pbkdf2$unused', now())`,
    sql`insert into memberships (organization_id, user_id, role)
      select ${organizationId}, r.id, 'admin' from jsonb_to_recordset(${JSON.stringify(admins)}::jsonb) as r(id uuid)`,
    sql`insert into memberships (organization_id, user_id, role) values (${organizationId}, ${clinicianId}, 'clinician')`,
    sql`insert into working_hours (organization_id, user_id, timezone, intervals) values (${organizationId}, ${clinicianId}, 'UTC', ${JSON.stringify(allDay)}::jsonb)`,
    sql`insert into patients (id, organization_id, name, timezone) values (${patientId}, ${organizationId}, 'Fan-out Patient', 'UTC')`,
    sql`insert into care_team_members (organization_id, patient_id, user_id, relationship, is_primary) values (${organizationId}, ${patientId}, ${clinicianId}, 'clinician', true)`,
  ]);
  const parsed = parseConfig(config);
  const tokens = await Promise.all(admins.map((admin) => signAccessToken(parsed, { userId: admin.id, organizationId, role: "admin", sessionId: randomUUID() })));
  return { organizationId, clinicianId, patientId, tokens };
}

interface LiveSocket {
  socket: WebSocket;
  /** Receipt time (ms) and message, per event subject (the appointment id). */
  received: Map<string, { at: number; receivedAt: number }>;
}

/** One ticket, one socket, as a native client would open it (no Origin header). */
async function open(base: string, token: string, onMessage: () => void): Promise<LiveSocket> {
  const response = await fetch(`${base}/api/v1/realtime/ticket`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`POST /realtime/ticket answered ${response.status}: ${await response.text()}`);
  const { ticket } = (await response.json()) as { ticket: string };
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/api/v1/realtime?ticket=${encodeURIComponent(ticket)}`);
  const live: LiveSocket = { socket, received: new Map() };
  socket.addEventListener("message", (event) => {
    const receivedAt = Date.now();
    const message = JSON.parse(String(event.data)) as { type: string; at: string; data: { appointmentId?: string } };
    if (message.type !== "appointment.scheduled" || !message.data.appointmentId) return;
    live.received.set(message.data.appointmentId, { at: Date.parse(message.at), receivedAt });
    onMessage();
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("a socket failed to open")), { once: true });
  });
  return live;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN);
};

export async function runFanout(stack: Stack): Promise<FanoutResult> {
  console.log(`bench: fan-out: ${USERS} users × ${SOCKETS_PER_USER} sockets, ${EVENTS} events…`);
  const fixture = await seed(stack.env);
  const waiter = { wake: (): void => undefined };
  const sockets: LiveSocket[] = [];
  for (const token of fixture.tokens) {
    sockets.push(...(await Promise.all(Array.from({ length: SOCKETS_PER_USER }, () => open(stack.base, token, () => waiter.wake())))));
  }
  const publishMs: number[] = [];
  const writeMs: number[] = [];
  /** Per event, its last socket's publish→receive: how the tail is spread over events. */
  const slowest: number[] = [];
  let missing = 0;
  const start = Date.UTC(2032, 0, 5, 0, 0);
  try {
    for (let index = 0; index < WARMUP_EVENTS + EVENTS; index++) {
      const startsAt = new Date(start + index * 30 * 60_000);
      const response = await fetch(`${stack.base}/api/v1/appointments`, {
        method: "POST",
        headers: { Authorization: `Bearer ${fixture.tokens[0]}`, "Content-Type": "application/json" },
        body: JSON.stringify({ patientId: fixture.patientId, clinicianId: fixture.clinicianId, startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + 20 * 60_000).toISOString(), kind: "in_person" }),
      });
      const wroteAt = Date.now();
      if (response.status !== 201) throw new Error(`POST /appointments answered ${response.status}: ${await response.text()}`);
      const { id } = (await response.json()) as { id: string };
      const deadline = wroteAt + EVENT_TIMEOUT_MS;
      while (sockets.some((live) => !live.received.has(id)) && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          waiter.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (sockets.every((live) => !live.received.has(id))) throw new Error(`no socket received event ${index + 1} within ${EVENT_TIMEOUT_MS / 1000} s: is the jobs queue consumed?`);
      if (index < WARMUP_EVENTS) continue;
      const firstPublishMs = publishMs.length;
      for (const live of sockets) {
        const got = live.received.get(id);
        if (!got) {
          missing++;
          continue;
        }
        publishMs.push(got.receivedAt - got.at);
        writeMs.push(got.receivedAt - wroteAt);
      }
      slowest.push(Math.max(...publishMs.slice(firstPublishMs)));
    }
  } finally {
    for (const live of sockets) live.socket.close(1000);
  }
  const result: FanoutResult = {
    sockets: sockets.length,
    events: EVENTS,
    delivered: publishMs.length,
    missing,
    publishP50: percentile(publishMs, 50),
    publishP99: percentile(publishMs, 99),
    writeP50: percentile(writeMs, 50),
    writeP99: percentile(writeMs, 99),
  };
  const verdict = result.publishP99 < FANOUT_P99_BUDGET_MS && missing === 0 ? "within budget" : "OVER BUDGET";
  console.log(
    `bench: fan-out: ${result.delivered}/${result.sockets * result.events} messages delivered (${missing} missing); ` +
      `publish→receive p50 ${result.publishP50} ms, p99 ${result.publishP99} ms (budget p99 < ${FANOUT_P99_BUDGET_MS} ms: ${verdict}); ` +
      `write→receive p50 ${result.writeP50} ms, p99 ${result.writeP99} ms (includes the local queue's batching); ` +
      `per event, the last socket: median ${percentile(slowest, 50)} ms, worst ${Math.max(...slowest)} ms (${WARMUP_EVENTS} warm-up events not counted)`,
  );
  return result;
}

/** Standalone: its own stack from a copy of the committed tree (the working tree with BENCH_WORKING_TREE=1). */
async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "tend-fanout-tree-"));
  const stack = await startStack(process.env.BENCH_WORKING_TREE === "1" ? {} : { root: snapshotTree(dir) });
  const stop = () => void stack.stop(false).then(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const result = await runFanout(stack);
    return result.missing === 0 ? 0 : 1;
  } finally {
    await stack.stop(false);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`bench: fan-out: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
