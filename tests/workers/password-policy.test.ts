import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, parseConfig } from "#src/env.ts";
import { ProblemError } from "#src/lib/errors.ts";
import type { GolombSet } from "#src/lib/golomb-set.ts";
import { BREACHED_MESSAGE, BREACHED_SET_PATH, breachedSet, checkPassword, passwordProblem, readBreachedSet } from "#src/lib/password-policy.ts";
import { createLogger } from "#src/lib/logger.ts";
import { workerAssets } from "#src/platform/cloudflare/adapters.ts";
import type { StaticAssets } from "#src/platform/ports.ts";
import { PWNED_RANGE_URL, pwnedCheckEnabled, pwnedPasswords } from "#src/platform/pwned-passwords.ts";
import { apiWithEnv, problemOf } from "./helpers.ts";
import { createTenant, jsonBody, PASSWORD, uniqueEmail, uniqueIp } from "./fixtures.ts";
import { RESEND_URL } from "./mail.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

async function sha1Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("").toUpperCase();
}

interface PwnedRequest {
  url: string;
  addPadding: string | null;
}

/**
 * Intercepts Pwned Passwords (answering `respond`) and Resend (collecting mail texts); every other
 * URL goes out for real. The real adapters build each request.
 */
function intercept(respond: (url: string, signal: AbortSignal | undefined) => Promise<Response>) {
  const pwned: PwnedRequest[] = [];
  const mails: string[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(PWNED_RANGE_URL)) {
      pwned.push({ url, addPadding: new Headers(init?.headers).get("Add-Padding") });
      return respond(url, init?.signal ?? undefined);
    }
    if (url === RESEND_URL) {
      mails.push((JSON.parse(String(init?.body)) as { text: string }).text);
      return Response.json({ id: `mail-${mails.length}` });
    }
    return realFetch(input, init);
  });
  return { pwned, mails };
}

/** A range answer listing `password`'s suffix with `count`, among padding and other suffixes. */
async function rangeListing(password: string, count: number): Promise<string> {
  const suffix = (await sha1Hex(password)).slice(5);
  return ["0018A45C4D1DEF81644B54AB7F969B88D65:1", `${suffix}:${count}`, "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0"].join("\r\n");
}

/** A range answer that never comes: the request ends only when its deadline aborts it. */
const neverAnswers = (_url: string, signal: AbortSignal | undefined) =>
  new Promise<Response>((_resolve, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason));
  });

/** The JSON log lines written while `run` ran. */
async function logLines(run: () => Promise<void>): Promise<{ lines: string[]; entries: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const capture = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  vi.spyOn(console, "log").mockImplementation(capture);
  vi.spyOn(console, "error").mockImplementation(capture);
  await run();
  const entries = lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return { lines, entries };
}

/** The real ASSETS binding Miniflare builds from wrangler.toml's `[assets]`, counting its reads. */
function countedAssets(): StaticAssets & { reads: string[] } {
  const real = workerAssets(env.ASSETS);
  const reads: string[] = [];
  return {
    reads,
    get: (path) => {
      reads.push(path);
      return real.get(path);
    },
  };
}

/** A 503 problem with Retry-After, as a caller sees it when the set cannot be read. */
async function expectUnavailable(work: Promise<unknown>): Promise<void> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProblemError);
  expect((error as ProblemError).status).toBe(503);
  expect((error as ProblemError).headers["Retry-After"]).toMatch(/^\d+$/);
}

/** Assets that answer `bytes` for every path. */
const answering = (bytes: Uint8Array | null): StaticAssets => ({ get: async () => bytes });

let set: GolombSet;
beforeAll(async () => {
  set = await breachedSet(workerAssets(env.ASSETS));
});

describe("the breached set, a static asset read through ASSETS", () => {
  it("is deployed under public/ and holds the breached list and the common words", async () => {
    const assets = countedAssets();
    const read = await readBreachedSet(assets);
    expect(assets.reads).toEqual([BREACHED_SET_PATH]);
    expect(read.size).toBeGreaterThanOrEqual(10_000);
    // 12+ characters, refused by no derived rule: only the loaded set knows them.
    for (const password of ["mailcreated5240", "polniypizdec0211", "sonyericsson"]) expect(read.has(password), password).toBe(true);
    expect(read.has("my cat eats 3 blue tomatoes")).toBe(false);
  });

  it("is read once per isolate: later checks never ask the binding again", async () => {
    const assets = countedAssets();
    expect(await breachedSet(assets)).toBe(set);
    expect(await checkPassword("mailcreated5240", { assets })).toBe(BREACHED_MESSAGE);
    expect(assets.reads).toEqual([]);
  });

  it("fails closed with 503 and Retry-After when the set is missing, unreadable or corrupt", async () => {
    const file = (await workerAssets(env.ASSETS).get(BREACHED_SET_PATH)) ?? new Uint8Array();
    await expectUnavailable(readBreachedSet(answering(null)));
    await expectUnavailable(readBreachedSet({ get: async () => Promise.reject(new Error("binding down")) }));
    await expectUnavailable(readBreachedSet(answering(file.subarray(0, file.length - 100))));
    await expectUnavailable(readBreachedSet(answering(Uint8Array.from(file, (byte, index) => (index === 0 ? 0 : byte)))));
    await expectUnavailable(readBreachedSet(answering(new TextEncoder().encode("<!doctype html><p>Not found</p>"))));
  });

});

describe("the breached set and derived rules", () => {

  it("refuses listed breached passwords of 12+ characters whatever their case", () => {
    for (const password of ["mailcreated5240", "MAILCREATED5240", "sonyericsson", "SonyEricsson", "polniypizdec0211", "ｓｏｎｙｅｒｉｃｓｓｏｎ"]) {
      expect(passwordProblem(password, set), password).toBe(BREACHED_MESSAGE);
    }
  });

  it.each([
    ["passwordpassword", /repeats a shorter sequence/],
    ["111111111111", /too few different characters/],
    ["abcabcabcabc", /too few different characters/],
    ["correct horse correct horse ", /repeats a shorter sequence/],
    ["123456789012", /keyboard pattern or a sequence/],
    ["abcdefghijkl", /keyboard pattern or a sequence/],
    ["qwertyuiopas", /keyboard pattern or a sequence/],
    ["QWERTYUIOPAS", /keyboard pattern or a sequence/],
    ["1qaz2wsx3edc", /keyboard pattern or a sequence/],
    ["asdfghjkl;'\\", /keyboard pattern or a sequence/],
    ["zyxwvutsrqpo", /keyboard pattern or a sequence/],
    ["147258369147", /keyboard pattern or a sequence/],
    ["password1234", /common word or pattern with digits or symbols added/],
    ["Password1234", /common word or pattern with digits or symbols added/],
    ["Summer2024!!", /common word or pattern with digits or symbols added/],
    ["football1987", /common word or pattern with digits or symbols added/],
    ["Welcome123!!", /common word or pattern with digits or symbols added/],
    ["2024password", /common word or pattern with digits or symbols added/],
    ["!!Monkey1999", /common word or pattern with digits or symbols added/],
    ["dragon!!2024", /common word or pattern with digits or symbols added/],
    ["p@ssw0rd1234", /look-alike substitutions and digits or symbols added/],
    ["P@SSW0RD2024", /look-alike substitutions and digits or symbols added/],
    ["$unshine2024", /look-alike substitutions and digits or symbols added/],
    ["dr@g0nf1yer", /at least 12/],
  ])("refuses %s", (password, reason) => {
    const problem = passwordProblem(password, set);
    expect(problem).toMatch(reason);
    expect(problem).toMatch(/^is too common: |^must be/);
    expect(problem).not.toContain(password);
  });

  it("refuses the length-rule failures first", () => {
    expect(passwordProblem("asdfghjkl;'", set)).toMatch(/at least 12/);
  });

  it.each([
    ["correct horse battery staple", /breached/],
    ["Correct-Horse-Battery-Staple", /breached/],
    ["Summer2024!!!", /common word or pattern/],
    ["Tend12345678", /common word or pattern/],
    ["tend.care2024", /common word or pattern/],
  ])("refuses the famous phrase, season or service name %s", (password, reason) => {
    expect(passwordProblem(password, set)).toMatch(reason);
  });

  it("refuses the user's own address, name or practice, with digits or symbols or not", () => {
    const context = { email: "pw@p.test", name: "Priya Wadhwa", organizationName: "Riverside Therapy" };
    for (const password of ["pw@p.test1234", "PW@P.TEST!!!!", "priyawadhwa1990", "Riverside Therapy", "riversidetherapy!!", "wadhwa2024!!!"]) {
      expect(passwordProblem(password, set, context)).toMatch(/^is too (common|easy to guess)/);
    }
    expect(passwordProblem("pw@p.test1234", set)).toBeNull();
    expect(passwordProblem("my cat eats 3 blue tomatoes", set, context)).toBeNull();
  });

  it.each([
    "my cat eats 3 blue tomatoes",
    "quiet lantern over the harbour",
    "Tr0ub4dor&3 horse staple",
    "kX9#mQ2$vL7@pR4!",
    "zq8!rt5@lp0#wx3$",
    "j4Rw9sKq2LmZ8vTx",
    "purple monkey dishwasher",
    "ééééééabcdef",
  ])("accepts the good passphrase or random string %s", (password) => {
    expect(passwordProblem(password, set)).toBeNull();
  });

  it("accepts random 16-character strings (with ~2^-15 false hits per lookup)", () => {
    const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%&*";
    const refused: string[] = [];
    for (let i = 0; i < 500; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      const password = [...bytes].map((byte) => alphabet[byte % alphabet.length]).join("");
      if (passwordProblem(password, set)) refused.push(password);
    }
    expect(refused.length).toBeLessThanOrEqual(1);
  });
});

describe("Pwned Passwords adapter", () => {
  const logger = createLogger("warn");

  it("defaults on in production only; the flag overrides", () => {
    expect(pwnedCheckEnabled({ ENVIRONMENT: "production", PWNED_PASSWORDS_CHECK: undefined })).toBe(true);
    expect(pwnedCheckEnabled({ ENVIRONMENT: "development", PWNED_PASSWORDS_CHECK: undefined })).toBe(false);
    expect(pwnedCheckEnabled({ ENVIRONMENT: "test", PWNED_PASSWORDS_CHECK: undefined })).toBe(false);
    expect(pwnedCheckEnabled({ ENVIRONMENT: "production", PWNED_PASSWORDS_CHECK: "off" })).toBe(false);
    expect(pwnedCheckEnabled({ ENVIRONMENT: "test", PWNED_PASSWORDS_CHECK: "on" })).toBe(true);
  });

  it("accepts only on or off for PWNED_PASSWORDS_CHECK", () => {
    expect(parseConfig({ ...env, PWNED_PASSWORDS_CHECK: "on" }).PWNED_PASSWORDS_CHECK).toBe("on");
    expect(() => parseConfig({ ...env, PWNED_PASSWORDS_CHECK: "yes" })).toThrow(ConfigError);
    try {
      parseConfig({ ...env, PWNED_PASSWORDS_CHECK: "yes" });
    } catch (error) {
      expect((error as ConfigError).keys).toEqual(["PWNED_PASSWORDS_CHECK"]);
    }
  });

  it("sends only the first 5 hex characters of the SHA-1, with Add-Padding, and finds a listed suffix", async () => {
    const password = "a breached passphrase 1";
    const listing = await rangeListing(password, 42);
    const { pwned } = intercept(async () => new Response(listing));
    expect(await pwnedPasswords(logger).isBreached(password)).toBe(true);
    const hash = await sha1Hex(password);
    expect(pwned).toEqual([{ url: `https://api.pwnedpasswords.com/range/${hash.slice(0, 5)}`, addPadding: "true" }]);
    expect(pwned[0]?.url).toMatch(/\/range\/[0-9A-F]{5}$/);
  });

  it("ignores padding entries (count 0) and answers false for an unlisted suffix", async () => {
    const password = "a padded passphrase 2";
    const padded = await rangeListing(password, 0);
    intercept(async () => new Response(padded));
    expect(await pwnedPasswords(logger).isBreached(password)).toBe(false);
  });

  it("fails open with a warning when the range API answers an error", async () => {
    intercept(async () => new Response("busy", { status: 503 }));
    const { entries } = await logLines(async () => {
      expect(await pwnedPasswords(logger).isBreached("some passphrase 3")).toBeUndefined();
    });
    expect(entries).toContainEqual(expect.objectContaining({ level: "warn", message: "pwned passwords check skipped", reason: "status", status: 503 }));
  });

  it("turns a live hit into the breached refusal after the bundled checks pass", async () => {
    const password = "a breached passphrase 4";
    const listing = await rangeListing(password, 7);
    intercept(async () => new Response(listing));
    const assets = workerAssets(env.ASSETS);
    expect(await checkPassword(password, { assets, breaches: pwnedPasswords(logger) })).toBe(BREACHED_MESSAGE);
    expect(await checkPassword(password, { assets })).toBeNull();
  });
});

describe("the password policy where a password is set", () => {
  const PWNED_ON = { PWNED_PASSWORDS_CHECK: "on" };
  const breached = "lantern harbour quietly 9";

  /** A sign-up to its confirmation, where the password is chosen; `mails` is intercept()'s list. */
  const signup = async (mails: string[], password: string) => {
    const requested = await apiWithEnv(
      PWNED_ON,
      "/api/v1/auth/signup",
      jsonBody({ organizationName: "Pwned Signup Clinic", name: "Flo", email: uniqueEmail("pwned") }, { "CF-Connecting-IP": uniqueIp() }),
    );
    expect(requested.status).toBe(202);
    const token = decodeURIComponent(/token=([A-Za-z0-9_.~%-]+)/.exec(mails.at(-1) ?? "")?.[1] ?? "");
    return apiWithEnv(PWNED_ON, "/api/v1/auth/signup/confirm", jsonBody({ token, password }, { "CF-Connecting-IP": uniqueIp() }));
  };

  const changePassword = (headers: Record<string, string>, newPassword: string, overrides: Record<string, unknown> = PWNED_ON) =>
    apiWithEnv(overrides, "/api/v1/auth/password/change", jsonBody({ currentPassword: PASSWORD, newPassword }, { ...headers, "CF-Connecting-IP": uniqueIp() }));

  it("refuses a password the range API lists with 422 naming the field, without echoing it", async () => {
    const { members } = await createTenant("Pwned Change Practice");
    const listing = await rangeListing(breached, 3);
    const { pwned } = intercept(async () => new Response(listing));
    const response = await changePassword(members.staff.headers, breached);
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.errors).toEqual([{ path: "body.newPassword", message: "is too common: it appears in a list of breached passwords" }]);
    expect(JSON.stringify(problem)).not.toContain(breached);
    expect(pwned).toHaveLength(1);
    expect(pwned[0]?.url).toBe(`${PWNED_RANGE_URL}${(await sha1Hex(breached)).slice(0, 5)}`);
    expect(pwned[0]?.addPadding).toBe("true");
  });

  it("refuses a derived password before asking the range API", async () => {
    const { members } = await createTenant("Derived Change Practice");
    const { pwned } = intercept(async () => new Response(""));
    const response = await changePassword(members.staff.headers, "Summer2024!!");
    expect(response.status).toBe(422);
    expect((await problemOf(response)).errors).toEqual([
      { path: "body.newPassword", message: "is too common: it is a common word or pattern with digits or symbols added" },
    ]);
    expect(pwned).toHaveLength(0);
  });

  it("accepts the password when the range API misses its 1.5 s deadline, logging a warning without the password or hash", async () => {
    const { members } = await createTenant("Pwned Timeout Practice");
    const { pwned } = intercept(neverAnswers);
    let status = 0;
    const { lines, entries } = await logLines(async () => {
      status = (await changePassword(members.staff.headers, breached)).status;
    });
    expect(status).toBe(200);
    expect(pwned).toHaveLength(1);
    expect(entries).toContainEqual(expect.objectContaining({ level: "warn", message: "pwned passwords check skipped", reason: "timeout" }));
    const hash = await sha1Hex(breached);
    for (const line of lines) {
      expect(line).not.toContain(breached);
      expect(line.toUpperCase()).not.toContain(hash.slice(0, 5));
      expect(line.toUpperCase()).not.toContain(hash.slice(5));
    }
  });

  it("does not call the range API when PWNED_PASSWORDS_CHECK is off (the test default)", async () => {
    const { members } = await createTenant("Pwned Off Practice");
    const { pwned } = intercept(async () => new Response(await rangeListing(breached, 3)));
    expect((await changePassword(members.staff.headers, breached, {})).status).toBe(200);
    expect(pwned).toHaveLength(0);
  });

  it("checks the password of a sign-up", async () => {
    const listing = await rangeListing(breached, 3);
    const { pwned, mails } = intercept(async () => new Response(listing));
    const refused = await signup(mails, breached);
    expect(refused.status).toBe(422);
    expect((await problemOf(refused)).errors).toEqual([{ path: "body.password", message: "is too common: it appears in a list of breached passwords" }]);
    expect(pwned).toHaveLength(1);
    const derived = await signup(mails, "football1987");
    expect(derived.status).toBe(422);
    expect((await problemOf(derived)).errors).toEqual([
      { path: "body.password", message: "is too common: it is a common word or pattern with digits or symbols added" },
    ]);
  });

  it("checks the new password of a reset", async () => {
    const { members } = await createTenant("Pwned Reset Practice");
    const listing = await rangeListing(breached, 3);
    const { mails } = intercept(async () => new Response(listing));
    const forgot = await apiWithEnv(PWNED_ON, "/api/v1/auth/password/forgot", jsonBody({ email: members.clinician.email }, { "CF-Connecting-IP": uniqueIp() }));
    expect(forgot.status).toBe(202);
    const token = decodeURIComponent(/token=([A-Za-z0-9_%-]+)/.exec(mails.find((text) => text.includes("/reset-password")) ?? "")?.[1] ?? "");
    expect(token).not.toBe("");
    const reset = (password: string) =>
      apiWithEnv(PWNED_ON, "/api/v1/auth/password/reset", jsonBody({ token, password }, { "CF-Connecting-IP": uniqueIp() }));
    const refused = await reset(breached);
    expect(refused.status).toBe(422);
    expect((await problemOf(refused)).errors).toEqual([{ path: "body.password", message: "is too common: it appears in a list of breached passwords" }]);
    const derived = await reset("p@ssw0rd1234");
    expect(derived.status).toBe(422);
    expect((await problemOf(derived)).errors).toEqual([
      { path: "body.password", message: "is too common: it is a common word with look-alike substitutions and digits or symbols added" },
    ]);
  });

  it("checks the password of an account made by accepting an invitation", async () => {
    const tenant = await createTenant("Pwned Invitation Practice");
    const listing = await rangeListing(breached, 3);
    const { mails } = intercept(async () => new Response(listing));
    const invited = await apiWithEnv(PWNED_ON, "/api/v1/invitations", jsonBody({ email: uniqueEmail("invitee"), role: "clinician" }, tenant.members.admin.headers));
    expect(invited.status).toBe(201);
    const token = decodeURIComponent(/accept-invitation\?token=([A-Za-z0-9_%-]+)/.exec(mails.at(-1) ?? "")?.[1] ?? "");
    const accept = (password: string) =>
      apiWithEnv(PWNED_ON, "/api/v1/invitations/accept", jsonBody({ token, name: "New Clinician", password }, { "CF-Connecting-IP": uniqueIp() }));
    const refused = await accept(breached);
    expect(refused.status).toBe(422);
    expect((await problemOf(refused)).errors).toEqual([{ path: "body.password", message: "is too common: it appears in a list of breached passwords" }]);
    const walk = await accept("1qaz2wsx3edc");
    expect(walk.status).toBe(422);
    expect((await problemOf(walk)).errors).toEqual([{ path: "body.password", message: "is too common: it is a keyboard pattern or a sequence" }]);
  });
});
