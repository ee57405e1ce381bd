import type { NotificationHub } from "../../../durable-objects/notification-hub.ts";
import { type Clock, type Realtime, systemClock } from "#src/platform/ports.ts";

/**
 * Each user's NotificationHub object (`user:<id>`). A publish reaches every recipient's object in
 * parallel, stamped once with the publisher's clock (the `at` clients see). Stubs are made per
 * call: workerd ties a stub to the request that made it.
 */
export function durableRealtime(namespace: DurableObjectNamespace<NotificationHub>, clock: Clock = systemClock): Realtime {
  const hub = (userId: string) => namespace.get(namespace.idFromName(`user:${userId}`));
  return {
    publish: async (userIds, event) => {
      const stamped = { ...event, at: clock.now().getTime() };
      await Promise.all([...new Set(userIds)].map((userId) => hub(userId).publish(stamped)));
    },
    connect: async (userId, organizationId, _request, since) => {
      const url = new URL("https://notification-hub.invalid/connect");
      url.searchParams.set("organizationId", organizationId);
      if (since !== undefined) url.searchParams.set("since", String(since));
      const answer = await hub(userId).fetch(url, { headers: { Upgrade: "websocket" } });
      // A fresh response: the stub's has immutable headers, which the app's middleware sets.
      return answer.webSocket ? new Response(null, { status: 101, webSocket: answer.webSocket }) : answer;
    },
    disconnect: async (userId, organizationId) => {
      await hub(userId).disconnect(organizationId);
    },
    forget: async (userId, organizationId, patientId) => {
      await hub(userId).forget(organizationId, patientId, userId);
    },
  };
}
