import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { domainEvents } from "#src/db/schema/index.ts";
import worker from "#src/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { insertCaredPatient } from "./clinical.ts";
import { createTenant } from "./fixtures.ts";
import { testDb } from "./helpers.ts";
import { captureMail } from "./mail.ts";
import { rowOf, rowsOf } from "./notifications-harness.ts";

/**
 * The wiring, end to end on the real queues: an alert event dispatched on tend-jobs becomes
 * outbox rows, their delivery travels on tend-notifications, and the configured Resend client
 * (intercepted) mails it with the row's id as its Idempotency-Key.
 */
describe("notifications on the real queues", () => {
  it("turns a dispatched alert event into a mailed notification", async () => {
    const sent = captureMail({ outbox: true });
    const headers: string[] = [];
    const spy = vi.mocked(globalThis.fetch);
    const inner = spy.getMockImplementation();
    spy.mockImplementation(async (input, init) => {
      headers.push(new Headers(init?.headers).get("Idempotency-Key") ?? "");
      return inner ? inner(input, init) : Response.json({});
    });
    try {
      const tenant = await createTenant("Queue Wiring Practice");
      const patientId = await insertCaredPatient(tenant, "Wilhelmina Castellanos");
      const eventId = uuidv7();
      await testDb()
        .insert(domainEvents)
        .values({ id: eventId, organizationId: tenant.organizationId, type: "alert.created", subjectType: "alert", subjectId: uuidv7(), payload: { patientId, severity: "high", type: "manual" } });
      const batch = createMessageBatch("tend-jobs", [{ id: `msg-${eventId}`, timestamp: new Date(), attempts: 1, body: { kind: "events.dispatch", organizationId: tenant.organizationId, eventId } }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);

      const email = (await rowsOf(tenant)).find((row) => row.channel === "email");
      expect(email?.userId).toBe(tenant.members.clinician.id);
      await vi.waitFor(async () => expect((await rowOf(email?.id ?? ""))?.status).toBe("sent"), { timeout: 10_000, interval: 200 });
      const mails = sent.filter((mail) => mail.to.includes(tenant.members.clinician.email));
      expect(mails).toHaveLength(1);
      expect(mails[0]?.text).not.toMatch(/Wilhelmina|Castellanos/);
      expect(headers).toContain(email?.id);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
