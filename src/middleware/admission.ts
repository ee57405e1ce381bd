import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "#src/env.ts";
import { ServiceUnavailable, TooManyRequests, Unauthorized } from "#src/lib/errors.ts";
import type { AppEnv } from "#src/lib/types.ts";
import type { RateLimitDecision, RateLimitPolicy } from "#src/platform/ports.ts";

const WINDOW_SECONDS = 60;
const AUTH_PATHS = /^\/api\/v1\/(auth\/|invitations\/accept$)/;

export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

function policyFor(c: Context<AppEnv>, config: Config, anonymousAuthRoute: boolean): RateLimitPolicy {
  if (anonymousAuthRoute) return { name: "auth", limit: config.RATE_LIMIT_AUTH_PER_MINUTE, windowSeconds: WINDOW_SECONDS };
  const read = c.req.method === "GET" || c.req.method === "HEAD";
  return read
    ? { name: "reads", limit: config.RATE_LIMIT_READS_PER_MINUTE, windowSeconds: WINDOW_SECONDS }
    : { name: "writes", limit: config.RATE_LIMIT_WRITES_PER_MINUTE, windowSeconds: WINDOW_SECONDS };
}

function setRateLimitHeaders(headers: Headers, policy: RateLimitPolicy, decision: RateLimitDecision): void {
  headers.set("RateLimit-Policy", `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`);
  headers.set("RateLimit", `"${policy.name}";r=${decision.remaining};t=${decision.resetSeconds}`);
}

/**
 * Rate limits every API request in one Durable Object call, per user, per API key, or per IP
 * before sign-in (auth routes get their own stricter policy), and in the same call checks that
 * the caller's access token has not been revoked. Headers follow the IETF RateLimit draft.
 */
export function admission(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = c.get("auth");
    const config = c.get("config");
    const policy = policyFor(c, config, !auth && AUTH_PATHS.test(c.req.path));
    const subject = !auth ? `ip:${clientIp(c)}` : auth.kind === "user" ? `user:${auth.userId}` : `apikey:${auth.apiKeyId}`;
    const session =
      auth?.kind === "user" && auth.issuedAtMs !== undefined
        ? { organizationId: auth.organizationId, issuedAtMs: auth.issuedAtMs }
        : undefined;

    const admitted = await c
      .get("adapters")
      .rateLimiter.admit(subject, policy, session)
      .catch(() => {
        throw ServiceUnavailable("Rate limiting is unavailable.", 2);
      });
    if (admitted.revoked) throw Unauthorized("The token has been revoked.");
    const { decision } = admitted;
    if (!decision.allowed) {
      const error = TooManyRequests(decision.resetSeconds);
      const headers = new Headers();
      setRateLimitHeaders(headers, policy, decision);
      headers.forEach((value, key) => {
        error.headers[key] = value;
      });
      throw error;
    }
    await next();
    setRateLimitHeaders(c.res.headers, policy, decision);
  };
}
