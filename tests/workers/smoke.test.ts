import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("smoke", () => {
  it("answers /health and /ready", async () => {
    const health = await SELF.fetch("http://tend.test/health");
    expect(health.status).toBe(200);
    const ready = await SELF.fetch("http://tend.test/ready");
    const body = await ready.json();
    expect(body).toMatchObject({ status: "ok" });
  });
});
