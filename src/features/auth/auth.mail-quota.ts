import { type AuthDeps, MAILS_PER_ADDRESS_PER_HOUR, MAILS_PER_ADDRESS_AND_SOURCE_PER_HOUR } from "#src/features/auth/auth.deps.ts";
import { sha256Hex } from "#src/lib/encoding.ts";

/**
 * Whether one more mail of `kind` ("signup", "reset") may go to `email` now: at most
 * MAILS_PER_ADDRESS_AND_SOURCE_PER_HOUR at the request of one client address, and
 * MAILS_PER_ADDRESS_PER_HOUR from all of them. Nobody can flood a mailbox, and silencing someone's
 * own request takes many addresses. Counted in the rate limiter, under the address's hash.
 */
export async function withinMailQuota(deps: Pick<AuthDeps, "rateLimiter" | "origin">, kind: string, email: string): Promise<boolean> {
  const [account, source] = await Promise.all([sha256Hex(email), sha256Hex(deps.origin.ip ?? "unknown")]);
  const name = `${kind}-mail`;
  const perSource = await deps.rateLimiter.admit(`${name}:${account}:${source}`, { name, limit: MAILS_PER_ADDRESS_AND_SOURCE_PER_HOUR, windowSeconds: 3600 });
  if (perSource.revoked || !perSource.decision.allowed) return false;
  const perAddress = await deps.rateLimiter.admit(`${name}:${account}`, { name, limit: MAILS_PER_ADDRESS_PER_HOUR, windowSeconds: 3600 });
  return !perAddress.revoked && perAddress.decision.allowed;
}
