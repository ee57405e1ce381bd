import { signTicket, TICKET_TTL_SECONDS, verifyTicket } from "#src/features/realtime/realtime.tickets.ts";
import type { Deps } from "#src/lib/deps.ts";
import { Forbidden, ProblemError, TooManyRequests, Unauthorized } from "#src/lib/errors.ts";
import type { SignedInMember } from "#src/middleware/auth.ts";

export type RealtimeDeps = Pick<Deps, "config" | "clock" | "rateLimiter" | "realtime">;

const UpgradeRequired = () =>
  new ProblemError({ status: 426, slug: "upgrade-required", title: "Upgrade required", detail: "Open this URL as a WebSocket (Upgrade: websocket).", headers: { Upgrade: "websocket" } });

/** A ticket for the caller, bound to their user, organization and session. */
export async function issueTicket(deps: RealtimeDeps, member: SignedInMember): Promise<{ ticket: string; expiresAt: string }> {
  const now = deps.clock.now().getTime();
  const subject = { userId: member.userId, organizationId: member.organizationId, sessionId: member.sessionId, issuedAtMs: member.issuedAtMs ?? now };
  const { ticket, expiresAt } = await signTicket(deps.config, subject, now);
  return { ticket, expiresAt: expiresAt.toISOString() };
}

export interface ConnectInput {
  request: Request;
  ticket: string | undefined;
  since: number | undefined;
}

/**
 * Checks the upgrade, its Origin and its ticket, then hands the socket to the user's hub. A
 * ticket is refused when forged, expired, already spent, or bought by an access token revoked
 * since (logout, logout-all, removal, role change): the RateLimiter call that checks the
 * revocation also rate-limits connections, and the next one spends the nonce.
 */
export async function connectSocket(deps: RealtimeDeps, input: ConnectInput): Promise<Response> {
  if (input.request.headers.get("Upgrade")?.toLowerCase() !== "websocket") throw UpgradeRequired();
  const origin = input.request.headers.get("Origin");
  if (origin !== null && !deps.config.CORS_ORIGINS.includes(origin)) throw Forbidden("This Origin may not open live updates.");
  if (!input.ticket) throw Unauthorized("Send a ticket from POST /realtime/ticket.");
  const claims = await verifyTicket(deps.config, input.ticket);
  if (!claims || claims.e <= deps.clock.now().getTime()) throw Unauthorized("The ticket is invalid or expired.");
  const subject = `user:${claims.u}`;
  const policy = { name: "realtime", limit: deps.config.RATE_LIMIT_READS_PER_MINUTE, windowSeconds: 60 };
  const admitted = await deps.rateLimiter.admit(subject, policy, { organizationId: claims.o, issuedAtMs: claims.i, sessionId: claims.s });
  if (admitted.revoked) throw Unauthorized("The ticket's session has ended.");
  if (!admitted.decision.allowed) throw TooManyRequests(admitted.decision.resetSeconds);
  if (!(await deps.rateLimiter.spendOnce(subject, `realtime-ticket:${claims.n}`, 2 * TICKET_TTL_SECONDS))) throw Unauthorized("The ticket has been used.");
  return deps.realtime.connect(claims.u, claims.o, input.request, input.since);
}
