import { env } from "cloudflare:test";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { configSchema, parseConfig } from "#src/env.ts";
import { createLogger } from "#src/lib/logger.ts";
import { resendMailer } from "#src/platform/mailer.ts";
import { createProviders } from "#src/platform/providers.ts";
import { fakeFetch, form, providerConfig, providersWith, serviceAccount, TWILIO } from "./providers-fakes.ts";

/**
 * The provider clients' exact HTTP (Twilio Messages and Calls, FCM HTTP v1 with its OAuth token,
 * Resend with Idempotency-Key) and how each answer becomes an outcome: a 4xx is permanent (429
 * aside), a 5xx, a 429 or a network error is retried, Retry-After is honoured.
 */

const { account, publicKey } = await serviceAccount();
const config = providerConfig(account);
const twilioBase = `https://api.twilio.com/2010-04-01/Accounts/${TWILIO.TWILIO_ACCOUNT_SID}`;
const basic = `Basic ${btoa(`${TWILIO.TWILIO_ACCOUNT_SID}:${TWILIO.TWILIO_AUTH_TOKEN}`)}`;
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => Response.json(body, { status, headers });

describe("Twilio", () => {
  it("sends an SMS as a form-encoded Messages create with basic auth", async () => {
    const http = fakeFetch(() => json({ sid: "SM123", status: "queued" }, 201));
    const outcome = await providersWith(config, http.fetch).sms.send({ to: "+447700900123", body: "Tend alert: open the app", idempotencyKey: "n-1" });
    expect(outcome).toEqual({ ok: true, providerMessageId: "SM123" });
    expect(http.requests).toHaveLength(1);
    const [request] = http.requests;
    expect(request?.url).toBe(`${twilioBase}/Messages.json`);
    expect(request?.method).toBe("POST");
    expect(request?.headers.authorization).toBe(basic);
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(form(request?.body ?? "")).toEqual({ To: "+447700900123", From: TWILIO.TWILIO_FROM_NUMBER, Body: "Tend alert: open the app" });
  });

  it("places a call with inline TwiML through the Calls resource", async () => {
    const http = fakeFetch(() => json({ sid: "CA9" }, 201));
    const twiml = "<Response><Say>Tend</Say></Response>";
    const outcome = await providersWith(config, http.fetch).voice.call({ to: "+447700900123", twiml, idempotencyKey: "n-2" });
    expect(outcome).toEqual({ ok: true, providerMessageId: "CA9" });
    expect(http.requests[0]?.url).toBe(`${twilioBase}/Calls.json`);
    expect(http.requests[0]?.headers.authorization).toBe(basic);
    expect(form(http.requests[0]?.body ?? "")).toEqual({ To: "+447700900123", From: TWILIO.TWILIO_FROM_NUMBER, Twiml: twiml });
  });

  it("reports a 4xx as permanent, naming Twilio's code but never the number", async () => {
    const http = fakeFetch(() => json({ code: 21211, message: "The 'To' number +447700900123 is not a valid phone number.", status: 400 }, 400));
    const outcome = await providersWith(config, http.fetch).sms.send({ to: "+447700900123", body: "x", idempotencyKey: "n" });
    expect(outcome).toEqual({ ok: false, permanent: true, retryAfterSeconds: undefined, error: "twilio sms 400 21211" });
  });

  it("retries a 429 after its Retry-After, and a 5xx or a network failure", async () => {
    const limited = fakeFetch(() => json({ code: 20429 }, 429, { "Retry-After": "30" }));
    expect(await providersWith(config, limited.fetch).sms.send({ to: "+15005550001", body: "x", idempotencyKey: "n" })).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterSeconds: 30,
    });
    const down = fakeFetch(() => new Response("bad gateway", { status: 502 }));
    expect(await providersWith(config, down.fetch).voice.call({ to: "+15005550001", twiml: "<Response/>", idempotencyKey: "n" })).toMatchObject({ ok: false, permanent: false, error: "twilio voice 502" });
    const offline = fakeFetch(() => Promise.reject(new TypeError("connection reset")));
    expect(await providersWith(config, offline.fetch).sms.send({ to: "+15005550001", body: "x", idempotencyKey: "n" })).toEqual({ ok: false, permanent: false, error: "twilio sms network TypeError" });
  });

  it("reads an HTTP-date Retry-After against the response's Date", async () => {
    const date = new Date("2026-12-03T10:00:00Z");
    const http = fakeFetch(() => json({}, 503, { Date: date.toUTCString(), "Retry-After": new Date(date.getTime() + 90_000).toUTCString() }));
    expect(await providersWith(config, http.fetch).sms.send({ to: "+15005550001", body: "x", idempotencyKey: "n" })).toMatchObject({ permanent: false, retryAfterSeconds: 90 });
  });
});

describe("FCM HTTP v1", () => {
  const sendUrl = "https://fcm.googleapis.com/v1/projects/tend-test/messages:send";
  const tokenUrl = "https://oauth2.googleapis.com/token";
  const message = { token: "device-token-abcdefghijklmnopqrstuvwxyz", title: "Tend alert", body: "Open Tend", data: { notificationId: "n-1" }, idempotencyKey: "n-1" };

  function google(send: (index: number) => Response, tokenLifetime = 3600) {
    let sends = 0;
    return fakeFetch((request) => {
      if (request.url === tokenUrl) return json({ access_token: `ya29.token-${Math.random()}`, expires_in: tokenLifetime, token_type: "Bearer" });
      return send(sends++);
    });
  }

  it("exchanges a service-account JWT for an access token, then sends with it", async () => {
    const http = google(() => json({ name: "projects/tend-test/messages/0:1" }));
    const outcome = await providersWith(config, http.fetch).push.send(message);
    expect(outcome).toEqual({ ok: true, providerMessageId: "projects/tend-test/messages/0:1" });
    const [tokenRequest, sendRequest] = http.requests;
    expect(tokenRequest?.url).toBe(tokenUrl);
    expect(tokenRequest?.method).toBe("POST");
    expect(tokenRequest?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const grant = form(tokenRequest?.body ?? "");
    expect(grant.grant_type).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const assertion = grant.assertion ?? "";
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: "RS256", typ: "JWT", kid: "key-1" });
    const { payload } = await jwtVerify(assertion, publicKey, { issuer: account.client_email, audience: tokenUrl });
    expect(payload.scope).toBe("https://www.googleapis.com/auth/firebase.messaging");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    expect(sendRequest?.url).toBe(sendUrl);
    expect(sendRequest?.method).toBe("POST");
    expect(sendRequest?.headers.authorization).toMatch(/^Bearer ya29\.token-/);
    expect(sendRequest?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(sendRequest?.body ?? "")).toEqual({ message: { token: message.token, notification: { title: "Tend alert", body: "Open Tend" }, data: { notificationId: "n-1" } } });
  });

  it("caches the access token until a minute before it expires", async () => {
    let now = Date.parse("2026-12-03T10:00:00Z");
    const http = google(() => json({ name: "m" }));
    const push = providersWith(config, http.fetch, () => now).push;
    await Promise.all([push.send(message), push.send(message)]);
    await push.send(message);
    expect(http.requests.filter((request) => request.url === tokenUrl)).toHaveLength(1);
    now += 3600_000 - 61_000;
    await push.send(message);
    expect(http.requests.filter((request) => request.url === tokenUrl)).toHaveLength(1);
    now += 2000;
    await push.send(message);
    expect(http.requests.filter((request) => request.url === tokenUrl)).toHaveLength(2);
  });

  it("reports UNREGISTERED (404) as an unregistered token", async () => {
    const http = google(() => json({ error: { code: 404, status: "NOT_FOUND", details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }] } }, 404));
    expect(await providersWith(config, http.fetch).push.send(message)).toEqual({ ok: false, permanent: true, unregistered: true, error: "fcm 404 UNREGISTERED" });
  });

  it("reports INVALID_ARGUMENT as permanent without dropping the device, and QUOTA_EXCEEDED and UNAVAILABLE as retryable", async () => {
    const invalid = google(() => json({ error: { code: 400, status: "INVALID_ARGUMENT", details: [{ errorCode: "INVALID_ARGUMENT" }] } }, 400));
    expect(await providersWith(config, invalid.fetch).push.send(message)).toEqual({ ok: false, permanent: true, retryAfterSeconds: undefined, error: "fcm 400 INVALID_ARGUMENT" });
    const quota = google(() => json({ error: { code: 429, status: "RESOURCE_EXHAUSTED", details: [{ errorCode: "QUOTA_EXCEEDED" }] } }, 429, { "Retry-After": "120" }));
    expect(await providersWith(config, quota.fetch).push.send(message)).toEqual({ ok: false, permanent: false, retryAfterSeconds: 120, error: "fcm 429 QUOTA_EXCEEDED" });
    const unavailable = google(() => json({ error: { code: 503, status: "UNAVAILABLE" } }, 503));
    expect(await providersWith(config, unavailable.fetch).push.send(message)).toMatchObject({ ok: false, permanent: false, error: "fcm 503 UNAVAILABLE" });
  });

  it("drops a token Google refuses (401) and fetches a new one on the retry", async () => {
    const http = google((index) => (index === 0 ? json({ error: { code: 401, status: "UNAUTHENTICATED" } }, 401) : json({ name: "m" })));
    const push = providersWith(config, http.fetch).push;
    expect(await push.send(message)).toMatchObject({ ok: false, permanent: false });
    expect(await push.send(message)).toMatchObject({ ok: true });
    expect(http.requests.filter((request) => request.url === tokenUrl)).toHaveLength(2);
  });

  it("fails the send when the token endpoint refuses the grant, and retries when it is down", async () => {
    const refused = fakeFetch((request) => (request.url === tokenUrl ? json({ error: "invalid_grant" }, 400) : json({ name: "m" })));
    expect(await providersWith(config, refused.fetch).push.send(message)).toMatchObject({ ok: false, permanent: true, error: "fcm oauth 400 invalid_grant" });
    expect(refused.requests.map((request) => request.url)).toEqual([tokenUrl]);
    const down = fakeFetch(() => new Response("", { status: 500 }));
    expect(await providersWith(config, down.fetch).push.send(message)).toMatchObject({ ok: false, permanent: false });
  });
});

describe("Resend", () => {
  const mail = { to: "ana@example.test", subject: "Tend alert", text: "Open Tend", idempotencyKey: "0194-notification" };

  it("sends the notification's id as Idempotency-Key", async () => {
    const http = fakeFetch(() => json({ id: "email-1" }));
    expect(await providersWith(config, http.fetch).email.send(mail)).toEqual({ ok: true, providerMessageId: "email-1" });
    const [request] = http.requests;
    expect(request?.url).toBe("https://api.resend.com/emails");
    expect(request?.method).toBe("POST");
    expect(request?.headers).toMatchObject({ authorization: `Bearer ${config.RESEND_API_KEY}`, "content-type": "application/json", "idempotency-key": mail.idempotencyKey });
    expect(JSON.parse(request?.body ?? "")).toEqual({ from: config.MAIL_FROM, to: [mail.to], subject: mail.subject, text: mail.text });
  });

  const outcomeOf = (response: () => Response) => providersWith(config, fakeFetch(response).fetch).email.send(mail);

  it("fails a 4xx for good, retries a 429 (Retry-After), a 5xx and a concurrent idempotent request", async () => {
    expect(await outcomeOf(() => json({ name: "validation_error", message: "Invalid `to` field" }, 422))).toEqual({
      ok: false,
      permanent: true,
      retryAfterSeconds: undefined,
      error: "resend 422 validation_error",
    });
    expect(await outcomeOf(() => json({ name: "rate_limit_exceeded" }, 429, { "retry-after": "2" }))).toMatchObject({ permanent: false, retryAfterSeconds: 2 });
    expect(await outcomeOf(() => json({ name: "concurrent_idempotent_requests" }, 409))).toMatchObject({ permanent: false });
    expect(await outcomeOf(() => json({ name: "invalid_idempotent_request" }, 409))).toMatchObject({ permanent: true });
    expect(await outcomeOf(() => json({ name: "internal_server_error" }, 500))).toMatchObject({ permanent: false });
  });

  it("keeps the transactional mailer's yes or no, without an Idempotency-Key", async () => {
    const http = fakeFetch((_, index) => (index === 0 ? json({ id: "e" }) : json({}, 500)));
    const mailer = resendMailer("re_test_0123456789", "Tend <t@tend.test>", createLogger("error"), http.fetch);
    expect(await mailer.send({ to: "a@example.test", subject: "s", text: "t", template: "test" })).toBe(true);
    expect(await mailer.send({ to: "a@example.test", subject: "s", text: "t", template: "test" })).toBe(false);
    expect(http.requests[0]?.headers["idempotency-key"]).toBeUndefined();
  });
});

describe("configuration", () => {
  it("logs instead of sending when no provider is configured, naming only the notification", async () => {
    const logged: unknown[] = [];
    const logger = { log: (...entry: unknown[]) => void logged.push(entry) };
    const bare = { ...parseConfig(env), RESEND_API_KEY: undefined };
    const providers = createProviders(bare, logger, { fetch: () => Promise.reject(new Error("no network")) });
    expect(await providers.sms.send({ to: "+447700900123", body: "secret text", idempotencyKey: "n-9" })).toEqual({ ok: true, providerMessageId: "dev-n-9" });
    expect(await providers.push.send({ token: "t", title: "a", body: "secret text", data: {}, idempotencyKey: "n-9" })).toMatchObject({ ok: true });
    expect(await providers.email.send({ to: "ana@example.test", subject: "a", text: "secret text", idempotencyKey: "n-9" })).toMatchObject({ ok: true });
    expect(JSON.stringify(logged)).not.toMatch(/secret text|\+447700900123|ana@example/);
  });

  it("refuses production without Twilio and FCM, and a half-configured provider anywhere", () => {
    const production = configSchema.safeParse({ ...env, ENVIRONMENT: "production" });
    expect(production.success).toBe(false);
    const keys = production.error?.issues.map((issue) => issue.path[0]);
    expect(keys).toEqual(expect.arrayContaining(["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "FCM_PROJECT_ID", "FCM_SERVICE_ACCOUNT_JSON"]));
    const half = configSchema.safeParse({ ...env, TWILIO_ACCOUNT_SID: TWILIO.TWILIO_ACCOUNT_SID });
    expect(half.error?.issues.map((issue) => issue.path[0]).sort()).toEqual(["TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"]);
    const complete = configSchema.safeParse({ ...env, ...TWILIO, FCM_PROJECT_ID: "tend-test", FCM_SERVICE_ACCOUNT_JSON: JSON.stringify(account) });
    expect(complete.success).toBe(true);
    expect(configSchema.safeParse({ ...env, ...TWILIO, TWILIO_FROM_NUMBER: "07700 900123" }).success).toBe(false);
  });
});
