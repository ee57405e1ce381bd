import type { NotificationHub } from "../../../durable-objects/notification-hub.ts";
import type { Realtime } from "#src/platform/ports.ts";

/** Each user's NotificationHub object. (Skeleton: issue 8's realtime work fills it in.) */
export function durableRealtime(namespace: DurableObjectNamespace<NotificationHub>): Realtime {
  const hub = (userId: string) => namespace.get(namespace.idFromName(`user:${userId}`));
  return {
    publish: async (userIds, event) => {
      await Promise.all(userIds.map((userId) => hub(userId).publish(event)));
    },
    connect: async () => new Response(null, { status: 501 }),
    disconnect: (userId, organizationId) => hub(userId).disconnect(organizationId),
  };
}
