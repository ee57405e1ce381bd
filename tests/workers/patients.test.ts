import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditEvents, careTeamMembers, domainEvents, organizations, patients } from "#src/db/schema/index.ts";
import { encodeCursor } from "#src/lib/cursor.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, patch, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

interface PatientBody {
  id: string;
  name: string;
  phone: string | null;
  status: string;
  version: number;
  language: string;
  [key: string]: unknown;
}

const withId = (headers: Record<string, string>, requestId: string) => ({ ...headers, "X-Request-ID": requestId });
const requestIdOf = (label: string) => `${label}-${uuidv7()}`;

/** A patient cared for by the tenant's clinician (primary) and caregiver, not linked to a member. */
const caredPatient = (tenant: Tenant, name: string) =>
  insertPatient(tenant, {
    name,
    careTeam: [
      { userId: tenant.members.clinician.id, relationship: "therapist", primary: true },
      { userId: tenant.members.caregiver.id, relationship: "daughter", primary: false },
    ],
  });

async function auditFor(requestId: string) {
  return testDb().select().from(auditEvents).where(eq(auditEvents.requestId, requestId));
}

async function create(member: Member, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api("/api/v1/patients", jsonBody(body, { ...member.headers, ...headers }));
}

async function createdPatient(member: Member, body: Record<string, unknown>): Promise<PatientBody> {
  const response = await create(member, body);
  expect(response.status).toBe(201);
  return (await response.json()) as PatientBody;
}

describe("POST /patients", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Patients Create Practice");
  });

  it("creates a patient with every field, answering 201 with Location and ETag, in one round trip", async () => {
    const requestId = requestIdOf("create");
    const response = await create(
      tenant.members.admin,
      {
        name: "Ada Lovelace",
        preferredName: "Ada",
        dateOfBirth: "1961-04-12",
        email: "ada@example.test",
        phone: "+44 (20) 7946-0958",
        address: "12 St James's Square\nLondon",
        status: "active",
        timezone: "Europe/London",
        language: "en-gb",
        preferredVoice: "female",
        communicationStyle: "formal",
        profilePhotoUrl: "https://cdn.example/ada.jpg",
        inactivityThresholdMinutes: 120,
      },
      { "X-Request-ID": requestId },
    );
    expect(response.status).toBe(201);
    const body = (await response.json()) as PatientBody;
    expect(response.headers.get("Location")).toBe(`/api/v1/patients/${body.id}`);
    expect(response.headers.get("ETag")).toBe('"1"');
    expect(response.headers.get("Server-Timing")).toContain('"1 round trips"');
    expect(body).toMatchObject({
      name: "Ada Lovelace",
      preferredName: "Ada",
      dateOfBirth: "1961-04-12",
      phone: "+442079460958",
      language: "en-GB",
      preferredVoice: "female",
      communicationStyle: "formal",
      inactivityThresholdMinutes: 120,
      appVersion: null,
      lastHeartbeatAt: null,
      version: 1,
      userId: null,
    });
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: "patient.created", targetId: body.id, patientIds: [body.id] });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.requestId, requestId));
    expect(events.map((event) => [event.type, event.subjectId])).toEqual([["patient.created", body.id]]);
    expect(JSON.stringify(events[0]?.payload)).not.toContain("Ada");
  });

  it("puts a creating clinician on the care team as primary", async () => {
    const body = await createdPatient(tenant.members.clinician, { name: "Clinician Made" });
    const team = await api(`/api/v1/patients/${body.id}/care-team`, { headers: tenant.members.clinician.headers });
    expect(team.status).toBe(200);
    const { data } = (await team.json()) as { data: { userId: string; isPrimary: boolean }[] };
    expect(data).toEqual([expect.objectContaining({ userId: tenant.members.clinician.id, isPrimary: true })]);
  });

  it("normalises national phone numbers with the organization's country", async () => {
    const us = await createdPatient(tenant.members.admin, { name: "Phone US", phone: "(555) 201-3344" });
    expect(us.phone).toBe("+15552013344");
    const nanp = await createdPatient(tenant.members.admin, { name: "Phone NANP", phone: "1-555-201-3345" });
    expect(nanp.phone).toBe("+15552013345");
    const german = await createTenant("Praxis Berlin");
    await testDb().update(organizations).set({ locale: "de-DE" }).where(eq(organizations.id, german.organizationId));
    const berlin = await createdPatient(german.members.admin, { name: "Phone DE", phone: "030 1234 5678" });
    expect(berlin.phone).toBe("+493012345678");
    const international = await createdPatient(german.members.admin, { name: "Phone FR", phone: "0033 1 23 45 67 89" });
    expect(international.phone).toBe("+33123456789");
  });

  it("refuses invalid fields with a 422 naming each", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "X", phone: "call me" }, "body.phone"],
      [{ name: "X", phone: "12" }, "body.phone"],
      [{ name: "X", dateOfBirth: "2999-01-01" }, "body.dateOfBirth"],
      [{ name: "X", dateOfBirth: "1990-02-30" }, "body.dateOfBirth"],
      [{ name: "X", timezone: "Mars/Olympus" }, "body.timezone"],
      [{ name: "X", language: "not a tag!" }, "body.language"],
      [{ name: "X", profilePhotoUrl: "http://cdn.example/a.jpg" }, "body.profilePhotoUrl"],
      [{ name: "X", preferredVoice: "robot" }, "body.preferredVoice"],
      [{ name: "X", communicationStyle: "curt" }, "body.communicationStyle"],
      [{ name: "X", inactivityThresholdMinutes: 2 }, "body.inactivityThresholdMinutes"],
      [{ name: "X", appVersion: "1.0" }, "body"],
      [{ name: "" }, "body.name"],
      [{ name: "X", userId: tenant.members.clinician.id }, "body.userId"],
      [{ name: "X", userId: uuidv7() }, "body.userId"],
    ];
    for (const [body, path] of cases) {
      const response = await create(tenant.members.admin, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      const problem = await problemOf(response);
      const paths = (problem.errors as { path: string }[]).map((error) => error.path);
      expect(paths.some((p) => p === path || p.startsWith(path)), `${JSON.stringify(body)} → ${paths.join(",")}`).toBe(true);
    }
  });

  it("answers hostile input with a 4xx problem, never a 5xx", async () => {
    const hostile: unknown[] = [
      { name: "\u0000" },
      { name: "a\ud800" },
      { name: "x".repeat(201) },
      { name: "X", phone: "+".repeat(41) },
      { name: "X", phone: "+0 123 456 789" },
      { name: "X", phone: "+1234567890123456" },
      { name: "X", phone: "0".repeat(14) },
      { name: "X", email: "not-mail" },
      { name: "X", dateOfBirth: "1800-01-01" },
      { name: "X", dateOfBirth: "+275760-09-13" },
      { name: "X", language: "x".repeat(36) },
      { name: "X", profilePhotoUrl: "https://" },
      { name: "X", profilePhotoUrl: "HTTPS://cdn.example/a.jpg" },
      { name: "X", inactivityThresholdMinutes: 1.5 },
      { name: "X", inactivityThresholdMinutes: "60" },
      { name: "X", status: null },
      { name: 42 },
      [],
      "name",
      null,
    ];
    for (const body of hostile) {
      const response = await create(tenant.members.admin, body as Record<string, unknown>);
      expect(response.status, JSON.stringify(body)).toBe(422);
      await problemOf(response);
    }
    for (const query of ["q=%00", `q=${"x".repeat(101)}`, "q=%ED%A0%80", "q=%2B%2B%2B", "q=%25_%25", `q=${encodeURIComponent("0".repeat(30))}`, "limit=0", "limit=abc"]) {
      const response = await api(`/api/v1/patients?${query}`, { headers: tenant.members.admin.headers });
      expect(response.status, query).toBeLessThan(500);
    }
  });

  it("links a member with the patient role, once", async () => {
    const member = await addMember(tenant, "patient");
    const linked = await createdPatient(tenant.members.admin, { name: "Linked", userId: member.id });
    expect(linked.userId).toBe(member.id);
    const again = await create(tenant.members.admin, { name: "Linked twice", userId: member.id });
    expect(again.status).toBe(409);
  });

  it("replays a create with the same Idempotency-Key", async () => {
    const key = `patient-${uuidv7()}`;
    const first = await create(tenant.members.admin, { name: "Idempotent" }, { "Idempotency-Key": key });
    const second = await create(tenant.members.admin, { name: "Idempotent" }, { "Idempotency-Key": key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(((await second.json()) as PatientBody).id).toBe(((await first.json()) as PatientBody).id);
  });

  it("is refused (403, audited) to caregivers and patients", async () => {
    for (const role of ["caregiver", "patient"] as const) {
      const requestId = requestIdOf(`create-403-${role}`);
      const response = await create(tenant.members[role], { name: "Nope" }, { "X-Request-ID": requestId });
      expect(response.status).toBe(403);
      const [audit] = await auditFor(requestId);
      expect(audit?.action).toBe("access.denied");
    }
  });
});

describe("GET, PATCH and DELETE /patients/{id}", () => {
  let tenant: Tenant;
  let elsewhere: Tenant;
  beforeAll(async () => {
    [tenant, elsewhere] = await Promise.all([createTenant("Patients Detail Practice"), createTenant("Other Practice")]);
  });

  it("reads a patient with its ETag and audits the read with the request id", async () => {
    const id = await insertCaredPatient(tenant, "Read Me");
    const requestId = requestIdOf("read");
    const response = await api(`/api/v1/patients/${id}`, { headers: withId(tenant.members.clinician.headers, requestId) });
    expect(response.status).toBe(200);
    expect(response.headers.get("ETag")).toBe('"1"');
    expect(response.headers.get("Server-Timing")).toContain('"1 round trips"');
    expect(((await response.json()) as PatientBody).name).toBe("Read Me");
    const rows = await auditFor(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "patient.read", targetId: id, patientIds: [id], metadata: { outcome: "ok" } });
  });

  it("answers 404 for a missing id, another tenant's and one outside the caller's reach, auditing each", async () => {
    const foreign = await insertPatient(elsewhere, { name: "Foreign" });
    const unreached = await insertPatient(tenant, { name: "Unreached" });
    const cases: [string, Member, string][] = [
      [uuidv7(), tenant.members.owner, "not_found"],
      [foreign, tenant.members.owner, "not_found"],
      [unreached, tenant.members.clinician, "denied"],
    ];
    for (const [id, member, outcome] of cases) {
      const requestId = requestIdOf("read-404");
      const response = await api(`/api/v1/patients/${id}`, { headers: withId(member.headers, requestId) });
      expect(response.status).toBe(404);
      const problem = await problemOf(response);
      expect(problem.detail).toBe("No such patient.");
      const [audit] = await auditFor(requestId);
      expect(audit?.metadata).toMatchObject({ outcome });
      expect(audit?.patientIds).toEqual(outcome === "denied" ? [id] : []);
    }
  });

  it("refuses a malformed id with a 422", async () => {
    const response = await api("/api/v1/patients/not-a-uuid", { headers: tenant.members.owner.headers });
    expect(response.status).toBe(422);
  });

  it("PATCH needs If-Match (428), refuses a stale one (412) and bumps the version", async () => {
    const id = await caredPatient(tenant, "Patch Me");
    const missing = await api(`/api/v1/patients/${id}`, patch({ name: "No tag" }, tenant.members.clinician.headers));
    expect(missing.status).toBe(428);
    const requestId = requestIdOf("patch");
    const first = await api(`/api/v1/patients/${id}`, patch({ preferredName: "Patchy", phone: "555.201.9999" }, { ...withId(tenant.members.clinician.headers, requestId), "If-Match": '"1"' }));
    expect(first.status).toBe(200);
    expect(first.headers.get("ETag")).toBe('"2"');
    expect(first.headers.get("Server-Timing")).toContain('"1 round trips"');
    expect(await first.json()).toMatchObject({ preferredName: "Patchy", phone: "+15552019999", version: 2 });
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: "patient.updated", patientIds: [id], metadata: { outcome: "ok" } });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.requestId, requestId));
    expect(events.map((event) => event.type)).toEqual(["patient.updated"]);
    const stale = await api(`/api/v1/patients/${id}`, patch({ name: "Late" }, { ...tenant.members.owner.headers, "If-Match": '"1"' }));
    expect(stale.status).toBe(412);
    const [row] = await testDb().select().from(patients).where(eq(patients.id, id));
    expect(row?.name).toBe("Patch Me");
    const garbage = await api(`/api/v1/patients/${id}`, patch({ name: "Late" }, { ...tenant.members.owner.headers, "If-Match": "*" }));
    expect(garbage.status).toBe(412);
  });

  it("lets one of two concurrent PATCHes with the same If-Match win; the other gets 412", async () => {
    const id = await caredPatient(tenant, "Concurrent Edit");
    const edits = ["First Writer", "Second Writer"].map((preferredName) =>
      api(`/api/v1/patients/${id}`, patch({ preferredName }, { ...tenant.members.owner.headers, "If-Match": '"1"' })),
    );
    const statuses = (await Promise.all(edits)).map((response) => response.status).sort();
    expect(statuses).toEqual([200, 412]);
    const [row] = await testDb().select().from(patients).where(eq(patients.id, id));
    expect(row?.version).toBe(2);
  });

  it("PATCH validates (422), and answers 404 outside the reach, 403 without patients:write", async () => {
    const id = await caredPatient(tenant, "Patch Rules");
    const tag = { "If-Match": '"1"' };
    const bad = await api(`/api/v1/patients/${id}`, patch({ phone: "nope" }, { ...tenant.members.owner.headers, ...tag }));
    expect(bad.status).toBe(422);
    expect(((await problemOf(bad)).errors as { path: string }[])[0]?.path).toBe("body.phone");
    const empty = await api(`/api/v1/patients/${id}`, patch({}, { ...tenant.members.owner.headers, ...tag }));
    expect(empty.status).toBe(422);
    const other = await addMember(tenant, "clinician");
    const unreached = await api(`/api/v1/patients/${id}`, patch({ name: "X" }, { ...other.headers, ...tag }));
    expect(unreached.status).toBe(404);
    const caregiver = await api(`/api/v1/patients/${id}`, patch({ name: "X" }, { ...tenant.members.caregiver.headers, ...tag }));
    expect(caregiver.status).toBe(403);
  });

  it("DELETE archives: status discharged, the record kept", async () => {
    const id = await caredPatient(tenant, "Archive Me");
    const requestId = requestIdOf("archive");
    const response = await api(`/api/v1/patients/${id}`, { method: "DELETE", headers: withId(tenant.members.staff.headers, requestId) });
    expect(response.status).toBe(204);
    const [row] = await testDb().select().from(patients).where(eq(patients.id, id));
    expect(row).toMatchObject({ status: "discharged", version: 2 });
    const [audit] = await auditFor(requestId);
    expect(audit).toMatchObject({ action: "patient.archived", patientIds: [id], metadata: { outcome: "ok" } });
    const events = await testDb().select().from(domainEvents).where(eq(domainEvents.requestId, requestId));
    expect(events.map((event) => [event.type, event.payload])).toEqual([["patient.updated", { status: "discharged", fields: ["status"] }]]);
    const again = await api(`/api/v1/patients/${id}`, { method: "DELETE", headers: tenant.members.staff.headers });
    expect(again.status).toBe(204);
    const missing = await api(`/api/v1/patients/${uuidv7()}`, { method: "DELETE", headers: tenant.members.staff.headers });
    expect(missing.status).toBe(404);
    const caregiver = await api(`/api/v1/patients/${id}`, { method: "DELETE", headers: tenant.members.caregiver.headers });
    expect(caregiver.status).toBe(403);
    const bad = await api("/api/v1/patients/123", { method: "DELETE", headers: tenant.members.staff.headers });
    expect(bad.status).toBe(422);
  });
});

async function keyFor(tenant: Tenant, scopes: string[]): Promise<string> {
  const response = await api("/api/v1/api-keys", jsonBody({ name: "ehr", scopes }, tenant.members.admin.headers));
  expect(response.status).toBe(201);
  return ((await response.json()) as { key: string }).key;
}

interface Page {
  data: PatientBody[];
  nextCursor: string | null;
}

async function listed(member: Member, query: string, headers: Record<string, string> = {}): Promise<Page> {
  const response = await api(`/api/v1/patients?${query}`, { headers: { ...member.headers, ...headers } });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

const names = (page: Page) => page.data.map((patient) => patient.name);

describe("GET /patients", () => {
  let tenant: Tenant;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    tenant = await createTenant("Patients Search Practice");
    const team = [{ userId: tenant.members.clinician.id }];
    ids.john = await insertPatient(tenant, { name: "John Smith", phone: "+15552013344", careTeam: team });
    ids.johnny = await insertPatient(tenant, { name: "Johnny Appleseed", status: "inactive" });
    ids.jose = await insertPatient(tenant, { name: "José García", careTeam: team });
    ids.jane = await insertPatient(tenant, { name: "Jane Doe", phone: "+442079460958" });
    ids.zoe = await insertPatient(tenant, { name: "Zoë Ångström", status: "discharged" });
  });

  it("ranks a name search by similarity, best first", async () => {
    const page = await listed(tenant.members.owner, "q=John");
    expect(names(page).slice(0, 2)).toEqual(["John Smith", "Johnny Appleseed"]);
    expect(names(page)).not.toContain("Jane Doe");
  });

  it("ignores case and accents both ways", async () => {
    // Typo tolerance admits near names too ("jose" is 0.4 like "john"): the exact one ranks first.
    expect(names(await listed(tenant.members.owner, "q=jose"))[0]).toBe("José García");
    expect(names(await listed(tenant.members.owner, `q=${encodeURIComponent("GARCÍA")}`))).toEqual(["José García"]);
    expect(names(await listed(tenant.members.owner, `q=${encodeURIComponent("josé garcia")}`))[0]).toBe("José García");
    expect(names(await listed(tenant.members.owner, "q=angstrom"))).toEqual(["Zoë Ångström"]);
  });

  it("tolerates typos", async () => {
    expect(names(await listed(tenant.members.owner, "q=Jonh"))[0]).toBe("John Smith");
    expect(names(await listed(tenant.members.owner, "q=Smtih"))[0]).toBe("John Smith");
  });

  it("finds a patient by phone in any common notation", async () => {
    for (const notation of ["(555) 201-3344", "555.201.3344", "+1 555 201 3344", "001-555-201-3344", "1 555 201 3344", "+15552013344"]) {
      expect(names(await listed(tenant.members.owner, `q=${encodeURIComponent(notation)}`)), notation).toEqual(["John Smith"]);
    }
    expect(names(await listed(tenant.members.owner, `q=${encodeURIComponent("+44 20 7946 0958")}`))).toEqual(["Jane Doe"]);
    expect(names(await listed(tenant.members.owner, `q=${encodeURIComponent("0044 (0)20 7946 0958")}`))).toEqual([]);
  });

  it("narrows every list to the caller's reach", async () => {
    expect(names(await listed(tenant.members.clinician, "")).sort()).toEqual(["John Smith", "José García"]);
    expect(names(await listed(tenant.members.clinician, "q=Jane"))).toEqual([]);
    expect(names(await listed(tenant.members.caregiver, ""))).toEqual([]);
    expect((await listed(tenant.members.staff, "")).data).toHaveLength(5);
  });

  it("filters by status and by care-team member", async () => {
    expect(names(await listed(tenant.members.owner, "status=inactive"))).toEqual(["Johnny Appleseed"]);
    expect(names(await listed(tenant.members.owner, `clinicianId=${tenant.members.clinician.id}&sort=name`))).toEqual(["John Smith", "José García"]);
    expect(names(await listed(tenant.members.owner, `clinicianId=${tenant.members.clinician.id}&q=jane`))).toEqual([]);
  });

  it("sorts by name either way, accents folded", async () => {
    expect(names(await listed(tenant.members.owner, "sort=name&order=asc"))).toEqual(["Jane Doe", "John Smith", "Johnny Appleseed", "José García", "Zoë Ångström"]);
    expect(names(await listed(tenant.members.owner, "sort=name&order=desc"))[0]).toBe("Zoë Ångström");
  });

  it("pages a ranked search with a cursor that carries the rank", async () => {
    const all = names(await listed(tenant.members.owner, "q=john"));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await listed(tenant.members.owner, `q=john&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...names(page));
      cursor = page.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual(all);
  });

  it("answers 422 for a tampered cursor, one from another ordering, and bad parameters", async () => {
    const first = await listed(tenant.members.owner, "sort=created_at&limit=1");
    expect(first.nextCursor).not.toBeNull();
    const cursor = first.nextCursor ?? "";
    const tampered = `${cursor.slice(0, -2)}${cursor.endsWith("A") ? "B" : "A"}x`;
    for (const query of [`sort=created_at&cursor=${tampered}`, `sort=name&cursor=${cursor}`, `q=john&cursor=${cursor}`, "cursor=!!!", "sort=dob", "order=up", "limit=101", "status=gone", "clinicianId=x"]) {
      const response = await api(`/api/v1/patients?${query}`, { headers: tenant.members.owner.headers });
      expect(response.status, query).toBe(422);
    }
  });

  it("answers 4xx, never 5xx, to well-formed cursors holding hostile positions", async () => {
    const id = uuidv7();
    const forged: [string, unknown][] = [
      ["q=john", { s: "rank", r: 1e-50, id }],
      ["q=john", { s: "rank", r: "0.5", id }],
      ["q=john", { s: "rank", r: 0.5, id: "x" }],
      ["sort=created_at", { s: "created_at:asc", k: "not a date", id }],
      ["sort=created_at", { s: "created_at:asc", k: "99999-01-01T00:00:00Z", id }], // a far future: an empty page
      ["sort=name", { s: "name:asc", k: "a\u0000b", id }],
      ["sort=name", { s: "name:asc", k: "a", id, extra: 1 }],
      ["sort=name", ["name:asc", "a", id]],
      ["sort=name", null],
    ];
    for (const [query, position] of forged) {
      const response = await api(`/api/v1/patients?${query}&cursor=${encodeCursor(position)}`, { headers: tenant.members.owner.headers });
      expect(response.status, JSON.stringify(position)).toBeLessThan(500);
      if (response.status >= 400) await problemOf(response);
    }
    // A cursor naming a row that does not exist (its key read back) is simply an empty page.
    const gone = await api(`/api/v1/patients?sort=name&cursor=${encodeCursor({ s: "name:asc", id })}`, { headers: tenant.members.owner.headers });
    expect(gone.status).toBe(200);
    expect(((await gone.json()) as Page).data).toEqual([]);
  });

  it("writes one audit row naming the patients returned, with the request id, in one round trip", async () => {
    const requestId = requestIdOf("list");
    const response = await api("/api/v1/patients?q=john", { headers: withId(tenant.members.owner.headers, requestId) });
    expect(response.headers.get("Server-Timing")).toContain('"1 round trips"');
    const page = (await response.json()) as Page;
    const rows = await auditFor(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.action).toBe("patient.listed");
    expect([...(rows[0]?.patientIds ?? [])].sort()).toEqual(page.data.map((patient) => patient.id).sort());
    const emptyId = requestIdOf("list-empty");
    await api("/api/v1/patients?q=zzzzzz", { headers: withId(tenant.members.owner.headers, emptyId) });
    const [empty] = await auditFor(emptyId);
    expect(empty).toMatchObject({ action: "patient.listed", patientIds: [], metadata: { count: 0 } });
  });

  it("is refused to an API key without patients:read, allowed with it", async () => {
    const without = await api("/api/v1/patients", { headers: { "X-API-Key": await keyFor(tenant, ["organization:read"]) } });
    expect(without.status).toBe(403);
    const withScope = await api("/api/v1/patients", { headers: { "X-API-Key": await keyFor(tenant, ["patients:read"]) } });
    expect(withScope.status).toBe(200);
    expect(((await withScope.json()) as Page).data).toHaveLength(5);
  });
});

/**
 * Every patient and care-team route, called by every role and relationship, and with a foreign
 * tenant's ids: one expected status each (SPEC "Who sees what"; src/lib/access.ts).
 */
describe("the role and relationship matrix", () => {
  type Actor = "owner" | "admin" | "clinicianOnTeam" | "clinicianOffTeam" | "staff" | "caregiverOnTeam" | "caregiverOffTeam" | "patientOwn" | "patientOther" | "keyWithScope" | "keyWithoutScope" | "foreignOwner";
  let tenant: Tenant;
  let foreign: Tenant;
  let patientId: string;
  const headers = {} as Record<Actor, Record<string, string>>;

  beforeAll(async () => {
    [tenant, foreign] = await Promise.all([createTenant("Matrix Practice"), createTenant("Matrix Elsewhere")]);
    patientId = await insertCaredPatient(tenant, "Matrix Patient");
    const [clinician2, caregiver2, patient2] = await Promise.all([addMember(tenant, "clinician"), addMember(tenant, "caregiver"), addMember(tenant, "patient")]);
    await insertPatient(tenant, { name: "Other Patient", userId: patient2.id, careTeam: [{ userId: clinician2.id }, { userId: caregiver2.id, primary: false }] });
    const key = async (scopes: string[]) => ({ "X-API-Key": await keyFor(tenant, scopes) });
    Object.assign(headers, {
      owner: tenant.members.owner.headers,
      admin: tenant.members.admin.headers,
      clinicianOnTeam: tenant.members.clinician.headers,
      clinicianOffTeam: clinician2.headers,
      staff: tenant.members.staff.headers,
      caregiverOnTeam: tenant.members.caregiver.headers,
      caregiverOffTeam: caregiver2.headers,
      patientOwn: tenant.members.patient.headers,
      patientOther: patient2.headers,
      keyWithScope: await key(["patients:read", "patients:write", "care-team:write"]),
      keyWithoutScope: await key(["organization:read", "appointments:read"]),
      foreignOwner: foreign.members.owner.headers,
    });
  });

  const currentVersion = async () => (await testDb().select({ version: patients.version }).from(patients).where(eq(patients.id, patientId)))[0]?.version ?? 1;

  /** Each route's call, and the status each actor gets. */
  const ROUTES: { name: string; call: (h: Record<string, string>) => Promise<Response>; expected: Record<Actor, number> }[] = [
    {
      name: "GET /patients/{id}",
      call: (h) => api(`/api/v1/patients/${patientId}`, { headers: h }),
      expected: { owner: 200, admin: 200, clinicianOnTeam: 200, clinicianOffTeam: 404, staff: 200, caregiverOnTeam: 200, caregiverOffTeam: 404, patientOwn: 200, patientOther: 404, keyWithScope: 200, keyWithoutScope: 403, foreignOwner: 404 },
    },
    {
      name: "GET /patients/{id}/care-team",
      call: (h) => api(`/api/v1/patients/${patientId}/care-team`, { headers: h }),
      expected: { owner: 200, admin: 200, clinicianOnTeam: 200, clinicianOffTeam: 404, staff: 200, caregiverOnTeam: 200, caregiverOffTeam: 404, patientOwn: 200, patientOther: 404, keyWithScope: 200, keyWithoutScope: 403, foreignOwner: 404 },
    },
    {
      name: "PATCH /patients/{id}",
      call: async (h) => api(`/api/v1/patients/${patientId}`, patch({ preferredName: "M" }, { ...h, "If-Match": `"${await currentVersion()}"` })),
      expected: { owner: 200, admin: 200, clinicianOnTeam: 200, clinicianOffTeam: 404, staff: 200, caregiverOnTeam: 403, caregiverOffTeam: 403, patientOwn: 403, patientOther: 403, keyWithScope: 200, keyWithoutScope: 403, foreignOwner: 404 },
    },
    {
      name: "DELETE /patients/{id}",
      call: (h) => api(`/api/v1/patients/${patientId}`, { method: "DELETE", headers: h }),
      expected: { owner: 204, admin: 204, clinicianOnTeam: 204, clinicianOffTeam: 404, staff: 204, caregiverOnTeam: 403, caregiverOffTeam: 403, patientOwn: 403, patientOther: 403, keyWithScope: 204, keyWithoutScope: 403, foreignOwner: 404 },
    },
    {
      name: "POST /patients/{id}/care-team",
      call: async (h) => {
        const candidate = await addMember(tenant, "caregiver");
        return api(`/api/v1/patients/${patientId}/care-team`, jsonBody({ userId: candidate.id, relationship: "friend" }, h));
      },
      expected: { owner: 201, admin: 201, clinicianOnTeam: 201, clinicianOffTeam: 404, staff: 403, caregiverOnTeam: 403, caregiverOffTeam: 403, patientOwn: 403, patientOther: 403, keyWithScope: 201, keyWithoutScope: 403, foreignOwner: 404 },
    },
    {
      name: "DELETE /patients/{id}/care-team/{userId}",
      call: async (h) => {
        const member = await addMember(tenant, "caregiver");
        await testDb().insert(careTeamMembers).values({ organizationId: tenant.organizationId, patientId, userId: member.id, relationship: "temp" });
        return api(`/api/v1/patients/${patientId}/care-team/${member.id}`, { method: "DELETE", headers: h });
      },
      expected: { owner: 204, admin: 204, clinicianOnTeam: 204, clinicianOffTeam: 404, staff: 403, caregiverOnTeam: 403, caregiverOffTeam: 403, patientOwn: 403, patientOther: 403, keyWithScope: 204, keyWithoutScope: 403, foreignOwner: 404 },
    },
    {
      name: "POST /patients",
      call: (h) => api("/api/v1/patients", jsonBody({ name: "Matrix New" }, h)),
      expected: { owner: 201, admin: 201, clinicianOnTeam: 201, clinicianOffTeam: 201, staff: 201, caregiverOnTeam: 403, caregiverOffTeam: 403, patientOwn: 403, patientOther: 403, keyWithScope: 201, keyWithoutScope: 403, foreignOwner: 201 },
    },
  ];

  for (const route of ROUTES) {
    it(`${route.name} answers each role and relationship as the rules say`, async () => {
      const got = {} as Record<Actor, number>;
      for (const actor of Object.keys(route.expected) as Actor[]) got[actor] = (await route.call(headers[actor])).status;
      expect(got).toEqual(route.expected);
    });
  }

  it("GET /patients lists exactly the patients each caller reaches", async () => {
    const seesMatrixPatient = {} as Record<Actor, number | boolean>;
    for (const actor of Object.keys(headers) as Actor[]) {
      const response = await api("/api/v1/patients?limit=100", { headers: headers[actor] });
      seesMatrixPatient[actor] = response.status === 200 ? ((await response.json()) as Page).data.some((patient) => patient.id === patientId) : response.status;
    }
    expect(seesMatrixPatient).toEqual({
      owner: true, admin: true, clinicianOnTeam: true, clinicianOffTeam: false, staff: true, caregiverOnTeam: true, caregiverOffTeam: false,
      patientOwn: true, patientOther: false, keyWithScope: true, keyWithoutScope: 403, foreignOwner: false,
    });
  });
});

describe("the audit trail of every patient route", () => {
  it("has one row carrying the request id for each request, successes and 404s alike, in the request's one round trip", async () => {
    const tenant = await createTenant("Audit Walk Practice");
    const owner = tenant.members.owner;
    const created = await createdPatient(owner, { name: "Walked" });
    const id = created.id;
    const missing = uuidv7();
    const steps: [string, string, RequestInit, string][] = [
      ["list", "/api/v1/patients?q=walked", { headers: owner.headers }, "patient.listed"],
      ["read", `/api/v1/patients/${id}`, { headers: owner.headers }, "patient.read"],
      ["read-404", `/api/v1/patients/${missing}`, { headers: owner.headers }, "patient.read"],
      ["patch", `/api/v1/patients/${id}`, patch({ preferredName: "W" }, { ...owner.headers, "If-Match": '"1"' }), "patient.updated"],
      ["patch-412", `/api/v1/patients/${id}`, patch({ preferredName: "W" }, { ...owner.headers, "If-Match": '"1"' }), "patient.updated"],
      ["team", `/api/v1/patients/${id}/care-team`, { headers: owner.headers }, "care_team.read"],
      ["team-add", `/api/v1/patients/${id}/care-team`, jsonBody({ userId: tenant.members.caregiver.id, relationship: "aunt" }, owner.headers), "care_team.added"],
      ["team-remove", `/api/v1/patients/${id}/care-team/${tenant.members.caregiver.id}`, { method: "DELETE", headers: owner.headers }, "care_team.removed"],
      ["team-remove-404", `/api/v1/patients/${missing}/care-team/${tenant.members.caregiver.id}`, { method: "DELETE", headers: owner.headers }, "care_team.removed"],
      ["archive", `/api/v1/patients/${id}`, { method: "DELETE", headers: owner.headers }, "patient.archived"],
      ["create-403", "/api/v1/patients", jsonBody({ name: "No" }, tenant.members.caregiver.headers), "access.denied"],
    ];
    for (const [label, path, init, action] of steps) {
      const requestId = requestIdOf(`walk-${label}`);
      const response = await api(path, { ...init, headers: { ...(init.headers as Record<string, string>), "X-Request-ID": requestId } });
      expect(response.headers.get("X-Request-ID")).toBe(requestId);
      expect(response.status, label).toBeLessThan(500);
      expect(response.headers.get("Server-Timing"), label).toContain('"1 round trips"');
      const rows = await auditFor(requestId);
      expect(rows.map((row) => row.action), label).toEqual([action]);
      if (action !== "access.denied") expect(rows[0]?.patientIds, label).toEqual(label.endsWith("404") ? [] : [id]);
    }
  });
});
