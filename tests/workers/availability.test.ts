import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appointments } from "#src/db/schema/index.ts";
import { cutSlots, localIso } from "#src/features/clinicians/clinicians.availability.ts";
import { expandWorkingHours, localToUtc, withinWorkingHours } from "#src/features/clinicians/clinicians.hours.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { addMember, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

const utc = (iso: string) => new Date(iso).toISOString();
const pad = (n: number) => String(n).padStart(2, "0");
const everyDay = (start: string, end: string) => [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start, end }));

describe("local wall-clock time to instants", () => {
  it("follows Berlin's spring change: 09:00 is 08:00Z on Saturday, 07:00Z on Sunday 2027-03-28", () => {
    expect(localToUtc(2027, 3, 27, 9 * 60, "Europe/Berlin").toISOString()).toBe(utc("2027-03-27T08:00:00Z"));
    expect(localToUtc(2027, 3, 28, 9 * 60, "Europe/Berlin").toISOString()).toBe(utc("2027-03-28T07:00:00Z"));
  });

  it("moves a time skipped by the gap forward, and takes the later of a repeated time", () => {
    // 02:30 does not exist on 2027-03-28 in Berlin: it is 03:30 CEST
    expect(localToUtc(2027, 3, 28, 150, "Europe/Berlin").toISOString()).toBe(utc("2027-03-28T01:30:00Z"));
    // 02:30 happens twice on 2027-10-31: the second time, in CET
    expect(localToUtc(2027, 10, 31, 150, "Europe/Berlin").toISOString()).toBe(utc("2027-10-31T01:30:00Z"));
    // New York, 2027-03-14: 02:00 does not exist (03:00 EDT)
    expect(localToUtc(2027, 3, 14, 120, "America/New_York").toISOString()).toBe(utc("2027-03-14T07:00:00Z"));
  });

  it("reads 24:00 as the next midnight, and handles half-hour zones", () => {
    expect(localToUtc(2027, 3, 27, 1440, "Europe/Berlin").toISOString()).toBe(utc("2027-03-27T23:00:00Z"));
    expect(localToUtc(2027, 1, 4, 9 * 60, "Asia/Kolkata").toISOString()).toBe(utc("2027-01-04T03:30:00Z"));
  });

  it("agrees with Postgres's `at time zone`, which the booking check uses, around every change", async () => {
    const cases: [number, number, number, number, string][] = [
      [2027, 3, 28, 150, "Europe/Berlin"],
      [2027, 3, 28, 9 * 60, "Europe/Berlin"],
      [2027, 10, 31, 150, "Europe/Berlin"],
      [2027, 10, 31, 30, "Europe/Berlin"],
      [2027, 3, 14, 150, "America/New_York"],
      [2027, 11, 7, 90, "America/New_York"],
      [2027, 4, 4, 150, "Australia/Sydney"],
      [2027, 10, 3, 150, "Australia/Sydney"],
      [2027, 1, 4, 1440, "Asia/Kolkata"],
    ];
    for (const [year, month, day, minutes, zone] of cases) {
      const local = `${year}-${pad(month)}-${pad(day)} 00:00`;
      const result = await testDb().execute(
        sql`select (extract(epoch from ((${local}::timestamp + make_interval(mins => ${minutes}::int)) at time zone ${zone}::text)) * 1000)::bigint as ms`,
      );
      const expected = Number((result.rows[0] as { ms: string | number }).ms);
      expect(localToUtc(year, month, day, minutes, zone).getTime(), `${local} +${minutes} min ${zone}`).toBe(expected);
    }
  });

  it("writes an instant in the zone with its offset", () => {
    expect(localIso(new Date("2027-03-29T07:00:00Z"), "Europe/Berlin")).toBe("2027-03-29T09:00:00+02:00");
    expect(localIso(new Date("2027-03-13T14:00:00Z"), "America/New_York")).toBe("2027-03-13T09:00:00-05:00");
  });
});

describe("withinWorkingHours", () => {
  const monday = [
    { weekday: 1, start: "09:00", end: "12:00" },
    { weekday: 1, start: "12:00", end: "17:00" },
  ];

  it("accepts a booking inside the hours, across two intervals that meet", () => {
    expect(withinWorkingHours(monday, "Europe/Berlin", new Date("2027-03-29T07:00:00Z"), new Date("2027-03-29T15:00:00Z"))).toBe(true);
  });

  it("refuses one that starts before, ends after, or falls on another day", () => {
    expect(withinWorkingHours(monday, "Europe/Berlin", new Date("2027-03-29T06:59:00Z"), new Date("2027-03-29T08:00:00Z"))).toBe(false);
    expect(withinWorkingHours(monday, "Europe/Berlin", new Date("2027-03-29T14:30:00Z"), new Date("2027-03-29T15:30:00Z"))).toBe(false);
    expect(withinWorkingHours(monday, "Europe/Berlin", new Date("2027-03-30T08:00:00Z"), new Date("2027-03-30T09:00:00Z"))).toBe(false);
  });

  it("uses the offset of the day: 09:00 Berlin is 08:00Z before the change, 07:00Z after", () => {
    expect(withinWorkingHours(monday, "Europe/Berlin", new Date("2027-03-22T08:00:00Z"), new Date("2027-03-22T09:00:00Z"))).toBe(true);
    expect(withinWorkingHours(monday, "Europe/Berlin", new Date("2027-03-22T07:00:00Z"), new Date("2027-03-22T08:00:00Z"))).toBe(false);
  });

  it("does not restrict without working hours, and refuses an empty range", () => {
    expect(withinWorkingHours([], "UTC", new Date("2027-03-29T02:00:00Z"), new Date("2027-03-29T03:00:00Z"))).toBe(true);
    expect(withinWorkingHours(null, "UTC", new Date("2027-03-29T02:00:00Z"), new Date("2027-03-29T03:00:00Z"))).toBe(true);
    expect(withinWorkingHours(monday, "UTC", new Date("2027-03-29T10:00:00Z"), new Date("2027-03-29T10:00:00Z"))).toBe(false);
  });

  it("joins a night shift across midnight", () => {
    const night = [
      { weekday: 1, start: "22:00", end: "24:00" },
      { weekday: 2, start: "00:00", end: "06:00" },
    ];
    expect(withinWorkingHours(night, "UTC", new Date("2027-03-29T23:00:00Z"), new Date("2027-03-30T01:00:00Z"))).toBe(true);
  });

  it("expands a fall-back night to its true length: 01:00–04:00 on Berlin's 2027-10-31 is four hours", () => {
    const ranges = expandWorkingHours([{ weekday: 7, start: "01:00", end: "04:00" }], "Europe/Berlin", new Date("2027-10-30T00:00:00Z"), new Date("2027-11-01T00:00:00Z"));
    expect(ranges.map((range) => [range.start.toISOString(), range.end.toISOString()])).toEqual([[utc("2027-10-30T23:00:00Z"), utc("2027-10-31T03:00:00Z")]]);
  });

  it("cuts slots around busy ranges on the shift's grid", () => {
    const working = [{ start: new Date("2027-03-29T09:00:00Z"), end: new Date("2027-03-29T11:00:00Z") }];
    const busy: Array<[number, number]> = [[Date.parse("2027-03-29T09:30:00Z"), Date.parse("2027-03-29T10:10:00Z")]];
    const window = { from: Date.parse("2027-03-29T09:05:00Z"), to: Date.parse("2027-03-29T12:00:00Z") };
    const { slots } = cutSlots(working, busy, window, 30 * 60_000, 30 * 60_000);
    expect(slots.map(([start]) => new Date(start).toISOString())).toEqual([utc("2027-03-29T10:30:00Z")]);
  });
});

interface WorkingHoursBody {
  clinicianId: string;
  timezone: string;
  intervals: { weekday: number; start: string; end: string }[];
  updatedAt: string | null;
}

const putHours = (id: string, body: unknown, headers: Record<string, string>) =>
  api(`/api/v1/clinicians/${id}/working-hours`, jsonBody(body, headers, "PUT"));

describe("working hours", () => {
  let tenant: Tenant;
  let other: Member;
  beforeAll(async () => {
    tenant = await createTenant("Working Hours Practice");
    other = await addMember(tenant, "clinician");
  });

  it("answers no hours (no restriction) until set, then what the clinician set, sorted", async () => {
    const { clinician } = tenant.members;
    const empty = await api(`/api/v1/clinicians/${clinician.id}/working-hours`, { headers: tenant.members.staff.headers });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ clinicianId: clinician.id, timezone: "UTC", intervals: [], updatedAt: null });

    const intervals = [
      { weekday: 2, start: "09:00", end: "17:00" },
      { weekday: 1, start: "13:00", end: "17:00" },
      { weekday: 1, start: "08:00", end: "12:00" },
    ];
    const put = await putHours(clinician.id, { timezone: "Europe/Berlin", intervals }, clinician.headers);
    expect(put.status).toBe(200);
    const saved = (await put.json()) as WorkingHoursBody;
    expect(saved.intervals.map((i) => `${i.weekday} ${i.start}`)).toEqual(["1 08:00", "1 13:00", "2 09:00"]);
    expect(saved.updatedAt).not.toBeNull();
    const read = (await (await api(`/api/v1/clinicians/${clinician.id}/working-hours`, { headers: tenant.members.caregiver.headers })).json()) as WorkingHoursBody;
    expect(read).toEqual(saved);
  });

  it("lets an owner, an admin or an API key set any clinician's hours, but not one clinician another's", async () => {
    const body = { timezone: "America/New_York", intervals: [{ weekday: 3, start: "10:00", end: "14:00" }] };
    expect((await putHours(other.id, body, tenant.members.admin.headers)).status).toBe(200);
    expect((await putHours(other.id, body, tenant.members.owner.headers)).status).toBe(200);
    const created = await api("/api/v1/api-keys", jsonBody({ name: "rota sync", scopes: ["working-hours:write"] }, tenant.members.admin.headers));
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    expect((await putHours(other.id, body, { "X-API-Key": key })).status).toBe(200);
    const refused = await putHours(other.id, body, tenant.members.clinician.headers);
    expect(refused.status).toBe(403);
    expect((await putHours(other.id, body, tenant.members.staff.headers)).status).toBe(403);
  });

  it("answers 404 for a member who is no clinician, a missing id, or another tenant's clinician", async () => {
    const foreign = await createTenant("Foreign Practice");
    const body = { timezone: "UTC", intervals: [] };
    for (const id of [tenant.members.staff.id, uuidv7(), foreign.members.clinician.id]) {
      expect((await putHours(id, body, tenant.members.admin.headers)).status).toBe(404);
      expect((await api(`/api/v1/clinicians/${id}/working-hours`, { headers: tenant.members.admin.headers })).status).toBe(404);
    }
  });

  it("refuses bad hours with a 422 naming the field", async () => {
    const { clinician } = tenant.members;
    const cases: [unknown, string][] = [
      [{ timezone: "UTC", intervals: [{ weekday: 1, start: "12:00", end: "09:00" }] }, "intervals.0.end"],
      [{ timezone: "UTC", intervals: [{ weekday: 1, start: "09:00", end: "12:00" }, { weekday: 1, start: "11:00", end: "13:00" }] }, "intervals.1.start"],
      [{ timezone: "UTC", intervals: [{ weekday: 8, start: "09:00", end: "12:00" }] }, "intervals.0.weekday"],
      [{ timezone: "UTC", intervals: [{ weekday: 1, start: "9:00", end: "12:00" }] }, "intervals.0.start"],
      [{ timezone: "UTC", intervals: [{ weekday: 1, start: "09:00", end: "24:30" }] }, "intervals.0.end"],
      [{ timezone: "Mars/Olympus", intervals: [] }, "timezone"],
      [{ timezone: "UTC", intervals: Array.from({ length: 51 }, (_, i) => ({ weekday: (i % 7) + 1, start: "00:00", end: "00:01" })) }, "intervals"],
      [{ timezone: "UTC", intervals: [], extra: true }, ""],
    ];
    for (const [body, path] of cases) {
      const response = await putHours(clinician.id, body, clinician.headers);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      const problem = await problemOf(response);
      const paths = (problem.errors as { path: string }[]).map((error) => error.path);
      expect(paths.some((p) => (path === "" ? p.startsWith("body") : p === `body.${path}`)), `${path} in ${paths.join(",")}`).toBe(true);
    }
  });
});

describe("hostile input", () => {
  it("answers a problem, never a 5xx, to malformed working hours and availability queries", async () => {
    const tenant = await createTenant("Hostile Input Practice");
    const { clinician } = tenant.members;
    const bodies: unknown[] = [
      null,
      [],
      "x",
      { timezone: "\u0000", intervals: [] },
      { timezone: "x".repeat(10_000), intervals: [] },
      { timezone: "UTC", intervals: "no" },
      { timezone: "UTC", intervals: [{ weekday: "1", start: "09:00", end: "10:00" }] },
      { timezone: "UTC", intervals: [{ weekday: 1, start: "09:00", end: "10:00", note: "x" }] },
      { timezone: "UTC", intervals: [{ weekday: 1e308, start: "09:00", end: "10:00" }] },
      { timezone: "UTC", intervals: [null] },
    ];
    for (const body of bodies) {
      const response = await putHours(clinician.id, body, clinician.headers);
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      await problemOf(response);
    }
    const base = { clinicianId: clinician.id, from: "2027-04-05T00:00:00Z", to: "2027-04-06T00:00:00Z", duration: "30" };
    const queries = [
      { ...base, duration: "1e309" },
      { ...base, duration: "NaN" },
      { ...base, step: "-15" },
      { ...base, from: "2027-13-01T00:00:00Z" },
      { ...base, from: "2027-04-05T00:00:00+25:00" },
      { ...base, to: "9999-12-31T23:59:59Z" },
      { ...base, clinicianId: "00000000-0000-0000-0000-000000000000" },
    ];
    for (const query of queries) {
      const response = await api(`/api/v1/availability?${new URLSearchParams(query)}`, { headers: clinician.headers });
      expect(response.status, JSON.stringify(query)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      await problemOf(response);
    }
  });
});

interface AvailabilityBody {
  timezone: string;
  workingHoursSet: boolean;
  truncated: boolean;
  slots: { start: string; end: string; localStart: string }[];
}

async function slotsOf(headers: Record<string, string>, query: Record<string, string | number>) {
  const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
  const response = await api(`/api/v1/availability?${params}`, { headers });
  expect(response.status).toBe(200);
  return (await response.json()) as AvailabilityBody;
}

describe("GET /availability", () => {
  let tenant: Tenant;
  let berlin: Member;
  let newYork: Member;
  beforeAll(async () => {
    tenant = await createTenant("Availability Practice");
    berlin = await addMember(tenant, "clinician");
    newYork = await addMember(tenant, "clinician");
    expect((await putHours(berlin.id, { timezone: "Europe/Berlin", intervals: everyDay("09:00", "11:00") }, tenant.members.admin.headers)).status).toBe(200);
    expect((await putHours(newYork.id, { timezone: "America/New_York", intervals: everyDay("09:00", "10:00") }, tenant.members.admin.headers)).status).toBe(200);
  });

  it("follows Berlin's DST change on 2027-03-28: the day's first slot moves from 08:00Z to 07:00Z", async () => {
    const body = await slotsOf(tenant.members.staff.headers, { clinicianId: berlin.id, from: "2027-03-27T00:00:00Z", to: "2027-03-29T00:00:00Z", duration: 60 });
    expect(body.timezone).toBe("Europe/Berlin");
    expect(body.slots.map((slot) => slot.start)).toEqual([
      utc("2027-03-27T08:00:00Z"),
      utc("2027-03-27T09:00:00Z"),
      utc("2027-03-28T07:00:00Z"),
      utc("2027-03-28T08:00:00Z"),
    ]);
    expect(body.slots.map((slot) => slot.localStart)).toEqual(["2027-03-27T09:00:00+01:00", "2027-03-27T10:00:00+01:00", "2027-03-28T09:00:00+02:00", "2027-03-28T10:00:00+02:00"]);
  });

  it("follows New York's DST change on 2027-03-14", async () => {
    const body = await slotsOf(tenant.members.clinician.headers, { clinicianId: newYork.id, from: "2027-03-13T00:00:00Z", to: "2027-03-15T00:00:00Z", duration: 30 });
    expect(body.slots.map((slot) => slot.start)).toEqual([
      utc("2027-03-13T14:00:00Z"),
      utc("2027-03-13T14:30:00Z"),
      utc("2027-03-14T13:00:00Z"),
      utc("2027-03-14T13:30:00Z"),
    ]);
  });

  it("leaves out live appointments, but not cancelled ones, and honours step", async () => {
    const patientId = await insertPatient(tenant);
    const db = testDb();
    const booking = (startsAt: string, endsAt: string, status: "scheduled" | "confirmed" | "cancelled") => ({
      id: uuidv7(),
      organizationId: tenant.organizationId,
      patientId,
      clinicianId: berlin.id,
      startsAt: new Date(startsAt),
      endsAt: new Date(endsAt),
      status,
    });
    await db.insert(appointments).values([
      booking("2027-04-05T07:00:00Z", "2027-04-05T07:30:00Z", "scheduled"),
      booking("2027-04-05T08:15:00Z", "2027-04-05T08:45:00Z", "confirmed"),
      booking("2027-04-05T07:30:00Z", "2027-04-05T08:00:00Z", "cancelled"),
    ]);
    const body = await slotsOf(tenant.members.staff.headers, { clinicianId: berlin.id, from: "2027-04-05T00:00:00Z", to: "2027-04-06T00:00:00Z", duration: 30 });
    // 09:00–11:00 CEST is 07:00Z–09:00Z; on the 30-minute grid only 07:30 is clear
    expect(body.slots.map((slot) => slot.start)).toEqual([utc("2027-04-05T07:30:00Z")]);
    const stepped = await slotsOf(tenant.members.staff.headers, { clinicianId: berlin.id, from: "2027-04-05T00:00:00Z", to: "2027-04-06T00:00:00Z", duration: 30, step: 15 });
    // every 15 minutes: 07:45–08:15 ends as the confirmed one begins
    expect(stepped.slots.map((slot) => slot.start)).toEqual([utc("2027-04-05T07:30:00Z"), utc("2027-04-05T07:45:00Z")]);
  });

  it("counts the whole window as working time for a clinician without working hours", async () => {
    const body = await slotsOf(tenant.members.staff.headers, { clinicianId: tenant.members.clinician.id, from: "2027-04-05T09:10:00Z", to: "2027-04-05T11:00:00Z", duration: 30 });
    expect(body.workingHoursSet).toBe(false);
    expect(body.slots.map((slot) => slot.start)).toEqual([utc("2027-04-05T09:30:00Z"), utc("2027-04-05T10:00:00Z"), utc("2027-04-05T10:30:00Z")]);
  });

  it("refuses a bad window or duration with a 422 naming the field", async () => {
    const base = { clinicianId: berlin.id, from: "2027-04-05T00:00:00Z", to: "2027-04-06T00:00:00Z", duration: "30" };
    const cases: [Record<string, string>, string][] = [
      [{ ...base, to: "2027-04-04T00:00:00Z" }, "to"],
      [{ ...base, to: "2027-05-07T00:00:00Z" }, "to"],
      [{ ...base, duration: "10" }, "duration"],
      [{ ...base, duration: "481" }, "duration"],
      [{ ...base, from: "yesterday" }, "from"],
      [{ ...base, clinicianId: "nope" }, "clinicianId"],
      [{ ...base, step: "1" }, "step"],
      [{ ...base, from: "0000-01-01T00:00:00Z", to: "0000-01-02T00:00:00Z" }, "from"],
    ];
    for (const [query, field] of cases) {
      const response = await api(`/api/v1/availability?${new URLSearchParams(query)}`, { headers: tenant.members.staff.headers });
      expect(response.status, field).toBe(422);
      const problem = await problemOf(response);
      expect((problem.errors as { path: string }[]).map((error) => error.path)).toContain(`query.${field}`);
    }
  });

  it("answers 404 for a non-clinician or another tenant's clinician, and 403 to a patient", async () => {
    const foreign = await createTenant("Foreign Availability");
    const query = { from: "2027-04-05T00:00:00Z", to: "2027-04-06T00:00:00Z", duration: "30" };
    for (const clinicianId of [tenant.members.staff.id, foreign.members.clinician.id]) {
      const response = await api(`/api/v1/availability?${new URLSearchParams({ ...query, clinicianId })}`, { headers: tenant.members.staff.headers });
      expect(response.status).toBe(404);
    }
    const refused = await api(`/api/v1/availability?${new URLSearchParams({ ...query, clinicianId: berlin.id })}`, { headers: tenant.members.patient.headers });
    expect(refused.status).toBe(403);
  });

  it("costs one SQL round trip", async () => {
    const response = await api(`/api/v1/availability?${new URLSearchParams({ clinicianId: berlin.id, from: "2027-04-05T00:00:00Z", to: "2027-04-06T00:00:00Z", duration: "30" })}`, {
      headers: tenant.members.staff.headers,
    });
    expect(response.headers.get("Server-Timing")).toMatch(/desc="1 round trips"/);
  });
});
