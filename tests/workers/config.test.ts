import { afterEach, describe, expect, it, vi } from "vitest";
import { apiWithEnv, problemOf } from "./helpers.ts";

describe("invalid configuration", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers every request with a 500 'server misconfigured' problem", async () => {
    for (const path of ["/health", "/api/v1/openapi.json", "/nope"]) {
      const response = await apiWithEnv({ DATABASE_URL: "mysql://wrong" }, path);
      expect(response.status).toBe(500);
      const problem = await problemOf(response);
      expect(problem.title).toBe("Server misconfigured");
      expect(problem.requestId).toBe(response.headers.get("X-Request-ID"));
    }
  });

  it("logs the bad key names once, and never their values", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => errors.push(line));
    const bad = { DATABASE_URL: "postgres//secret-password@host", BODY_LIMIT_BYTES: "-5", LOG_LEVEL: "chatty" };
    await apiWithEnv(bad, "/health");
    await apiWithEnv(bad, "/health");
    const reports = errors.filter((line) => line.includes("server misconfigured"));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('"invalidKeys":"BODY_LIMIT_BYTES,DATABASE_URL,LOG_LEVEL"');
    expect(errors.join("\n")).not.toMatch(/secret-password|chatty|"-5"/);
  });

  it("reports a missing binding by name", async () => {
    const response = await apiWithEnv({ CACHE: undefined }, "/health");
    expect(response.status).toBe(500);
  });
});
