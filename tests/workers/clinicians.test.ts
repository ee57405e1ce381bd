import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { careTeamMembers } from "#src/db/schema/index.ts";
import { invalidateClinicianList, readCachedClinicians, storeCachedClinicians } from "#src/features/clinicians/clinicians.cache.ts";
import { kvCache } from "#src/platform/cloudflare/adapters.ts";
import { systemClock } from "#src/platform/ports.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, patch, type Member, type Tenant } from "./fixtures.ts";
import { api, apiWithEnv, problemOf, testDb, roundTrips } from "./helpers.ts";

interface ClinicianItem {
  id: string;
  name: string;
  email?: string;
  timezone: string;
  patientCount: number;
}

async function listAs(member: { headers: Record<string, string> }) {
  const response = await api("/api/v1/clinicians", { headers: member.headers });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: ClinicianItem[] };
  return { cache: response.headers.get("X-Cache"), trips: roundTrips(response), data: body.data };
}

/** Reads until a KV hit (the miss stores its list after the response, through waitUntil). */
async function hitAs(member: { headers: Record<string, string> }) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const read = await listAs(member);
    if (read.cache === "hit") return read;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the list was never served from KV");
}

const cache = () => kvCache(env.CACHE);
const byId = (data: ClinicianItem[], id: string) => data.find((item) => item.id === id);

describe("GET /clinicians", () => {
  let tenant: Tenant;
  let second: Member;
  beforeAll(async () => {
    tenant = await createTenant("Clinician List Practice");
    second = await addMember(tenant, "clinician", "Zoe Second");
    const { clinician } = tenant.members;
    await insertPatient(tenant, { careTeam: [{ userId: clinician.id }] });
    await insertPatient(tenant, { careTeam: [{ userId: clinician.id }, { userId: second.id, primary: false }] });
    await insertPatient(tenant, { status: "discharged", careTeam: [{ userId: clinician.id }] });
  });

  it("lists the clinicians, by name, with the patients (not discharged) each cares for", async () => {
    const { data } = await listAs(tenant.members.admin);
    expect(data.map((item) => item.id)).toEqual([tenant.members.clinician.id, second.id]);
    expect(byId(data, tenant.members.clinician.id)).toMatchObject({ name: "clinician", patientCount: 2, timezone: "UTC", email: tenant.members.clinician.email });
    expect(byId(data, second.id)?.patientCount).toBe(1);
  });

  it("serves a repeated read from KV with no SQL round trip", async () => {
    await invalidateClinicianList({ cache: cache() }, tenant.organizationId);
    const miss = await listAs(tenant.members.staff);
    expect(miss.cache).toBe("miss");
    expect(miss.trips).toBe(1);
    const hit = await hitAs(tenant.members.staff);
    expect(hit.trips).toBe(0);
    expect(hit.data).toEqual(miss.data);
  });

  it("answers a hit with the database unreachable: the hit never touches it", async () => {
    await hitAs(tenant.members.staff);
    const dead = { DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:9/sql" };
    const hit = await apiWithEnv(dead, "/api/v1/clinicians", { headers: tenant.members.staff.headers });
    expect(hit.status).toBe(200);
    expect(hit.headers.get("X-Cache")).toBe("hit");
  });

  it("shows emails only to callers who may read members", async () => {
    const caregiver = await hitAs(tenant.members.caregiver);
    expect(caregiver.data.length).toBe(2);
    expect(caregiver.data.every((item) => item.email === undefined)).toBe(true);
    const staff = await hitAs(tenant.members.staff);
    expect(staff.data.every((item) => typeof item.email === "string")).toBe(true);
  });

  it("refuses a patient (403) and serves an API key with the scope", async () => {
    const refused = await api("/api/v1/clinicians", { headers: tenant.members.patient.headers });
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).detail).toMatch(/clinicians:read/);
    const created = await api("/api/v1/api-keys", jsonBody({ name: "directory", scopes: ["clinicians:read"] }, tenant.members.admin.headers));
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const read = await listAs({ headers: { "X-API-Key": key } });
    expect(read.data.length).toBe(2);
  });
});

describe("invalidation and read-your-writes", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Invalidation Practice");
  });

  it("a role change shows at once to the writer and to everyone else", async () => {
    const newcomer = await addMember(tenant, "staff", "Nora Newcomer");
    await hitAs(tenant.members.admin);
    const changed = await api(`/api/v1/members/${newcomer.id}`, patch({ role: "clinician" }, tenant.members.admin.headers));
    expect(changed.status).toBe(200);
    const writer = await listAs(tenant.members.admin);
    expect(writer.cache).toBe("miss");
    expect(byId(writer.data, newcomer.id)).toMatchObject({ name: "Nora Newcomer", patientCount: 0 });
    const other = await hitAs(tenant.members.caregiver);
    expect(byId(other.data, newcomer.id)).toBeDefined();

    const demoted = await api(`/api/v1/members/${newcomer.id}`, patch({ role: "caregiver" }, tenant.members.admin.headers));
    expect(demoted.status).toBe(200);
    expect(byId((await listAs(tenant.members.admin)).data, newcomer.id)).toBeUndefined();
  });

  it("a removal drops the clinician from the list at once", async () => {
    const leaving = await addMember(tenant, "clinician", "Leo Leaving");
    await invalidateClinicianList({ cache: cache() }, tenant.organizationId);
    expect(byId((await hitAs(tenant.members.admin)).data, leaving.id)).toBeDefined();
    const removed = await api(`/api/v1/members/${leaving.id}`, { method: "DELETE", headers: tenant.members.admin.headers });
    expect(removed.status).toBe(204);
    const after = await listAs(tenant.members.admin);
    expect(after.cache).toBe("miss");
    expect(byId(after.data, leaving.id)).toBeUndefined();
  });

  it("a role change that concerns no clinician keeps the cached list", async () => {
    const helper = await addMember(tenant, "staff");
    await hitAs(tenant.members.admin);
    const changed = await api(`/api/v1/members/${helper.id}`, patch({ role: "caregiver" }, tenant.members.admin.headers));
    expect(changed.status).toBe(200);
    expect((await listAs(tenant.members.admin)).cache).toBe("hit");
  });

  it("a care-team change shows in the counts once invalidated", async () => {
    const { clinician } = tenant.members;
    const before = byId((await hitAs(tenant.members.admin)).data, clinician.id)?.patientCount ?? 0;
    const patientId = await insertPatient(tenant);
    const db = testDb();
    const viaApi = await api(`/api/v1/patients/${patientId}/care-team`, jsonBody({ userId: clinician.id, relationship: "therapist", isPrimary: true }, tenant.members.admin.headers));
    if (viaApi.status !== 404 && viaApi.status !== 405) expect(viaApi.status).toBe(201);
    else {
      // the care-team route is not there yet: the write and its invalidation, as that route does them
      await db.insert(careTeamMembers).values({ organizationId: tenant.organizationId, patientId, userId: clinician.id, relationship: "therapist", isPrimary: true });
      await invalidateClinicianList({ cache: cache() }, tenant.organizationId);
    }
    const after = await listAs(tenant.members.admin);
    expect(after.cache).toBe("miss");
    expect(byId(after.data, clinician.id)?.patientCount).toBe(before + 1);

    if (viaApi.status === 201) {
      await hitAs(tenant.members.admin);
      const removed = await api(`/api/v1/patients/${patientId}/care-team/${clinician.id}`, { method: "DELETE", headers: tenant.members.admin.headers });
      expect(removed.status).toBe(204);
      expect(byId((await listAs(tenant.members.admin)).data, clinician.id)?.patientCount).toBe(before);
      const again = await api(`/api/v1/patients/${patientId}/care-team`, jsonBody({ userId: clinician.id, relationship: "therapist", isPrimary: true }, tenant.members.admin.headers));
      expect(again.status).toBe(201);
    }

    // Archiving (DELETE: discharged) takes the patient out of the counts, at once for the writer.
    await hitAs(tenant.members.admin);
    const archived = await api(`/api/v1/patients/${patientId}`, { method: "DELETE", headers: tenant.members.admin.headers });
    expect(archived.status).toBe(204);
    const afterArchive = await listAs(tenant.members.admin);
    expect(afterArchive.cache).toBe("miss");
    expect(byId(afterArchive.data, clinician.id)?.patientCount).toBe(before);
  });

  it("new working hours change the listed timezone at once", async () => {
    const { clinician } = tenant.members;
    await hitAs(tenant.members.staff);
    const put = await api(
      `/api/v1/clinicians/${clinician.id}/working-hours`,
      jsonBody({ timezone: "Europe/Berlin", intervals: [{ weekday: 1, start: "09:00", end: "17:00" }] }, clinician.headers, "PUT"),
    );
    expect(put.status).toBe(200);
    expect(byId((await listAs(clinician)).data, clinician.id)?.timezone).toBe("Europe/Berlin");
  });

  it("never serves a list that a reader built before a write but stored after its invalidation", async () => {
    const org = tenant.organizationId;
    const deps = { cache: cache(), clock: systemClock };
    await invalidateClinicianList(deps, org);
    const before = await readCachedClinicians(deps, org);
    if (before.hit) throw new Error("expected a miss right after an invalidation");
    // a slow reader: it read the version and queried the database; meanwhile a write commits and invalidates
    await invalidateClinicianList(deps, org);
    await storeCachedClinicians(deps, org, { version: before.version, builtAt: Date.now() - 5000 }, [{ id: "stale", name: "Stale", email: "s@example.test", timezone: "UTC", patientCount: 9 }]);
    expect((await readCachedClinicians(deps, org)).hit).toBe(false);
    const read = await listAs(tenant.members.admin);
    expect(read.cache).toBe("miss");
    expect(byId(read.data, "stale")).toBeUndefined();
  });
});

describe("read-your-writes where KV has not caught up", () => {
  it("the writer sees their change at once; others may see the old list within the TTL", async () => {
    const tenant = await createTenant("Remote Location Practice");
    const newcomer = await addMember(tenant, "staff", "Rita Remote");
    const org = tenant.organizationId;
    await invalidateClinicianList({ cache: cache() }, org);
    await hitAs(tenant.members.admin);
    const keys = [`clinicians:v2:${org}:version`, `clinicians:v2:${org}:list`];
    const snapshot = await Promise.all(keys.map((key) => env.CACHE.get(key)));

    const changed = await api(`/api/v1/members/${newcomer.id}`, patch({ role: "clinician" }, tenant.members.admin.headers));
    expect(changed.status).toBe(200);
    // the writer's next request lands in a location whose KV still holds the old version and list
    await Promise.all(keys.map((key, i) => (snapshot[i] === null ? env.CACHE.delete(key) : env.CACHE.put(key, snapshot[i] ?? "", { expirationTtl: 60 }))));

    const other = await listAs(tenant.members.staff);
    expect(other.cache).toBe("hit");
    expect(byId(other.data, newcomer.id)).toBeUndefined();
    const writer = await listAs(tenant.members.admin);
    expect(writer.cache).toBe("miss");
    expect(byId(writer.data, newcomer.id)).toMatchObject({ name: "Rita Remote" });
  });
});

describe("organization-scoped keys", () => {
  it("keeps each tenant's list apart, and one tenant's change leaves the other's cached", async () => {
    const [a, b] = await Promise.all([createTenant("Tenant A"), createTenant("Tenant B")]);
    const listA = await hitAs(a.members.admin);
    const listB = await hitAs(b.members.admin);
    expect(listA.data.map((item) => item.id)).toEqual([a.members.clinician.id]);
    expect(listB.data.map((item) => item.id)).toEqual([b.members.clinician.id]);
    const keys = (await env.CACHE.list({ prefix: "clinicians:" })).keys.map((key) => key.name);
    expect(keys).toContain(`clinicians:v2:${a.organizationId}:list`);
    expect(keys).toContain(`clinicians:v2:${b.organizationId}:list`);

    await addMember(a, "clinician");
    await invalidateClinicianList({ cache: cache() }, a.organizationId);
    expect((await listAs(a.members.admin)).data).toHaveLength(2);
    const stillB = await listAs(b.members.admin);
    expect(stillB.cache).toBe("hit");
    expect(stillB.data).toEqual(listB.data);
  });
});

describe("who may call the clinician routes", () => {
  it("answers every role as the permissions say", async () => {
    const tenant = await createTenant("Clinician Matrix Practice");
    const target = tenant.members.clinician.id;
    const reads = [
      "/api/v1/clinicians",
      `/api/v1/clinicians/${target}/working-hours`,
      `/api/v1/availability?clinicianId=${target}&from=2027-04-05T00:00:00Z&to=2027-04-06T00:00:00Z&duration=60`,
    ];
    const hours = { timezone: "UTC", intervals: [{ weekday: 1, start: "09:00", end: "17:00" }] };
    const expected: Record<string, { read: number; put: number }> = {
      owner: { read: 200, put: 200 },
      admin: { read: 200, put: 200 },
      clinician: { read: 200, put: 200 },
      staff: { read: 200, put: 403 },
      caregiver: { read: 200, put: 403 },
      patient: { read: 403, put: 403 },
    };
    for (const [role, member] of Object.entries(tenant.members)) {
      for (const path of reads) expect((await api(path, { headers: member.headers })).status, `${role} GET ${path}`).toBe(expected[role]?.read);
      const put = await api(`/api/v1/clinicians/${target}/working-hours`, jsonBody(hours, member.headers, "PUT"));
      expect(put.status, `${role} PUT`).toBe(expected[role]?.put);
    }
  });
});
