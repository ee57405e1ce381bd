import type { EventConsumer } from "#src/features/events/events.consumers.ts";

/** This feature's domain-event consumers (EVENT_CONSUMERS in src/features/events/events.consumers.ts lists them). */
export const realtimeConsumers: readonly EventConsumer[] = [];
