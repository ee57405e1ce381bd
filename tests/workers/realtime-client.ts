import { env } from "cloudflare:test";
import { expect } from "vitest";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import type { Member } from "./fixtures.ts";
import { api } from "./helpers.ts";

/** The one allowed origin of the test configuration (CORS_ORIGINS). */
export const ORIGIN = "https://app.tend.test";

export const realtime = () => cloudflarePlatform.adapters(env).realtime;

export interface LiveMessage {
  seq: number | null;
  type: string;
  organizationId: string;
  data: Record<string, unknown>;
  at: string;
}

/** The client end of a live-updates socket: what it received, in order, and how it closed. */
export interface Client {
  socket: WebSocket;
  /** The next message (JSON parsed, or the raw text when not JSON), or a failure after `ms`. */
  next(ms?: number): Promise<LiveMessage | string>;
  /** Every message that arrives within `ms`. */
  drain(ms?: number): Promise<(LiveMessage | string)[]>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Wraps an accepted client socket. */
export function clientOf(socket: WebSocket): Client {
  const inbox: (LiveMessage | string)[] = [];
  const waiters: ((message: LiveMessage | string) => void)[] = [];
  socket.addEventListener("message", (event: MessageEvent) => {
    const text = String(event.data);
    let message: LiveMessage | string = text;
    try {
      message = JSON.parse(text) as LiveMessage;
    } catch {
      // "pong"
    }
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.addEventListener("close", (event: CloseEvent) => resolve({ code: event.code, reason: event.reason }));
  });
  const next = (ms = 3000) => {
    const queued = inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise<LiveMessage | string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      const waiter = (message: LiveMessage | string) => {
        clearTimeout(timer);
        resolve(message);
      };
      waiters.push(waiter);
    });
  };
  const drain = async (ms = 300) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return inbox.splice(0);
  };
  return { socket, next, drain, closed };
}

export async function ticketFor(member: Member): Promise<string> {
  const response = await api("/api/v1/realtime/ticket", { method: "POST", headers: member.headers });
  expect(response.status).toBe(200);
  return ((await response.json()) as { ticket: string }).ticket;
}

/** GET /realtime as a browser of ORIGIN would (unless `headers` say otherwise). */
export function upgrade(ticket: string | undefined, options: { since?: number; headers?: Record<string, string> } = {}): Promise<Response> {
  const query = new URLSearchParams();
  if (ticket !== undefined) query.set("ticket", ticket);
  if (options.since !== undefined) query.set("since", String(options.since));
  return api(`/api/v1/realtime?${query}`, { headers: { Upgrade: "websocket", Origin: ORIGIN, ...options.headers } });
}

/** A ticket spent on an open socket, accepted on the client side. */
export async function connect(member: Member, since?: number): Promise<Client> {
  const response = await upgrade(await ticketFor(member), since === undefined ? {} : { since });
  expect(response.status).toBe(101);
  const socket = response.webSocket;
  if (!socket) throw new Error("no webSocket on the 101");
  socket.accept();
  return clientOf(socket);
}
