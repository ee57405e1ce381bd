import { eq, sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { pushDevices } from "#src/db/schema/index.ts";
import { DeliveryExhausted, deliverNotification, MAX_SEND_ATTEMPTS } from "#src/features/notifications/notifications.deliver.ts";
import { sweepNotifications } from "#src/features/notifications/notifications.sweep.ts";
import { consumeJobs } from "#src/jobs/consumer.ts";
import type { Job } from "#src/jobs/job.ts";
import { RetryLater, runMessage } from "#src/jobs/runner.ts";
import { insertCaredPatient } from "./clinical.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";
import { backdateClaim, type Bench, bench, deliveriesOf, emit, prefer, registerDevice, rowOf, rowsOf } from "./notifications-harness.ts";
import { form } from "./providers-fakes.ts";

/**
 * Sending an outbox row: claimed before the provider is called, so every row goes out once per
 * channel whatever the redeliveries, races and crashes; quiet hours defer, critical goes
 * through; a permanent failure falls back push -> SMS -> email; a retryable one waits its
 * backoff or Retry-After, and after the last try the row fails and the message is dead-lettered.
 */

const NOON = new Date("2030-01-15T12:00:00Z");
const PATIENT_NAME = "Ignatius Featherstonehaugh";

async function setup(name: string) {
  const tenant = await createTenant(name);
  const patientId = await insertCaredPatient(tenant, PATIENT_NAME);
  return { tenant, patientId };
}

/** An alert for the tenant's patient (its primary is the clinician), and the primary's external row. */
async function alertRow(b: Bench, tenant: Tenant, patientId: string, severity = "high") {
  await emit(b, tenant, "alert.created", { type: "alert" }, { patientId, severity, type: "inactivity" });
  const row = (await rowsOf(tenant)).find((r) => r.channel !== "in_app" && r.userId === tenant.members.clinician.id && r.status === "pending");
  if (!row) throw new Error("no external row");
  return row;
}

const deliver = (b: Bench, tenant: Tenant, id: string) => deliverNotification(b.deps, tenant.organizationId, id);

describe("sending", () => {
  it("mails with the row's id as Idempotency-Key, and marks the row sent with Resend's id", async () => {
    const { tenant, patientId } = await setup("Deliver Email Practice");
    const b = bench(NOON);
    const row = await alertRow(b, tenant, patientId);
    expect(row.channel).toBe("email");
    expect(await deliver(b, tenant, row.id)).toBe("sent");
    const [mail] = b.sent("email");
    expect(mail?.headers["idempotency-key"]).toBe(row.id);
    const body = JSON.parse(mail?.body ?? "{}") as { to: string[]; subject: string; text: string };
    expect(body.to).toEqual([tenant.members.clinician.email]);
    expect(body.subject).toBe("Tend alert");
    expect(body.text).not.toMatch(/Ignatius|Featherstonehaugh/);
    expect(await rowOf(row.id)).toMatchObject({ status: "sent", attempts: 1, sentAt: NOON, providerMessageId: expect.any(String), lastError: null });
  });

  it("calls with TwiML that says the alert and how to acknowledge it", async () => {
    const { tenant, patientId } = await setup("Deliver Voice Practice");
    await prefer(tenant.members.clinician.headers, { phone: "+447700900123" });
    const b = bench(NOON);
    await emit(b, tenant, "alert.escalated", { type: "alert" }, { patientId, severity: "critical", level: 3 });
    const voice = (await rowsOf(tenant)).find((r) => r.channel === "voice");
    expect(await deliver(b, tenant, voice?.id ?? "")).toBe("sent");
    const call = form(b.sent("voice")[0]?.body ?? "");
    expect(call.To).toBe("+447700900123");
    expect(call.Twiml).toMatch(/^<Response><Say>This is Tend\. A critical alert .*acknowledge it\.<\/Say><Pause length="1"\/><Say>/);
  });
});

describe("fallback", () => {
  it("removes a token FCM calls unregistered and falls back push -> SMS -> email", async () => {
    const { tenant, patientId } = await setup("Deliver Fallback Practice");
    const deviceId = await registerDevice(tenant.members.clinician.headers);
    await prefer(tenant.members.clinician.headers, { channels: { sms: true }, phone: "+15005550001" });
    const b = bench(NOON);
    b.answers.push = () => Response.json({ error: { code: 404, status: "NOT_FOUND", details: [{ errorCode: "UNREGISTERED" }] } }, { status: 404 });
    b.answers.sms = () => Response.json({ code: 21610, message: "unsubscribed" }, { status: 400 });
    const push = await alertRow(b, tenant, patientId);
    expect(push.channel).toBe("push");

    expect(await deliver(b, tenant, push.id)).toBe("failed");
    expect(await testDb().select().from(pushDevices).where(eq(pushDevices.id, deviceId))).toEqual([]);
    expect(await rowOf(push.id)).toMatchObject({ status: "failed", lastError: "fcm unregistered" });
    const sms = (await rowsOf(tenant)).find((r) => r.channel === "sms");
    expect(sms).toMatchObject({ status: "pending", userId: tenant.members.clinician.id, dedupeKey: push.dedupeKey.replace(/:push$/, ":sms") });
    expect(deliveriesOf(b, sms?.id ?? "")).toHaveLength(1);

    expect(await deliver(b, tenant, sms?.id ?? "")).toBe("failed");
    const email = (await rowsOf(tenant)).find((r) => r.channel === "email");
    expect(email?.status).toBe("pending");
    expect(await deliver(b, tenant, email?.id ?? "")).toBe("sent");
    expect([b.sent("push").length, b.sent("sms").length, b.sent("email").length]).toEqual([1, 1, 1]);
  });
});

describe("quiet hours", () => {
  it("defers a non-critical row to the end of the recipient's quiet hours, then sends it when the sweep finds it due", async () => {
    const { tenant, patientId } = await setup("Deliver Quiet Practice");
    await prefer(tenant.members.clinician.headers, { quietHours: { enabled: true, start: "22:00", end: "07:00" }, timezone: "America/New_York" });
    const b = bench(new Date("2030-01-16T04:30:00Z")); // 23:30 in New York
    const row = await alertRow(b, tenant, patientId);
    expect(await deliver(b, tenant, row.id)).toBe("deferred");
    expect(b.sent("email")).toEqual([]);
    expect(await rowOf(row.id)).toMatchObject({ status: "pending", attempts: 0, notBefore: new Date("2030-01-16T12:00:00Z") });

    b.clock.at = new Date("2030-01-16T11:59:00Z");
    expect(await deliver(b, tenant, row.id)).toBe("skipped");

    // Quiet hours over (moved to now, so the cross-organization sweep runs on the real clock).
    b.clock.at = new Date();
    await prefer(tenant.members.clinician.headers, { quietHours: { enabled: false } });
    await testDb().execute(sql`update notifications set not_before = now() - interval '1 second' where id = ${row.id}::uuid`);
    await sweepNotifications(b.deps);
    const [job] = deliveriesOf(b, row.id).slice(-1);
    expect(job).not.toEqual(deliveriesOf(b, row.id)[0]);
    await runMessage(job as Job, b.deps);
    expect(b.sent("email")).toHaveLength(1);
    expect((await rowOf(row.id))?.status).toBe("sent");
  });

  it("lets a critical row through quiet hours", async () => {
    const { tenant, patientId } = await setup("Deliver Critical Practice");
    await prefer(tenant.members.clinician.headers, { quietHours: { enabled: true, start: "00:00", end: "23:59" } });
    const b = bench(NOON);
    const row = await alertRow(b, tenant, patientId, "critical");
    expect(await deliver(b, tenant, row.id)).toBe("sent");
  });
});

describe("retries", () => {
  it("puts a row back after a 5xx and asks the queue to retry after the backoff or Retry-After", async () => {
    const { tenant, patientId } = await setup("Deliver Retry Practice");
    const b = bench(NOON);
    const row = await alertRow(b, tenant, patientId);
    b.answers.email = () => Response.json({ name: "internal_server_error" }, { status: 500 });
    await expect(deliver(b, tenant, row.id)).rejects.toEqual(expect.objectContaining({ name: "RetryLater", retryAfterSeconds: 10 }));
    expect(await rowOf(row.id)).toMatchObject({ status: "pending", attempts: 1, notBefore: new Date(NOON.getTime() + 10_000), lastError: "resend 500 internal_server_error" });

    b.answers.email = () => Response.json({ name: "rate_limit_exceeded" }, { status: 429, headers: { "Retry-After": "120" } });
    b.clock.at = new Date(NOON.getTime() + 10_000);
    const retry = { id: "m-1", attempts: 2, body: deliveriesOf(b, row.id)[0], ack: vi.fn(), retry: vi.fn() };
    await consumeJobs({ queue: "tend-notifications", messages: [retry] } as unknown as MessageBatch<unknown>, { ...b.deps, deadLetterQueue: { send: vi.fn() } });
    expect(retry.retry).toHaveBeenCalledWith({ delaySeconds: 120 });
    expect(retry.ack).not.toHaveBeenCalled();
    expect(await rowOf(row.id)).toMatchObject({ status: "pending", attempts: 2, notBefore: new Date(NOON.getTime() + 130_000) });

    b.answers.email = () => Response.json({ id: "finally" });
    b.clock.at = new Date(NOON.getTime() + 130_000);
    expect(await deliver(b, tenant, row.id)).toBe("sent");
    expect(b.sent("email")).toHaveLength(3);
  });

  it("fails the row after its last attempt, falls back, and keeps failing the message so it is dead-lettered", async () => {
    const { tenant, patientId } = await setup("Deliver Exhausted Practice");
    await registerDevice(tenant.members.clinician.headers);
    const b = bench(NOON);
    const row = await alertRow(b, tenant, patientId);
    b.answers.push = () => new Response("unavailable", { status: 503 });
    for (let attempt = 1; attempt < MAX_SEND_ATTEMPTS; attempt++) {
      await expect(deliver(b, tenant, row.id)).rejects.toBeInstanceOf(RetryLater);
      b.clock.at = new Date(b.clock.at.getTime() + 3600_000);
    }
    await expect(deliver(b, tenant, row.id)).rejects.toBeInstanceOf(DeliveryExhausted);
    expect(await rowOf(row.id)).toMatchObject({ status: "failed", attempts: MAX_SEND_ATTEMPTS, lastError: "exhausted: fcm 503" });
    expect((await rowsOf(tenant)).filter((r) => r.channel === "email").map((r) => r.status)).toEqual(["pending"]);
    await expect(deliver(b, tenant, row.id)).rejects.toBeInstanceOf(DeliveryExhausted);
    expect(b.sent("push")).toHaveLength(MAX_SEND_ATTEMPTS);
  });
});

describe("exactly once", () => {
  it("sends once when the deliver message is redelivered or the row delivered again", async () => {
    const { tenant, patientId } = await setup("Deliver Redelivery Practice");
    const b = bench(NOON);
    const row = await alertRow(b, tenant, patientId);
    const [job] = deliveriesOf(b, row.id);
    expect(await runMessage(job as Job, b.deps)).toBe("done");
    expect(await runMessage(job as Job, b.deps)).toBe("duplicate");
    expect(await deliver(b, tenant, row.id)).toBe("skipped");
    expect(b.sent("email")).toHaveLength(1);
  });

  it("sends once when three deliveries race", async () => {
    const { tenant, patientId } = await setup("Deliver Race Practice");
    await registerDevice(tenant.members.clinician.headers);
    const b = bench(NOON);
    const row = await alertRow(b, tenant, patientId);
    const results = await Promise.all([1, 2, 3].map(() => deliver(b, tenant, row.id)));
    expect(results.sort()).toEqual(["sent", "skipped", "skipped"]);
    expect(b.sent("push")).toHaveLength(1);
  });

  it("never sends an SMS twice when its sender died mid-send: the sweep fails it as interrupted and falls back", async () => {
    const { tenant, patientId } = await setup("Deliver Crash SMS Practice");
    await prefer(tenant.members.clinician.headers, { channels: { sms: true }, phone: "+15005550001" });
    const b = bench(new Date());
    const row = await alertRow(b, tenant, patientId);
    b.answers.sms = () => new Promise<Response>(() => undefined); // the isolate dies after the request left
    void deliver(b, tenant, row.id);
    await vi.waitFor(() => expect(b.sent("sms")).toHaveLength(1));
    expect((await rowOf(row.id))?.status).toBe("sending");

    await sweepNotifications(b.deps);
    expect((await rowOf(row.id))?.status).toBe("sending");
    await backdateClaim(row.id, 301);
    await sweepNotifications(b.deps);
    expect(await rowOf(row.id)).toMatchObject({ status: "failed", lastError: "interrupted: the sender stopped mid-send" });
    const email = (await rowsOf(tenant)).find((r) => r.channel === "email");
    expect(deliveriesOf(b, email?.id ?? "")).toHaveLength(1);
    expect(await deliver(b, tenant, email?.id ?? "")).toBe("sent");
    expect(await deliver(b, tenant, row.id)).toBe("skipped");
    expect(b.sent("sms")).toHaveLength(1);
  });

  it("re-sends an interrupted email with the same Idempotency-Key, so Resend mails it once", async () => {
    const { tenant, patientId } = await setup("Deliver Crash Email Practice");
    const b = bench(new Date());
    const row = await alertRow(b, tenant, patientId);
    b.answers.email = () => new Promise<Response>(() => undefined);
    void deliver(b, tenant, row.id);
    await vi.waitFor(() => expect(b.sent("email")).toHaveLength(1));
    await backdateClaim(row.id, 301);
    b.answers.email = () => Response.json({ id: "resend-replayed" });
    await sweepNotifications(b.deps);
    expect((await rowOf(row.id))?.status).toBe("pending");
    const [job] = deliveriesOf(b, row.id).slice(-1);
    await runMessage(job as Job, b.deps);
    expect(await rowOf(row.id)).toMatchObject({ status: "sent", attempts: 2, providerMessageId: "resend-replayed" });
    expect(new Set(b.sent("email").map((mail) => mail.headers["idempotency-key"]))).toEqual(new Set([row.id]));
  });
});
