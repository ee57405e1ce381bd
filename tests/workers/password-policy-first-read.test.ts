import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { BREACHED_MESSAGE } from "#src/lib/password-policy.ts";
import { problemOf } from "./helpers.ts";
import { uniqueIp } from "./fixtures.ts";

/**
 * On its own file: it starts a fresh module graph (an isolate that has not read the breached set
 * yet), and the features the app loads on first use would come from that graph for any test
 * after it in the same file, with their own copy of the error classes.
 */
describe("the breached set, read on first use", () => {
  it("answers 503 problem+json where a password is set when the set cannot be loaded, and keeps no failed read", async () => {
    vi.resetModules();
    const { default: worker } = await import("#src/index.ts");
    const reset = async (assetsBinding: unknown, password: string) => {
      const ctx = createExecutionContext();
      const request = new Request("https://tend.test/api/v1/auth/password/reset", {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": uniqueIp() },
        body: JSON.stringify({ token: "not-a-real-reset-token-0123456789abcdef", password }),
      });
      const response = await worker.fetch(request, { ...env, ASSETS: assetsBinding }, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const missing = { fetch: async () => new Response("Not found", { status: 404 }) };
    const refused = await reset(missing, "my cat eats 3 blue tomatoes");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await problemOf(refused)).type).toMatch(/service-unavailable$/);
    const breached = await reset(env.ASSETS, "mailcreated5240");
    expect(breached.status).toBe(422);
    expect((await problemOf(breached)).errors).toEqual([{ path: "body.password", message: BREACHED_MESSAGE }]);
  });
});
