import { env } from "cloudflare:test";
import { and, eq, sql } from "drizzle-orm";
import { domainEvents, notifications } from "#src/db/schema/index.ts";
import { dispatchEvent } from "#src/features/events/events.service.ts";
import { notificationsOutboxConsumer } from "#src/features/notifications/notifications.consumers.ts";
import type { Job } from "#src/jobs/job.ts";
import { backgroundDeps, type Deps } from "#src/lib/deps.ts";
import type { EventPayload, EventType } from "#src/lib/events.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createLogger } from "#src/lib/logger.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { createMailer } from "#src/platform/mailer.ts";
import type { RealtimeEvent } from "#src/platform/ports.ts";
import { jsonBody, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";
import { fakeFetch, providerConfig, providersWith, type Recorded, serviceAccount } from "./providers-fakes.ts";

/**
 * The outbox's test bench: deps on a settable clock, jobs and live events collected instead of
 * sent, and every provider behind one intercepting fetch whose answer each test sets per channel.
 */

const { account } = await serviceAccount();
export const config = providerConfig(account);

export type Channel = "sms" | "voice" | "push" | "email";
export type Answer = (request: Recorded) => Response | Promise<Response>;

export const ok: Record<Channel, Answer> = {
  sms: () => Response.json({ sid: `SM${uuidv7().slice(-8)}` }, { status: 201 }),
  voice: () => Response.json({ sid: `CA${uuidv7().slice(-8)}` }, { status: 201 }),
  push: () => Response.json({ name: `projects/tend-test/messages/${uuidv7()}` }),
  email: () => Response.json({ id: uuidv7() }),
};

export function channelOf(url: string): Channel | "oauth" {
  if (url.endsWith("/Messages.json")) return "sms";
  if (url.endsWith("/Calls.json")) return "voice";
  if (url.startsWith("https://fcm.googleapis.com/")) return "push";
  if (url === "https://api.resend.com/emails") return "email";
  return "oauth";
}

export function bench(now: Date) {
  const clock = { at: now };
  const answers: Record<Channel, Answer> = { ...ok };
  const http = fakeFetch((request) => {
    const channel = channelOf(request.url);
    if (channel === "oauth") return Response.json({ access_token: "ya29.test", expires_in: 3600 });
    return answers[channel](request);
  });
  const enqueued: Job[] = [];
  const published: { userIds: readonly string[]; event: RealtimeEvent }[] = [];
  const logger = createLogger("error");
  const real = cloudflarePlatform.adapters(env);
  const deps: Deps = backgroundDeps({
    db: testDb(),
    config,
    logger,
    adapters: {
      ...real,
      clock: { now: () => clock.at },
      jobs: { enqueue: async (job) => void enqueued.push(job), ping: async () => undefined },
      realtime: {
        publish: async (userIds, event) => void published.push({ userIds, event }),
        connect: async () => new Response(null, { status: 501 }),
        disconnect: async () => undefined,
        forget: async () => undefined,
      },
    },
    providers: providersWith(config, http.fetch, () => clock.at.getTime()),
    mailer: createMailer(config, logger),
    run: "test:notifications",
  });
  /** Provider calls on `channel` (the OAuth exchange aside). */
  const sent = (channel: Channel) => http.requests.filter((request) => channelOf(request.url) === channel);
  return { clock, answers, requests: http.requests, sent, enqueued, published, deps };
}

export type Bench = ReturnType<typeof bench>;

/** A domain event of the tenant, written straight in the outbox, then dispatched to the notifications consumer. */
export async function emit(b: Bench, tenant: Tenant, type: EventType, subject: { type: string; id?: string }, payload: EventPayload): Promise<string> {
  const id = uuidv7();
  const subjectId = subject.id ?? uuidv7();
  await testDb().insert(domainEvents).values({ id, organizationId: tenant.organizationId, type, subjectType: subject.type, subjectId, payload });
  await dispatchEvent(b.deps, tenant.organizationId, id, [notificationsOutboxConsumer]);
  return subjectId;
}

export const rowsOf = (tenant: Tenant, ...conditions: ReturnType<typeof eq>[]) =>
  testDb()
    .select()
    .from(notifications)
    .where(and(eq(notifications.organizationId, tenant.organizationId), ...conditions))
    .orderBy(notifications.createdAt, notifications.channel);

export const rowOf = async (id: string) => (await testDb().select().from(notifications).where(eq(notifications.id, id)))[0];

/** Sets the member's preferences through the API, as they would. */
export async function prefer(headers: Record<string, string>, preferences: Record<string, unknown>): Promise<void> {
  const response = await api("/api/v1/me/preferences", jsonBody(preferences, headers, "PATCH"));
  if (response.status !== 200) throw new Error(`preferences refused: ${response.status} ${await response.text()}`);
}

export async function registerDevice(headers: Record<string, string>, token = `fcm-${uuidv7()}-${uuidv7()}`): Promise<string> {
  const response = await api("/api/v1/me/devices", jsonBody({ token, platform: "android" }, headers));
  if (response.status !== 201) throw new Error(`device refused: ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

/** Backdates a row's claim, as if its sender had died that long ago. */
export const backdateClaim = (id: string, seconds: number) =>
  testDb().execute(sql`update notifications set claimed_at = claimed_at - make_interval(secs => ${seconds}) where id = ${id}::uuid`);

/** The deliver jobs enqueued for a row. */
export const deliveriesOf = (b: Bench, id: string) => b.enqueued.filter((job) => job.kind === "notifications.deliver" && job.notificationId === id);
