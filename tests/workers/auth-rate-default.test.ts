import { describe, expect, it } from "vitest";
import { jsonBody, uniqueIp } from "./fixtures.ts";
import { apiWithEnv } from "./helpers.ts";
import { TWILIO } from "./providers-fakes.ts";

/** What production refuses to start without, besides mail (set in every test already): the notification providers. */
const PROVIDERS = {
  ...TWILIO,
  FCM_PROJECT_ID: "tend-test",
  FCM_SERVICE_ACCOUNT_JSON: JSON.stringify({ client_email: "push@tend-test.iam.gserviceaccount.com", private_key: "-----BEGIN PRIVATE KEY-----\nunused\n-----END PRIVATE KEY-----\n" }),
};

/** Auth calls from one address with RATE_LIMIT_AUTH_PER_MINUTE unset, in `environment`; their statuses. */
async function authCalls(environment: string, count: number): Promise<number[]> {
  const ip = uniqueIp();
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await apiWithEnv({ ENVIRONMENT: environment, RATE_LIMIT_AUTH_PER_MINUTE: undefined, ...PROVIDERS }, "/api/v1/auth/login", jsonBody({}, { "CF-Connecting-IP": ip }));
    statuses.push(response.status);
  }
  return statuses;
}

describe("the auth rate limit by default", () => {
  it("keeps 10 a minute per address in production", async () => {
    expect(await authCalls("production", 11)).toEqual([...Array(10).fill(422), 429]);
  });

  it("allows more in development, enough for the README walk-through", async () => {
    expect(await authCalls("development", 15)).toEqual(Array(15).fill(422));
  });
});
