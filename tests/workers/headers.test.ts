import { describe, expect, it } from "vitest";
import { api, problemOf } from "./helpers.ts";

describe("request id", () => {
  it("keeps a sane incoming X-Request-ID", async () => {
    const response = await api("/health", { headers: { "X-Request-ID": "trace-abc.123_XYZ" } });
    expect(response.headers.get("X-Request-ID")).toBe("trace-abc.123_XYZ");
  });

  it("replaces an id with unsafe characters or over 64 characters", async () => {
    for (const bad of ["has space", "semi;colon", "x".repeat(65), "<script>"]) {
      const response = await api("/health", { headers: { "X-Request-ID": bad } });
      const id = response.headers.get("X-Request-ID");
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("mints one when none is sent, and puts it in error bodies", async () => {
    const response = await api("/no-such-route");
    const id = response.headers.get("X-Request-ID");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await problemOf(response)).requestId).toBe(id);
  });
});

describe("Server-Timing", () => {
  it("reports total and database time", async () => {
    const response = await api("/ready");
    const timing = response.headers.get("Server-Timing") ?? "";
    expect(timing).toMatch(/total;dur=\d+(\.\d+)?/);
    expect(timing).toMatch(/db;dur=\d+(\.\d+)?;desc="1 round trips"/);
  });

  it("is on error responses too", async () => {
    const response = await api("/no-such-route");
    expect(response.headers.get("Server-Timing")).toMatch(/total;dur=/);
  });
});

describe("security headers", () => {
  it("sets HSTS, nosniff, frame-deny and a strict CSP on API responses", async () => {
    for (const path of ["/health", "/api/v1/openapi.json", "/missing"]) {
      const headers = (await api(path)).headers;
      expect(headers.get("Strict-Transport-Security")).toContain("max-age=63072000");
      expect(headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(headers.get("X-Frame-Options")).toBe("DENY");
      expect(headers.get("Content-Security-Policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
    }
  });

  it("gives /docs only what Swagger UI needs: its own assets and one hashed inline script", async () => {
    const response = await api("/docs");
    expect(response.status).toBe(200);
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    expect(csp).not.toContain("unsafe-eval");
    const html = await response.text();
    expect(html).toContain('src="/docs/vendor/swagger-ui-dist/swagger-ui-bundle.js"');
    expect(html).toContain("/api/v1/openapi.json");
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});

describe("CORS", () => {
  it("allows an origin on the allow-list and exposes the tracing headers", async () => {
    const response = await api("/health", { headers: { Origin: "https://app.tend.test" } });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.tend.test");
    expect(response.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-ID");
  });

  it("answers a preflight from an allowed origin", async () => {
    const response = await api("/api/v1/openapi.json", {
      method: "OPTIONS",
      headers: { Origin: "https://app.tend.test", "Access-Control-Request-Method": "POST" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });

  it("gives no CORS grant to an origin off the list", async () => {
    const response = await api("/health", { headers: { Origin: "https://evil.example" } });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
