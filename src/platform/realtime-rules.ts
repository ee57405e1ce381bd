import type { RealtimeEvent } from "#src/platform/ports.ts";

/**
 * What the NotificationHub Durable Object and the memory adapter share: how long events are kept
 * for replay, the close codes, and the one message shape a socket receives.
 */

/** Replay keeps the last 24 hours or the last 1,000 events of a user, whichever is less. */
export const REPLAY_MAX_AGE_MS = 24 * 3_600_000;
export const REPLAY_MAX_EVENTS = 1000;

/** Close codes (4000-4999 are the application's): signed out everywhere; access in the organization changed. */
export const CLOSE_SIGNED_OUT = 4001;
export const CLOSE_ACCESS_CHANGED = 4003;

/** Why `disconnect` closes: logout-all for every organization, removal or a role change for one. */
export function closeFor(organizationId: string | undefined): { code: number; reason: string } {
  return organizationId === undefined
    ? { code: CLOSE_SIGNED_OUT, reason: "signed out everywhere" }
    : { code: CLOSE_ACCESS_CHANGED, reason: "membership changed: request a new ticket" };
}

/** A published event as a hub stores it: the port's event, stamped once by the publisher. */
export interface StampedEvent extends RealtimeEvent {
  /** When the publisher called `publish` (ms). */
  at: number;
}

/** A stored event, numbered in the user's sequence. */
export interface SequencedEvent extends StampedEvent {
  seq: number;
}

/** The one JSON text a socket receives: `{seq, type, organizationId, data, at}`. */
export function messageOf(event: SequencedEvent): string {
  return JSON.stringify({ seq: event.seq, type: event.type, organizationId: event.organizationId, data: event.data, at: new Date(event.at).toISOString() });
}

/**
 * Sent first on a reconnect whose `since` is older than what is kept: events between are gone,
 * so the client reloads what it shows instead of trusting the replay.
 */
export function truncatedMessage(organizationId: string, since: number, oldestKept: number, at: number): string {
  return JSON.stringify({ seq: null, type: "replay.truncated", organizationId, data: { since, oldestKept }, at: new Date(at).toISOString() });
}

/** The oldest `at` still kept at `now`. */
export const keptSince = (now: number): number => now - REPLAY_MAX_AGE_MS;
