import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { z } from "@hono/zod-openapi";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "#src/app.ts";
import { createRouter } from "#src/lib/create-router.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { admitsInParallel, defineRoute } from "#src/lib/route.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import type { Admission, Platform, RateLimits } from "#src/platform/ports.ts";
import { createTenant, uniqueIp } from "./fixtures.ts";
import { apiWithEnv, BASE, problemOf } from "./helpers.ts";

/**
 * Admission (rate limit + revocation, one Durable Object call) runs beside the handler of a
 * side-effect-free read, and its refusal still wins: the handler's answer is thrown away. Writes,
 * and reads declared `sideEffects`, still wait for admission. The app here is the real one with a
 * limiter whose `admit` a test may replace, and three probe routes declared like product routes.
 */
type Admit = RateLimits["admit"];
let admitOverride: Admit | undefined;

const platform: Platform = {
  name: "test",
  adapters(workerEnv) {
    const real = cloudflarePlatform.adapters(workerEnv);
    const admit: Admit = (subject, policy, session) =>
      admitOverride ? admitOverride(subject, policy, session) : real.rateLimiter.admit(subject, policy, session);
    return { ...real, rateLimiter: { ...real.rateLimiter, admit } };
  },
};

const ProbeSchema = z.object({ secret: z.string() });
const probeRoute = <const M extends "get" | "post", const P extends string>(method: M, path: P, sideEffects?: true) =>
  defineRoute({
    method,
    path,
    operationId: `probe${method}${path.replace(/\W/g, "")}`,
    tags: ["Platform"],
    summary: "Probe",
    description: "Probe route for the admission tests.",
    permission: "organization:read",
    ...(sideEffects ? { sideEffects } : {}),
    responses: { 200: jsonResponse("Probe", ProbeSchema) },
  });

/** What the probe handlers did: how often each ran, and a signal when the read's handler starts. */
const probes = { reads: 0, sideEffectReads: 0, writes: 0, readStarted: () => {} };
const SECRET = "probe-secret-body";

const probeRouter = createRouter()
  .openapi(probeRoute("get", "/probe/parallel-read"), (c) => {
    probes.reads += 1;
    probes.readStarted();
    return c.json({ secret: SECRET }, 200, { "X-Probe-Secret": SECRET });
  })
  .openapi(probeRoute("get", "/probe/side-effect-read", true), (c) => {
    probes.sideEffectReads += 1;
    return c.json({ secret: SECRET }, 200);
  })
  .openapi(probeRoute("post", "/probe/write"), (c) => {
    probes.writes += 1;
    return c.json({ secret: SECRET }, 200);
  });
const app = createApp(platform);
app.route("/api/v1", probeRouter);

async function call(path: string, init: RequestInit = {}, overrides: Record<string, unknown> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const allowed = (remaining = 99): Admission => ({ revoked: false, decision: { allowed: true, limit: 100, remaining, resetSeconds: 42 } });
const LIMITED: Admission = { revoked: false, decision: { allowed: false, limit: 100, remaining: 0, resetSeconds: 37 } };
const REVOKED: Admission = { revoked: true };

/** The whole answer as text, headers included, to show the handler's output is nowhere in it. */
async function wholeText(response: Response): Promise<string> {
  const headers = [...response.headers].map(([key, value]) => `${key}: ${value}`).join("\n");
  return `${headers}\n${await response.text()}`;
}

afterEach(() => {
  admitOverride = undefined;
  probes.reads = 0;
  probes.sideEffectReads = 0;
  probes.writes = 0;
  probes.readStarted = () => {};
});

describe("admission beside side-effect-free reads", () => {
  it("allows parallel admission only for declared GET/HEAD routes without side effects", () => {
    expect(admitsInParallel("GET", "/api/v1/me")).toBe(true);
    expect(admitsInParallel("HEAD", "/api/v1/me")).toBe(true);
    expect(admitsInParallel("GET", "/api/v1/organization")).toBe(true);
    expect(admitsInParallel("PATCH", "/api/v1/organization")).toBe(false);
    expect(admitsInParallel("POST", "/api/v1/api-keys")).toBe(false);
    expect(admitsInParallel("GET", "/api/v1/probe/side-effect-read")).toBe(false);
    expect(admitsInParallel("GET", "/api/v1/openapi.json")).toBe(false);
    expect(admitsInParallel("GET", "/api/v1/no-such-route")).toBe(false);
  });

  it("really overlaps: admit waits for the handler to start, and the read still succeeds with its RateLimit headers", async () => {
    const { members } = await createTenant("Parallel Readers");
    let handlerStartedFirst = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    admitOverride = async () => {
      const started = new Promise<boolean>((resolve) => {
        probes.readStarted = () => resolve(true);
      });
      // A deadline so a sequential admission fails the test instead of hanging it.
      const deadline = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 5_000);
      });
      handlerStartedFirst = await Promise.race([started, deadline]);
      clearTimeout(timer);
      return allowed(7);
    };
    const response = await call("/api/v1/probe/parallel-read", { headers: members.owner.headers });
    expect(handlerStartedFirst).toBe(true);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ secret: SECRET });
    expect(response.headers.get("RateLimit")).toBe('"reads";r=7;t=42');
    expect(response.headers.get("RateLimit-Policy")).toMatch(/^"reads";q=\d+;w=60$/);
  });

  it("answers 401 to a revoked token on GET /me, leaking none of the member's data", async () => {
    const { members, organizationId } = await createTenant("Revoked Readers");
    const headers = { ...members.clinician.headers, "CF-Connecting-IP": uniqueIp() };
    expect((await apiWithEnv({}, "/api/v1/me", { headers })).status).toBe(200);
    expect((await apiWithEnv({}, "/api/v1/auth/logout-all", { method: "POST", headers })).status).toBe(204);
    const response = await apiWithEnv({}, "/api/v1/me", { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    const text = await wholeText(response);
    expect(text).not.toContain(members.clinician.email);
    expect(text).not.toContain(organizationId);
    expect(text).toContain("revoked");
  });

  it("throws the read handler's answer away on a revoked token: body and headers", async () => {
    const { members } = await createTenant("Revoked Probe");
    admitOverride = async () => REVOKED;
    const response = await call("/api/v1/probe/parallel-read", { headers: members.owner.headers });
    expect(response.status).toBe(401);
    expect(probes.reads).toBe(1);
    expect(response.headers.get("X-Probe-Secret")).toBeNull();
    expect(await wholeText(response)).not.toContain(SECRET);
  });

  it("answers 429 with RateLimit headers and Retry-After to a rate-limited GET /me, without its data", async () => {
    const { members } = await createTenant("Limited Readers");
    const headers = { ...members.staff.headers, "CF-Connecting-IP": uniqueIp() };
    const first = await call("/api/v1/me", { headers }, { RATE_LIMIT_READS_PER_MINUTE: "1" });
    expect(first.status).toBe(200);
    const limited = await call("/api/v1/me", { headers }, { RATE_LIMIT_READS_PER_MINUTE: "1" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("RateLimit-Policy")).toBe('"reads";q=1;w=60');
    expect(limited.headers.get("RateLimit")).toMatch(/^"reads";r=0;t=\d+$/);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(limited.clone())).status).toBe(429);
    expect(await wholeText(limited)).not.toContain(members.staff.email);
  });

  it("throws the read handler's answer away when limited, keeping the limiter's headers", async () => {
    const { members } = await createTenant("Limited Probe");
    admitOverride = async () => LIMITED;
    const response = await call("/api/v1/probe/parallel-read", { headers: members.owner.headers });
    expect(response.status).toBe(429);
    expect(probes.reads).toBe(1);
    expect(response.headers.get("Retry-After")).toBe("37");
    expect(response.headers.get("RateLimit")).toBe('"reads";r=0;t=37');
    expect(await wholeText(response)).not.toContain(SECRET);
  });

  it("answers 503 with Retry-After when the limiter fails, on GET /me and a probe read", async () => {
    const { members } = await createTenant("Limiter Down");
    admitOverride = async () => {
      throw new Error("Durable Object unreachable");
    };
    const me = await call("/api/v1/me", { headers: members.owner.headers });
    expect(me.status).toBe(503);
    expect(me.headers.get("Retry-After")).toBe("2");
    expect(await wholeText(me)).not.toContain(members.owner.email);

    const probe = await call("/api/v1/probe/parallel-read", { headers: members.owner.headers });
    expect(probe.status).toBe(503);
    expect(probe.headers.get("Retry-After")).toBe("2");
    expect(probes.reads).toBe(1);
    expect(await wholeText(probe)).not.toContain(SECRET);
  });

  it("HEAD /me is refused like GET", async () => {
    const { members } = await createTenant("Head Readers");
    admitOverride = async () => REVOKED;
    const response = await call("/api/v1/me", { method: "HEAD", headers: members.owner.headers });
    expect(response.status).toBe(401);
  });
});

describe("admission before writes and reads with side effects", () => {
  const refusals: [string, Admit, number][] = [
    ["revoked", async () => REVOKED, 401],
    ["limited", async () => LIMITED, 429],
    [
      "limiter down",
      async () => {
        throw new Error("Durable Object unreachable");
      },
      503,
    ],
  ];

  it.each(refusals)("never runs a POST handler when refused (%s)", async (_name, admit, status) => {
    const { members } = await createTenant("Refused Writers");
    admitOverride = admit;
    const response = await call("/api/v1/probe/write", { method: "POST", headers: members.owner.headers });
    expect(response.status).toBe(status);
    expect(probes.writes).toBe(0);
  });

  it.each(refusals)("never runs a read declared `sideEffects` when refused (%s)", async (_name, admit, status) => {
    const { members } = await createTenant("Refused Side Effects");
    admitOverride = admit;
    const response = await call("/api/v1/probe/side-effect-read", { headers: members.owner.headers });
    expect(response.status).toBe(status);
    expect(probes.sideEffectReads).toBe(0);
  });

  it("runs the POST handler only once admission has answered", async () => {
    const { members } = await createTenant("Ordered Writers");
    let writesWhenAdmitted = -1;
    admitOverride = async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      writesWhenAdmitted = probes.writes;
      return allowed();
    };
    const response = await call("/api/v1/probe/write", { method: "POST", headers: members.owner.headers });
    expect(response.status).toBe(200);
    expect(writesWhenAdmitted).toBe(0);
    expect(probes.writes).toBe(1);
    expect(response.headers.get("RateLimit")).toBe('"writes";r=99;t=42');
  });
});
