import { DurableObject } from "cloudflare:workers";
import {
  closeFor,
  keptSince,
  messageOf,
  REPLAY_MAX_AGE_MS,
  REPLAY_MAX_EVENTS,
  type SequencedEvent,
  type StampedEvent,
  truncatedMessage,
} from "../src/platform/realtime-rules.ts";

/** What each socket carries through hibernation. */
interface Attachment {
  organizationId: string;
  connectedAt: number;
}

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  type: string;
  organization_id: string;
  data: string;
  at: number;
}

/**
 * One per user: that user's open WebSockets, accepted through the Hibernation API (tagged with
 * their organization, `{organizationId, connectedAt}` as attachment, "ping" answered "pong"
 * without waking the object), and their recent events in SQLite, each numbered in the user's own
 * sequence, so a client reconnecting with `since` gets what it missed before the live ones. An
 * event id is stored once: a redelivered domain event is neither numbered nor sent again. Events
 * are kept 24 hours or 1,000 deep: the count pruned on publish, the age by an alarm (and skipped by replay).
 */
export class NotificationHub extends DurableObject {
  /** The pending prune alarm, mirrored so a publish never asks storage. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE, type TEXT NOT NULL,
          organization_id TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS events_org_seq ON events (organization_id, seq);
      `);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * The upgrade from Realtime.connect (the ticket already spent): `?organizationId=&since=`.
   * The replay is sent before any later publish can run: nothing is awaited in between.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 426 });
    const url = new URL(request.url);
    const organizationId = url.searchParams.get("organizationId");
    if (!organizationId) return new Response(null, { status: 400 });
    const since = url.searchParams.get("since");
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [organizationId]);
    server.serializeAttachment({ organizationId, connectedAt: Date.now() } satisfies Attachment);
    if (since !== null) for (const message of this.replay(organizationId, Number(since))) server.send(message);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Numbers, keeps and sends the event to the user's sockets in its organization; answers its seq, or null for an event id already stored. */
  async publish(event: StampedEvent): Promise<number | null> {
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<{ seq: number }>(
        "INSERT INTO events (event_id, type, organization_id, data, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING seq",
        event.id ?? null,
        event.type,
        event.organizationId,
        JSON.stringify(event.data),
        event.at,
      )
      .toArray()[0];
    if (!row) return null;
    // By count here (the primary key); by age in the alarm, and replay skips what is older.
    sql.exec("DELETE FROM events WHERE seq <= ?", row.seq - REPLAY_MAX_EVENTS);
    const message = messageOf({ ...event, seq: row.seq });
    for (const socket of this.ctx.getWebSockets(event.organizationId)) {
      try {
        socket.send(message);
      } catch {
        // a socket closing meanwhile: its client replays on reconnect
      }
    }
    if (this.alarmAt === null) {
      this.alarmAt = Date.now() + REPLAY_MAX_AGE_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
    return row.seq;
  }

  /**
   * Closes the sockets of one organization (removal, role change) or all (logout-all); answers how
   * many. Access in an organization changed: its kept events go too, so no later socket (a staff
   * role now, a re-invitation) replays what the old access was sent.
   */
  async disconnect(organizationId?: string): Promise<number> {
    const { code, reason } = closeFor(organizationId);
    if (organizationId !== undefined) this.ctx.storage.sql.exec("DELETE FROM events WHERE organization_id = ?", organizationId);
    const sockets = this.ctx.getWebSockets(organizationId);
    for (const socket of sockets) {
      try {
        socket.close(code, reason);
      } catch {
        // already closed
      }
    }
    return sockets.length;
  }

  /**
   * Drops the kept events about one patient in one organization, bar the appointments `userId`
   * (this hub's user) is the clinician of; answers how many went (Realtime.forget).
   */
  async forget(organizationId: string, patientId: string, userId: string): Promise<number> {
    return this.ctx.storage.sql.exec(
      `DELETE FROM events WHERE organization_id = ? AND json_extract(data, '$.patientId') = ?
        AND NOT (type LIKE 'appointment.%' AND coalesce(json_extract(data, '$.clinicianId'), '') = ?)`,
      organizationId,
      patientId,
      userId,
    ).rowsWritten;
  }

  /** Clients only send "ping" (answered without waking the object); anything else is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // the runtime already answered the close
    }
  }

  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    this.alarmAt = null;
    sql.exec("DELETE FROM events WHERE at < ?", keptSince(Date.now()));
    const oldest = sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM events").one().at;
    if (oldest !== null) {
      this.alarmAt = oldest + REPLAY_MAX_AGE_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }

  /** The organization's events after `since`, kept and not expired; a truncation notice first when some are gone. */
  private replay(organizationId: string, since: number): string[] {
    if (!Number.isSafeInteger(since) || since < 0) return [];
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const rows = sql
      .exec<EventRow>("SELECT seq, type, organization_id, data, at FROM events WHERE organization_id = ? AND seq > ? AND at >= ? ORDER BY seq", organizationId, since, keptSince(now))
      .toArray();
    const oldest = sql.exec<{ seq: number | null }>("SELECT min(seq) AS seq FROM events WHERE at >= ?", keptSince(now)).one().seq;
    const next = oldest ?? this.lastSeq() + 1;
    const messages = rows.map((row) => messageOf(eventOf(row)));
    return next > since + 1 && since < this.lastSeq() ? [truncatedMessage(organizationId, since, next, now), ...messages] : messages;
  }

  private lastSeq(): number {
    return this.ctx.storage.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").toArray()[0]?.seq ?? 0;
  }
}

function eventOf(row: EventRow): SequencedEvent {
  return { seq: row.seq, type: row.type, organizationId: row.organization_id, data: JSON.parse(row.data) as Record<string, unknown>, at: row.at };
}
