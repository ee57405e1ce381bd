// The heartbeat scenario of scripts/bench.ts: POST /api/v1/patients/{id}/heartbeat as the
// patient's own app (a patient member linked to their record, written straight into the bench
// stack's database in the system scope, with an access token minted with the stack's signing
// key), carrying an app version, a battery level and two device events, as a phone sends it
// every few minutes. Each request is one SQL round trip (the heartbeat statement); the table
// shows its CPU ms per request beside the bare Worker's, in the same run.
import { randomUUID } from "node:crypto";
import { neon, neonConfig } from "@neondatabase/serverless";
import { parseConfig } from "../../src/env.ts";
import { signAccessToken } from "../../src/lib/tokens.ts";
import { DEMO_ORGANIZATION } from "../seed.ts";
import { devConfig } from "./api.ts";
import type { Scenario } from "./report.ts";

export interface HeartbeatFixture {
  patientId: string;
  accessToken: string;
}

/** A patient member of the demo organization, linked to a fresh active patient record. */
export async function seedHeartbeatPatient(env: NodeJS.ProcessEnv): Promise<HeartbeatFixture> {
  const config = devConfig(env);
  const endpoint = config.DATABASE_HTTP_ENDPOINT;
  if (endpoint) neonConfig.fetchEndpoint = () => endpoint;
  const sql = neon(config.DATABASE_URL ?? "");
  const org = DEMO_ORGANIZATION.id;
  const userId = randomUUID();
  const patientId = randomUUID();
  await sql.transaction([
    sql`select set_config('app.scope', 'system', true)`,
    sql`insert into users (id, email, name, password_hash, email_verified_at) values (${userId}, ${`bench-patient-${userId.slice(0, 8)}@example.com`}, 'Bench Patient', 'pbkdf2$unused', now())`,
    sql`insert into memberships (organization_id, user_id, role) values (${org}, ${userId}, 'patient')`,
    sql`insert into patients (id, organization_id, user_id, name, timezone) values (${patientId}, ${org}, ${userId}, 'Bench Heartbeat', 'Europe/London')`,
  ]);
  const accessToken = await signAccessToken(parseConfig(config), { userId, organizationId: org, role: "patient", sessionId: randomUUID() });
  return { patientId, accessToken };
}

/** A fresh heartbeat body: two events from the last minutes, as a phone reports them. */
function heartbeatBody(): string {
  const now = Date.now();
  return JSON.stringify({
    appVersion: "2.4.1",
    batteryLevel: 77,
    events: [
      { type: "app_open", at: new Date(now - 120_000).toISOString() },
      { type: "battery", at: new Date(now - 60_000).toISOString(), batteryLevel: 78 },
    ],
  });
}

/** The scenario: every request a fresh heartbeat with two events from the last minutes. */
export async function heartbeatScenarios(env: NodeJS.ProcessEnv, tend: Scenario["target"], connections: number): Promise<Scenario[]> {
  console.log("bench: seeding the heartbeat patient…");
  const fixture = await seedHeartbeatPatient(env);
  return [
    {
      name: "POST /api/v1/patients/{id}/heartbeat",
      target: tend,
      path: `/api/v1/patients/${fixture.patientId}/heartbeat`,
      connections,
      request: { method: "POST", headers: { Authorization: `Bearer ${fixture.accessToken}`, "Content-Type": "application/json" }, body: heartbeatBody() },
      next: (request) => ({ ...request, body: heartbeatBody() }),
      sqlBudget: 1,
    },
  ];
}
