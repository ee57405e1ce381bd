import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "#src/env.ts";
import { CLOCK_SKEW_SECONDS, signAccessToken, verifyAccessToken } from "#src/lib/tokens.ts";

const config = parseConfig(env);
const input = { userId: crypto.randomUUID(), organizationId: crypto.randomUUID(), role: "owner" as const, sessionId: crypto.randomUUID() };

afterEach(() => {
  vi.useRealTimers();
});

describe("verified access tokens, remembered", () => {
  it("answers the same claims again, as copies the caller may change", async () => {
    const token = await signAccessToken(config, input);
    const first = await verifyAccessToken(config, token);
    first.role = "clinician";
    const again = await verifyAccessToken(config, token);
    expect(again).toMatchObject({ sub: input.userId, org: input.organizationId, role: "owner", sid: input.sessionId });
  });

  it("refuses a remembered token once it has expired, beyond the clock skew", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = await signAccessToken(config, input);
    const claims = await verifyAccessToken(config, token);
    vi.setSystemTime((claims.exp + CLOCK_SKEW_SECONDS - 1) * 1000);
    await expect(verifyAccessToken(config, token)).resolves.toMatchObject({ sub: input.userId });
    vi.setSystemTime((claims.exp + CLOCK_SKEW_SECONDS) * 1000);
    await expect(verifyAccessToken(config, token)).rejects.toMatchObject({ status: 401 });
  });
});
