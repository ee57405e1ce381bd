import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { api, apiWithEnv, problemOf } from "./helpers.ts";

describe("GET /health", () => {
  it("answers 200 without touching any dependency, even with the database gone", async () => {
    const response = await apiWithEnv({ DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:1/sql" }, "/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("Server-Timing")).toContain("db;dur=0.0");
  });
});

describe("GET /ready", () => {
  it("reports the database, KV, Durable Object and queue checks with their latency", async () => {
    const response = await api("/ready");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; platform: string; checks: Record<string, { status: string; latencyMs: number }> };
    expect(body.status).toBe("ok");
    expect(body.platform).toBe("cloudflare");
    for (const name of ["database", "kv", "durableObjects", "queue"]) {
      expect(body.checks[name]?.status).toBe("ok");
      expect(body.checks[name]?.latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  it("answers 503 with Retry-After when the database refuses connections", async () => {
    const response = await apiWithEnv({ DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:1/sql" }, "/ready");
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("5");
    const problem = await problemOf(response);
    expect(problem.detail).toBe("Not ready: database.");
    expect(problem.checks).toMatchObject({
      database: { status: "fail", error: "unreachable" },
      kv: { status: "ok" },
      durableObjects: { status: "ok" },
      queue: { status: "ok" },
    });
  });

  it("answers 503 naming the queue when its producer does not answer, without sending it a job", async () => {
    const sent: unknown[] = [];
    const broken = {
      send: async (body: unknown) => void sent.push(body),
      sendBatch: async (bodies: unknown[]) => void sent.push(...bodies),
      metrics: async () => Promise.reject(new Error("queue unavailable")),
    };
    const response = await apiWithEnv({ JOBS: broken }, "/ready");
    expect(response.status).toBe(503);
    const problem = await problemOf(response);
    expect(problem.detail).toBe("Not ready: queue.");
    expect(problem.checks).toMatchObject({ database: { status: "ok" }, queue: { status: "fail", error: "unreachable" } });
    expect(sent).toEqual([]);
  });

  it("gives up on a database that never answers, reporting it timed out", async () => {
    const response = await apiWithEnv({ DATABASE_HTTP_ENDPOINT: `${inject("silentUrl")}/sql` }, "/ready");
    expect(response.status).toBe(503);
    const problem = await problemOf(response);
    expect(problem.checks).toMatchObject({ database: { status: "fail", error: "timed out" } });
  });
});
