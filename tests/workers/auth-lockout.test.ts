import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { api, testDb } from "./helpers.ts";
import { createTenant, jsonBody, PASSWORD, uniqueIp } from "./fixtures.ts";
import { mailedTokens, mailPerTest, type SentMail } from "./mail.ts";

const NEW_PASSWORD = "a brand new passphrase 42";

const mailbox = mailPerTest();

const post = (path: string, body: unknown, ip: string) => api(path, jsonBody(body, { "CF-Connecting-IP": ip }));
const login = (email: string, password: string, ip = uniqueIp()) => post("/api/v1/auth/login", { email, password }, ip);

const lockouts = async (userId: string) =>
  (await testDb().execute<{ count: string }>(sql`select count(*)::text as count from audit_events where actor_user_id = ${userId} and action = 'auth.lockout'`))
    .rows[0]?.count;

/** Wrong passwords from `count` different addresses, one after another; their statuses. */
async function failFromMany(email: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await login(email, `wrong guess ${i} from afar`)).status);
  return statuses;
}

describe("lockout per account and address", () => {
  it("verifies at most 5 of 20 concurrent wrong passwords from one address, then locks that address out even with the right one", async () => {
    const { members } = await createTenant("Lockout Practice");
    const { email, id } = members.staff;
    const ip = uniqueIp();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(email, `wrong password number ${i}`, ip)));
    const statuses = responses.map((response) => response.status);
    const unauthorized = statuses.filter((status) => status === 401).length;
    expect(unauthorized).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20 - unauthorized);
    const limited = responses.find((response) => response.status === 429);
    expect(Number(limited?.headers.get("Retry-After"))).toBeGreaterThan(0);

    expect((await login(email, PASSWORD, ip)).status).toBe(429);
    expect(await lockouts(id)).toBe("1");
  });

  it("a locked address is locked out of that account only; the owner elsewhere signs in", async () => {
    const { members } = await createTenant("Weapon Practice");
    const attacker = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(members.clinician.email, "not the password at all", attacker)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await login(members.clinician.email, PASSWORD, uniqueIp())).status).toBe(200);
    expect((await login(members.staff.email, PASSWORD, attacker)).status).toBe(200);
  });

  it("locks an unknown email the same way, so lockout reveals nothing", async () => {
    const email = `ghost-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(email, "not a real password", ip)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("a successful login resets the address's failure count", async () => {
    const { members } = await createTenant("Reset Practice");
    const { email } = members.clinician;
    const ip = uniqueIp();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) expect((await login(email, "nope nope nope nope", ip)).status).toBe(401);
      expect((await login(email, PASSWORD, ip)).status).toBe(200);
    }
  });
});

describe("per-account backoff", () => {
  it("past 20 failures from any addresses, the account waits, whoever asks", async () => {
    const { members } = await createTenant("Distributed Practice");
    const { email, id } = members.admin;
    const statuses = await failFromMany(email, 20);
    expect(statuses).toEqual(Array(20).fill(401));
    const owner = await login(email, PASSWORD);
    expect(owner.status).toBe(429);
    expect(Number(owner.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await lockouts(id)).toBe("1");
  });

  it("reserves before the check: of 30 concurrent guesses from 30 addresses, at most 20 are verified", async () => {
    const { members } = await createTenant("Burst Practice");
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => login(members.caregiver.email, `burst guess ${i}`)));
    const statuses = responses.map((response) => response.status);
    const unauthorized = statuses.filter((status) => status === 401).length;
    expect(unauthorized).toBeLessThanOrEqual(20);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30 - unauthorized);
  });

  it("a completed reset lets the owner in from where they reset, while the guessing goes on elsewhere", async () => {
    const { members } = await createTenant("Owner Practice");
    const { email } = members.owner;
    const home = uniqueIp();
    await failFromMany(email, 20);
    expect((await login(email, PASSWORD, home)).status).toBe(429);

    expect((await post("/api/v1/auth/password/forgot", { email }, home)).status).toBe(202);
    const [token] = await mailedTokens(mailbox.sent, email, "/reset-password", 1);
    expect((await post("/api/v1/auth/password/reset", { token, password: NEW_PASSWORD }, home)).status).toBe(204);

    // The attacker starts over, until the account backs off again.
    const again = await failFromMany(email, 21);
    expect(again.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(again[20]).toBe(429);
    expect((await login(email, NEW_PASSWORD, uniqueIp())).status).toBe(429);
    expect((await login(email, NEW_PASSWORD, home)).status).toBe(200);
  });
});

const loginWith = (email: string, password: string, deviceToken: string | undefined, ip = uniqueIp()) =>
  post("/api/v1/auth/login", deviceToken === undefined ? { email, password } : { email, password, deviceToken }, ip);

async function deviceTokenOf(email: string): Promise<string> {
  const response = await loginWith(email, PASSWORD, undefined);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { deviceToken: string };
  expect(body.deviceToken).toMatch(/^dv1\./);
  return body.deviceToken;
}

async function backoffMails(to: string, count: number): Promise<SentMail[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = mailbox.sent.filter((mail) => mail.to.includes(to) && mail.subject.startsWith("Many failed sign-ins"));
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return mailbox.sent.filter((mail) => mail.to.includes(to) && mail.subject.startsWith("Many failed sign-ins"));
}

describe("known devices and the owner's warning", () => {
  it("a device that signed in before is not slowed by the account backoff that guessing from elsewhere started", async () => {
    const { members } = await createTenant("Device Practice");
    const { email } = members.clinician;
    const device = await deviceTokenOf(email);
    await failFromMany(email, 20);
    expect((await loginWith(email, PASSWORD, undefined)).status).toBe(429);
    const known = await loginWith(email, PASSWORD, device);
    expect(known.status).toBe(200);
    expect(((await known.json()) as { tokens: { accessToken: string } }).tokens.accessToken).toBeTruthy();
  });

  it("a device token proves nothing for another account, nor once tampered with", async () => {
    const { members } = await createTenant("Stolen Device Practice");
    const otherDevice = await deviceTokenOf(members.staff.email);
    const own = await deviceTokenOf(members.admin.email);
    await failFromMany(members.admin.email, 20);
    expect((await loginWith(members.admin.email, PASSWORD, otherDevice)).status).toBe(429);
    const tampered = `${own.slice(0, -1)}${own.endsWith("0") ? "1" : "0"}`;
    expect((await loginWith(members.admin.email, PASSWORD, tampered)).status).toBe(429);
    expect((await loginWith(members.admin.email, PASSWORD, "dv1.garbage")).status).toBe(429);
  });

  it("a known device still gets 5 wrong passwords per 15 minutes, wherever it connects from", async () => {
    const { members } = await createTenant("Device Limit Practice");
    const device = await deviceTokenOf(members.caregiver.email);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await loginWith(members.caregiver.email, `wrong from device ${i}`, device)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await loginWith(members.caregiver.email, PASSWORD, device)).status).toBe(429);
    expect((await loginWith(members.caregiver.email, PASSWORD, undefined)).status).toBe(200);
  });

  it("mails the owner once when the per-account backoff starts, and not for an unknown address", async () => {
    const { members } = await createTenant("Warned Practice");
    const { email } = members.patient;
    await failFromMany(email, 19);
    expect(await backoffMails(email, 0)).toHaveLength(0);
    await failFromMany(email, 1);
    const warned = await backoffMails(email, 1);
    expect(warned).toHaveLength(1);
    expect(warned[0]?.text).toContain("/forgot-password");
    expect(warned[0]?.text).not.toContain("wrong guess");
    await failFromMany(email, 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await backoffMails(email, 2)).toHaveLength(1);

    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}@example.test`;
    await failFromMany(ghost, 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(mailbox.sent.filter((mail) => mail.to.includes(ghost))).toHaveLength(0);
  });
});
