import type { Context, MiddlewareHandler } from "hono";
import { authCallsPerMinute, type Config } from "#src/env.ts";
import { ServiceUnavailable, TooManyRequests, Unauthorized } from "#src/lib/errors.ts";
import { admitsInParallel, rateLimitPolicyOf } from "#src/lib/route-admission.ts";
import type { AppEnv } from "#src/lib/types.ts";
import type { Admission, RateLimitDecision, RateLimitPolicy, SessionToken } from "#src/platform/ports.ts";

const WINDOW_SECONDS = 60;

/**
 * The caller's address, from CF-Connecting-IP. Cloudflare's edge sets it in production, replacing
 * any a client sent; src/deno.ts sets it from the socket's peer (or, behind TRUSTED_PROXIES, from
 * X-Forwarded-For). `wrangler dev` and Miniflare pass a client-sent one through (README).
 */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

function policyFor(c: Context<AppEnv>, config: Config): RateLimitPolicy {
  const read = c.req.method === "GET" || c.req.method === "HEAD";
  return read
    ? { name: "reads", limit: config.RATE_LIMIT_READS_PER_MINUTE, windowSeconds: WINDOW_SECONDS }
    : { name: "writes", limit: config.RATE_LIMIT_WRITES_PER_MINUTE, windowSeconds: WINDOW_SECONDS };
}

function setRateLimitHeaders(headers: Headers, policy: RateLimitPolicy, decision: RateLimitDecision): void {
  headers.set("RateLimit-Policy", `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`);
  headers.set("RateLimit", `"${policy.name}";r=${decision.remaining};t=${decision.resetSeconds}`);
}

type Shown = { policy: RateLimitPolicy; decision: RateLimitDecision };

/** The limiter's answers as a verdict: the tightest policy to show, or the refusal, thrown. */
function verdictOf(results: { policy: RateLimitPolicy; admitted: Admission }[]): Shown {
  if (results.some(({ admitted }) => admitted.revoked)) throw Unauthorized("The token has been revoked.");
  const decided = results.flatMap(({ policy, admitted }) => (admitted.revoked ? [] : [{ policy, decision: admitted.decision }]));
  const refused = decided.find(({ decision }) => !decision.allowed);
  if (refused) {
    const error = TooManyRequests(refused.decision.resetSeconds);
    const headers = new Headers();
    setRateLimitHeaders(headers, refused.policy, refused.decision);
    headers.forEach((value, key) => {
      error.headers[key] = value;
    });
    throw error;
  }
  return decided.reduce((tightest, entry) => (entry.decision.remaining < tightest.decision.remaining ? entry : tightest));
}

/**
 * Rate limits every API request in one Durable Object call: per user, per API key, or per IP
 * before sign-in; the same call checks that the caller's access token has not been revoked.
 * Auth routes (declared `rateLimit: "auth"`: login, signup, reset, MFA, invitations) also pay the stricter per-IP
 * policy, credentials or not, so a valid token cannot buy an attacker a looser limit there.
 * Headers follow the IETF RateLimit draft and describe the tightest policy applied.
 *
 * A caller's side-effect-free read (`admitsInParallel`: a declared GET, not `sideEffects`) runs its
 * handler beside the limiter call rather than after it, saving a round trip; a refusal (401 revoked,
 * 429, 503) still wins, once the handler is done, and its answer, body and headers, is thrown away.
 * Everything else, writes above all, runs only once admitted.
 */
export function admission(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = c.get("auth");
    const config = c.get("config");
    const limiter = c.get("adapters").rateLimiter;
    const checks: Promise<{ policy: RateLimitPolicy; admitted: Admission }>[] = [];
    const admit = (subject: string, policy: RateLimitPolicy, session?: SessionToken) => {
      const admitted = limiter.admit(subject, policy, session);
      checks.push(admitted.then((answer) => ({ policy, admitted: answer })));
      return admitted;
    };
    // The caller's own subject also says when they last wrote: a cache reads it (already in flight).
    const callerWrite = (admitted: Promise<Admission>) =>
      c.set(
        "lastWrite",
        admitted.then(
          (answer) => (answer.revoked ? undefined : answer.lastWriteMs),
          () => undefined,
        ),
      );

    if (rateLimitPolicyOf(c.req.method, c.req.path) === "auth") {
      admit(`ip:${clientIp(c)}`, { name: "auth", limit: authCallsPerMinute(config), windowSeconds: WINDOW_SECONDS });
    }
    if (auth?.kind === "user") {
      const session =
        auth.issuedAtMs === undefined ? undefined : { organizationId: auth.organizationId, issuedAtMs: auth.issuedAtMs, sessionId: auth.sessionId };
      callerWrite(admit(`user:${auth.userId}`, policyFor(c, config), session));
    } else if (auth) {
      callerWrite(admit(`apikey:${auth.apiKeyId}`, policyFor(c, config)));
    } else if (checks.length === 0) {
      admit(`ip:${clientIp(c)}`, policyFor(c, config));
    }

    const verdict = Promise.all(checks).then(verdictOf, () => {
      throw ServiceUnavailable("Rate limiting is unavailable.", 2);
    });
    if (!auth || !admitsInParallel(c.req.method, c.req.path)) {
      const shown = await verdict;
      await next();
      setRateLimitHeaders(c.res.headers, shown.policy, shown.decision);
      return;
    }

    // Hono's compose turns a handler's thrown problem into c.res; only a non-Error throw rejects.
    const handled = next().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const decided = await verdict.then(
      (shown) => ({ shown }),
      (refusal: unknown) => ({ refusal }),
    );
    const outcome = await handled;
    if ("refusal" in decided) {
      // Forget the handler's answer, so that none of its headers are merged into the refusal.
      c.res = undefined;
      throw decided.refusal;
    }
    if (outcome) throw outcome.error;
    setRateLimitHeaders(c.res.headers, decided.shown.policy, decided.shown.decision);
  };
}
