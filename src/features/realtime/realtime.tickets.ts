import { z } from "zod";
import type { Config } from "#src/env.ts";
import { constantTimeEqual, fromBase64Url, randomToken, toBase64Url, utf8 } from "#src/lib/encoding.ts";
import { currentPurposeKey, hmacHex, purposeKeys } from "#src/lib/keys.ts";

/**
 * WebSocket tickets: what a browser puts in the upgrade URL instead of its access token. A ticket
 * is `<claims>.<mac>`: base64url JSON claims, HMAC-SHA-256 under the realtime-tickets key (its id
 * in the claims, so a pepper rotation still verifies). Its nonce is spent once, in the user's
 * RateLimiter object, when it is used (realtime.service.ts).
 */

export const TICKET_TTL_SECONDS = 30;

/** What a ticket carries: whose it is, for which organization and session, and until when. */
export const TicketClaims = z.object({
  /** Key id. */
  k: z.string().max(40),
  /** User id. */
  u: z.uuid(),
  /** Organization id. */
  o: z.uuid(),
  /** Session (`sid`) of the access token that bought it, when it had one. */
  s: z.uuid().optional(),
  /** When that access token was issued (ms): revocations until then refuse the ticket. */
  i: z.number().int().nonnegative(),
  /** Expiry (ms). */
  e: z.number().int().nonnegative(),
  /** Nonce: spent once. */
  n: z.string().min(20).max(64),
});

export type TicketClaims = z.infer<typeof TicketClaims>;

export interface TicketSubject {
  userId: string;
  organizationId: string;
  sessionId?: string | undefined;
  issuedAtMs: number;
}

/** A signed ticket for `subject`, valid TICKET_TTL_SECONDS from `nowMs`. */
export async function signTicket(config: Config, subject: TicketSubject, nowMs: number): Promise<{ ticket: string; expiresAt: Date }> {
  const key = await currentPurposeKey("realtimeTickets", config.PASSWORD_PEPPERS);
  const expiresAt = nowMs + TICKET_TTL_SECONDS * 1000;
  const claims: TicketClaims = {
    k: key.id,
    u: subject.userId,
    o: subject.organizationId,
    ...(subject.sessionId ? { s: subject.sessionId } : {}),
    i: subject.issuedAtMs,
    e: expiresAt,
    n: randomToken(24),
  };
  const body = toBase64Url(utf8(JSON.stringify(claims)));
  return { ticket: `${body}.${await hmacHex(key.key, body)}`, expiresAt: new Date(expiresAt) };
}

/** The claims of a ticket this deployment signed, or null (garbage, a forged or altered one). Expiry is the caller's. */
export async function verifyTicket(config: Config, ticket: string): Promise<TicketClaims | null> {
  const [body, mac, ...rest] = ticket.split(".");
  if (!body || !mac || rest.length > 0 || !/^[0-9a-f]{64}$/.test(mac)) return null;
  let claims: TicketClaims;
  try {
    const parsed = TicketClaims.safeParse(JSON.parse(new TextDecoder().decode(fromBase64Url(body))));
    if (!parsed.success) return null;
    claims = parsed.data;
  } catch {
    return null;
  }
  const key = (await purposeKeys("realtimeTickets", config.PASSWORD_PEPPERS)).find((entry) => entry.id === claims.k);
  if (!key) return null;
  return constantTimeEqual(utf8(await hmacHex(key.key, body)), utf8(mac)) ? claims : null;
}
