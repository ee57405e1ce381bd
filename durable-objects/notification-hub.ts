import { DurableObject } from "cloudflare:workers";

/**
 * One per user: that user's open WebSockets (Hibernation API) and their recent live events.
 * (Skeleton: issue 8's realtime work fills it in.)
 */
export class NotificationHub extends DurableObject {
  async publish(_event: { type: string; organizationId: string; data: Record<string, unknown> }): Promise<number> {
    return 0;
  }

  async disconnect(_organizationId?: string): Promise<void> {}
}
