import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createApp } from "#src/app.ts";
import type { AppEnv } from "#src/lib/types.ts";
import { provideLazily } from "#src/middleware/context.ts";
import { cloudflarePlatform } from "#src/platform/cloudflare/adapters.ts";
import { BASE, api } from "./helpers.ts";

describe("the response is built once", () => {
  it("answers with the handler's own Response object, the middleware's headers added in place", async () => {
    const app = createApp(cloudflarePlatform);
    let made: Response | undefined;
    app.get("/api/v1/probe/made", () => {
      made = Response.json({ ok: true });
      return made;
    });
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${BASE}/api/v1/probe/made`, { headers: { Origin: "https://app.tend.test" } }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    expect(response).toBe(made);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.tend.test");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("X-Request-ID")).toMatch(/.+/);
  });
});

const preflight = (origin: string) =>
  api("/api/v1/me", { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "PATCH" } });

describe("CORS headers", () => {
  it("vary on Origin on every response, allowed or not", async () => {
    const allowed = await api("/health", { headers: { Origin: "https://app.tend.test" } });
    const refused = await api("/health", { headers: { Origin: "https://evil.example" } });
    expect(allowed.headers.get("Vary")).toBe("Origin");
    expect(refused.headers.get("Vary")).toBe("Origin");
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("Server-Timing");
  });

  it("answer a preflight with the methods, headers and max age, and no grant for an origin off the list", async () => {
    const allowed = await preflight("https://app.tend.test");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.tend.test");
    expect(allowed.headers.get("Access-Control-Allow-Methods")).toBe("GET,POST,PATCH,PUT,DELETE,OPTIONS");
    expect(allowed.headers.get("Access-Control-Allow-Headers")).toBe("Authorization,Content-Type,Idempotency-Key,X-API-Key,X-Request-ID");
    expect(allowed.headers.get("Access-Control-Max-Age")).toBe("600");
    expect(allowed.headers.get("Vary")).toBe("Origin, Access-Control-Request-Headers");
    const refused = await preflight("https://evil.example");
    expect(refused.status).toBe(204);
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

function lazyApp() {
  const made = { db: 0 };
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    provideLazily(c, {
      db: () => {
        made.db += 1;
        return { made: made.db } as never;
      },
    });
    await next();
  });
  return { app, made };
}

describe("provideLazily", () => {
  it("builds nothing for a request that never asks", async () => {
    const { app, made } = lazyApp();
    app.get("/", (c) => c.text("ok"));
    expect((await app.request("/")).status).toBe(200);
    expect(made.db).toBe(0);
  });

  it("builds the value on first use, once per request", async () => {
    const { app } = lazyApp();
    app.get("/", (c) => c.json([c.get("db"), c.get("db")]));
    expect(await (await app.request("/")).json()).toEqual([{ made: 1 }, { made: 1 }]);
    expect(await (await app.request("/")).json()).toEqual([{ made: 2 }, { made: 2 }]);
  });

  it("builds it through c.var too, on first read only", async () => {
    const { app, made } = lazyApp();
    app.get("/", (c) => {
      const before = made.db;
      const first = c.var.db;
      return c.json({ before, first, again: c.get("db"), after: made.db });
    });
    expect(await (await app.request("/")).json()).toEqual({ before: 0, first: { made: 1 }, again: { made: 1 }, after: 1 });
  });

  it("lets a value set before first use win", async () => {
    const { app, made } = lazyApp();
    app.get("/", (c) => {
      c.set("db", { made: "set" } as never);
      return c.json(c.get("db"));
    });
    expect(await (await app.request("/")).json()).toEqual({ made: "set" });
    expect(made.db).toBe(0);
  });
});
