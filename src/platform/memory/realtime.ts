import { type Clock, type Realtime, systemClock } from "#src/platform/ports.ts";
import {
  closeFor,
  keptSince,
  messageOf,
  REPLAY_MAX_EVENTS,
  type SequencedEvent,
  truncatedMessage,
} from "#src/platform/realtime-rules.ts";

/** An accepted socket; text sent before it opens waits in `pending`. */
interface LiveSocket {
  organizationId: string;
  socket: WebSocket;
  pending: string[] | null;
}

interface UserHub {
  events: SequencedEvent[];
  lastSeq: number;
  sockets: Set<LiveSocket>;
}

interface Upgraded {
  socket: WebSocket;
  response: Response;
  /** Resolves once the socket may send. */
  opened: Promise<void>;
}

type DenoUpgrade = { upgradeWebSocket(request: Request): { socket: WebSocket; response: Response } };
type PairConstructor = new () => Record<0 | 1, WebSocket>;

/**
 * Deno upgrades only the request `Deno.serve` handed over, not a copy of it: src/deno.ts rebuilds
 * each request (the peer address), so it keeps the original here for the copy.
 */
const originals = new WeakMap<Request, Request>();

/** The copy, remembered as standing for `original` when a WebSocket upgrade is made from it. */
export function keepUpgradable(copy: Request, original: Request): Request {
  originals.set(copy, original);
  return copy;
}

/** Deno's upgrade where there is Deno, workerd's WebSocketPair where there is workerd (the tests). */
function upgrade(request: Request): Upgraded | null {
  const runtime = globalThis as { Deno?: DenoUpgrade; WebSocketPair?: PairConstructor };
  if (runtime.Deno) {
    const { socket, response } = runtime.Deno.upgradeWebSocket(originals.get(request) ?? request);
    const opened = new Promise<void>((resolve) => socket.addEventListener("open", () => resolve(), { once: true }));
    return { socket, response, opened };
  }
  if (runtime.WebSocketPair) {
    const { 0: client, 1: server } = new runtime.WebSocketPair();
    (server as WebSocket & { accept(): void }).accept();
    return { socket: server, response: new Response(null, { status: 101, webSocket: client } as ResponseInit), opened: Promise.resolve() };
  }
  return null;
}

function send(live: LiveSocket, text: string): void {
  if (live.pending) {
    live.pending.push(text);
    return;
  }
  try {
    live.socket.send(text);
  } catch {
    // closing meanwhile: its client replays on reconnect
  }
}

/**
 * In-process live updates for Deno, by the NotificationHub's rules (src/platform/realtime-rules.ts):
 * per-user sequence numbers, an event id stored once, replay of the last 24 h or 1,000 events
 * after `since`, events only to sockets of their organization, "ping" answered "pong", and the
 * same close codes. One process only: several Deno processes would each hold their own sockets.
 */
export function memoryRealtime(clock: Clock = systemClock): Realtime & { events(userId: string): readonly SequencedEvent[] } {
  const hubs = new Map<string, UserHub>();
  const hubOf = (userId: string): UserHub => {
    let hub = hubs.get(userId);
    if (!hub) {
      hub = { events: [], lastSeq: 0, sockets: new Set() };
      hubs.set(userId, hub);
    }
    return hub;
  };
  const prune = (hub: UserHub, now: number) => {
    hub.events = hub.events.filter((event) => event.at >= keptSince(now) && event.seq > hub.lastSeq - REPLAY_MAX_EVENTS);
  };

  function replay(hub: UserHub, organizationId: string, since: number): string[] {
    if (!Number.isSafeInteger(since) || since < 0) return [];
    const now = clock.now().getTime();
    prune(hub, now);
    const messages = hub.events.filter((event) => event.organizationId === organizationId && event.seq > since).map(messageOf);
    const next = hub.events[0]?.seq ?? hub.lastSeq + 1;
    return next > since + 1 && since < hub.lastSeq ? [truncatedMessage(organizationId, since, next, now), ...messages] : messages;
  }

  return {
    async publish(userIds, event) {
      const at = clock.now().getTime();
      for (const userId of new Set(userIds)) {
        const hub = hubOf(userId);
        if (event.id !== undefined && hub.events.some((kept) => kept.id === event.id)) continue;
        hub.lastSeq += 1;
        const stored: SequencedEvent = { ...event, at, seq: hub.lastSeq };
        hub.events.push(stored);
        prune(hub, at);
        const message = messageOf(stored);
        for (const live of hub.sockets) if (live.organizationId === event.organizationId) send(live, message);
      }
    },
    async connect(userId, organizationId, request, since) {
      const upgraded = upgrade(request);
      if (!upgraded) return new Response(null, { status: 501 });
      const hub = hubOf(userId);
      const live: LiveSocket = { organizationId, socket: upgraded.socket, pending: since === undefined ? [] : replay(hub, organizationId, since) };
      hub.sockets.add(live);
      upgraded.socket.addEventListener("message", (message: MessageEvent) => {
        if (message.data === "ping") send(live, "pong");
      });
      upgraded.socket.addEventListener("close", () => hub.sockets.delete(live));
      void upgraded.opened.then(() => {
        const waiting = live.pending ?? [];
        live.pending = null;
        for (const text of waiting) send(live, text);
      });
      return upgraded.response;
    },
    async disconnect(userId, organizationId) {
      const hub = hubs.get(userId);
      if (!hub) return;
      const { code, reason } = closeFor(organizationId);
      // Access in the organization changed: nothing the old access was sent is replayed.
      if (organizationId !== undefined) hub.events = hub.events.filter((event) => event.organizationId !== organizationId);
      for (const live of hub.sockets) {
        if (organizationId !== undefined && live.organizationId !== organizationId) continue;
        hub.sockets.delete(live);
        try {
          live.socket.close(code, reason);
        } catch {
          // already closed
        }
      }
    },
    async forget(userId, organizationId, patientId) {
      const hub = hubs.get(userId);
      if (!hub) return;
      const own = (event: SequencedEvent) => event.type.startsWith("appointment.") && event.data.clinicianId === userId;
      hub.events = hub.events.filter((event) => event.organizationId !== organizationId || event.data.patientId !== patientId || own(event));
    },
    /** What the user's hub keeps for replay (tests). */
    events: (userId) => hubs.get(userId)?.events ?? [],
  };
}
