// CI's smoke test of the deployable bundle: `wrangler dev` (local mode, through scripts/dev.ts:
// free ports, the embedded gateway on a throwaway PGlite, migrations, seed) serves
// dist/worker/index.js, the file scripts/build.ts writes and wrangler.toml deploys with
// `no_bundle`. Checks /health, /ready, a sign-up (201 with tokens, or 202 and then the mailed
// link from the dev log when there is one), a login as the demo owner scripts/seed.ts makes, and
// GET /api/v1/me, 200 concurrent first requests to a feature's chunk; and that the breached-password set is read through ASSETS but not published. Exits non-zero on the first failure, with the dev log's tail. About 20-30 s.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { PASSWORD, login, uniqueEmail } from "./bench/api.ts";
import { startStack } from "./bench/stack.ts";
import type { Stack } from "./bench/stack.ts";
import { DEMO_OWNER } from "./seed.ts";

const root = join(import.meta.dirname, "..");
const BUNDLE = join(root, "dist", "worker", "index.js");
const started = Date.now();
let passed = 0;

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const result = await run();
  passed += 1;
  console.log(`smoke: ok  ${name}`);
  return result;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${response.url} answered ${response.status} with no JSON: ${text.slice(0, 200)}`);
  }
}

async function expectStatus(response: Response, statuses: number[], what: string): Promise<Record<string, unknown>> {
  const body = await json(response);
  check(statuses.includes(response.status), `${what} answered ${response.status} (expected ${statuses.join(" or ")}): ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

const post = (stack: Stack, path: string, body: unknown) =>
  fetch(`${stack.base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** The token of the link the dev log mailer wrote for `email`, polled for a few seconds (mail goes out after the response). */
async function mailedToken(logPath: string, email: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    for (const line of readFileSync(logPath, "utf8").split("\n")) {
      if (!line.includes(email) || !line.startsWith("{")) continue;
      try {
        const entry = JSON.parse(line) as { to?: unknown; text?: unknown };
        const token = entry.to === email && typeof entry.text === "string" ? /[?&#]token=([^\s&#"]+)/.exec(entry.text)?.[1] : undefined;
        if (token) return decodeURIComponent(token);
      } catch {
        // not a log line of ours
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

async function smoke(stack: Stack): Promise<void> {
  check(existsSync(BUNDLE), `${BUNDLE} is missing: wrangler's [build] step (scripts/build.ts) did not run`);
  check(statSync(BUNDLE).mtimeMs >= started - 1000, `${BUNDLE} predates this run: wrangler served a stale bundle`);

  await step("GET /health 200", async () => {
    const body = await expectStatus(await fetch(`${stack.base}/health`), [200], "GET /health");
    check(body.status === "ok", `GET /health said ${JSON.stringify(body)}`);
  });
  await step("GET /ready 200 (database, cache, rate limiter)", async () => {
    const body = await expectStatus(await fetch(`${stack.base}/ready`), [200], "GET /ready");
    check(body.status === "ok", `GET /ready said ${JSON.stringify(body)}`);
  });

  // The set is a static asset (public/_tend/), not in the bundle: refused here only if it was read.
  await step("POST /api/v1/auth/password/reset 422 for a breached password (the set, through ASSETS)", async () => {
    const response = await post(stack, "/api/v1/auth/password/reset", { token: "smoke-not-a-reset-token-0123456789", password: "mailcreated5240" });
    const body = await expectStatus(response, [422], "POST /api/v1/auth/password/reset");
    check(JSON.stringify(body.errors).includes("breached passwords"), `the reset was refused for another reason: ${JSON.stringify(body.errors)}`);
  });
  await step("GET /_tend/breached-passwords.bin 404 (the Worker's own asset, not published)", async () => {
    await expectStatus(await fetch(`${stack.base}/_tend/breached-passwords.bin`), [404], "GET /_tend/breached-passwords.bin");
  });

  const email = uniqueEmail("smoke");
  const signup = { organizationName: "Smoke Practice", name: "Smoke Owner", email };
  await step("POST /api/v1/auth/signup 202", async () => {
    await expectStatus(await post(stack, "/api/v1/auth/signup", signup), [202], "POST /api/v1/auth/signup");
  });
  // Verify-first sign-up: the mailed link finishes it, choosing the password. The dev mailer logs
  // mails at LOG_LEVEL info.
  const token = await mailedToken(stack.logPath, email);
  check(token !== undefined, "no sign-up link for the new address in the dev log");
  await step("POST /api/v1/auth/signup/confirm 201 with the mailed token", async () => {
    const body = await expectStatus(await post(stack, "/api/v1/auth/signup/confirm", { token, password: PASSWORD }), [201], "POST /api/v1/auth/signup/confirm");
    check(typeof (body.tokens as { accessToken?: unknown } | undefined)?.accessToken === "string", "signup/confirm answered 201 without tokens");
  });
  await step("POST /api/v1/auth/login 200 as the new owner", () => login(stack.base, email, PASSWORD));

  // Through wrangler dev's proxy, as a client sees it: a refused body is drained before the 413,
  // so the proxy never sees the connection dropped mid-upload (it answered plain-text 500s).
  await step("20 parallel 1.1 MB bodies: 20 × 413 problem+json", async () => {
    const body = JSON.stringify({ email: "big@example.com", password: "x".repeat(1.1 * 1024 * 1024) });
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${stack.base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
        await response.arrayBuffer();
        return `${response.status} ${response.headers.get("Content-Type")}`;
      }),
    );
    check(answers.every((answer) => answer === "413 application/problem+json"), `large bodies answered ${[...new Set(answers)].join(", ")}`);
  });

  const account = await step("POST /api/v1/auth/login 200 (the demo owner scripts/seed.ts made)", () => login(stack.base, DEMO_OWNER.email, DEMO_OWNER.password));
  await step("GET /api/v1/me 200", async () => {
    const response = await fetch(`${stack.base}/api/v1/me`, { headers: { Authorization: `Bearer ${account.accessToken}` } });
    const body = await expectStatus(response, [200], "GET /api/v1/me");
    check(JSON.stringify(body).includes(DEMO_OWNER.email), "GET /api/v1/me does not name the demo owner");
  });
  // The organization's chunk loads with these: a request that awaited another's import used to
  // read its own body from a foreign request now and then (src/lib/lazy-routes.ts).
  await step("200 concurrent first PATCH /api/v1/organization with bodies: 200 × 422, no cross-request I/O", async () => {
    const headers = { Authorization: `Bearer ${account.accessToken}`, "Content-Type": "application/json", "If-Match": "*" };
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => fetch(`${stack.base}/api/v1/organization`, { method: "PATCH", headers, body: JSON.stringify({ unknownField: true }) }).then(async (response) => (await response.arrayBuffer(), response.status))),
    );
    const wrong = answers.filter((status) => status !== 422);
    check(wrong.length === 0, `PATCH /api/v1/organization answered ${wrong.join(", ")} besides 422`);
    check(!readFileSync(stack.logPath, "utf8").includes("on behalf of a different request"), "the dev log has a cross-request I/O error");
  });
}

async function main(): Promise<number> {
  console.log("smoke: serving dist/worker/index.js with wrangler dev (local mode, PGlite)…");
  // Info logs carry the dev mailer's links; the auth and write limits stay out of the way (a re-run, the 200 PATCHes).
  const stack = await startStack({ timeoutMs: 90_000, config: { LOG_LEVEL: "info", RATE_LIMIT_AUTH_PER_MINUTE: "1000", RATE_LIMIT_WRITES_PER_MINUTE: "1000" } });
  let ok = false;
  try {
    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("gave up after 90 s")), 90_000).unref());
    await Promise.race([smoke(stack), deadline]);
    ok = true;
  } catch (error) {
    console.error(`smoke: FAIL ${error instanceof Error ? error.message : String(error)}`);
    console.error(`--- dev log (last lines, ${stack.logPath}) ---\n${readFileSync(stack.logPath, "utf8").split("\n").slice(-40).join("\n")}`);
  } finally {
    await stack.stop(!ok);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(ok ? `smoke: all ${passed} checks passed in ${seconds} s` : `smoke: failed after ${passed} checks (${seconds} s)`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`smoke: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
