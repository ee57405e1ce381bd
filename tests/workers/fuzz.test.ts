import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { createTenant, PASSWORD, type Tenant } from "./fixtures.ts";
import {
  describeRequest,
  type FuzzContext,
  type FuzzRequest,
  fuzzRequest,
  mulberry32,
  type OpenApiDocument,
  operationsOf,
  responseDefect,
  type Rng,
} from "./fuzz-engine.ts";
import { api } from "./helpers.ts";
import { captureMail } from "./mail.ts";

/**
 * Schema-driven fuzzing: every operation in /api/v1/openapi.json gets malformed requests (wrong
 * types, hostile strings, bad ids, bad JSON, wrong content types, forged credentials). No
 * answer may be a 5xx, and every 4xx is problem+json with a detail. FUZZ_REQUESTS sets the
 * count (default 2000) and FUZZ_SEED replays a run; `npm run fuzz -- 20000` runs more.
 */
const settings = inject("fuzz");
const REQUESTS = Number(settings.requests) > 0 ? Math.floor(Number(settings.requests)) : 2000;
const SEED = settings.seed !== "" && Number.isFinite(Number(settings.seed)) ? Number(settings.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
/** Requests per tenant: a fresh one now and then, since some requests (logout-all, password change) revoke its tokens. */
const PER_TENANT = 60;
const CONCURRENCY = 6;
const MAX_REPORTED = 15;

async function contextFor(tenant: Tenant): Promise<FuzzContext> {
  const owner = tenant.members.owner;
  const created = await api("/api/v1/api-keys", {
    method: "POST",
    headers: { ...owner.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "fuzz key", scopes: ["organization:read", "organization:write", "members:read", "members:write", "invitations:write", "api-keys:read"] }),
  });
  if (created.status !== 201) throw new Error(`fuzz: could not create the API key to fuzz with (${created.status}): ${await created.text()}`);
  const key = (await created.json()) as { id: string; key: string };
  const members = Object.values(tenant.members);
  return {
    organizationId: tenant.organizationId,
    memberIds: members.map((member) => member.id),
    tokens: members.map((member) => member.token),
    apiKey: key.key,
    apiKeyId: key.id,
    password: PASSWORD,
  };
}

async function send(request: FuzzRequest): Promise<{ status: number; ms: number; defect?: string }> {
  const started = Date.now();
  try {
    const response = await api(request.path, { method: request.method, headers: request.headers, body: request.body });
    const text = await response.text();
    const defect = responseDefect(response.status, response.headers.get("Content-Type"), text, request.method);
    return { status: response.status, ms: Date.now() - started, defect };
  } catch (error) {
    return { status: 0, ms: Date.now() - started, defect: `the request threw: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const distribution = (counts: Map<number, number>) =>
  `{ ${[...counts.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`).join(", ")} }`;

async function runPool<T>(items: T[], worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await worker(items[next++] as T);
  });
  await Promise.all(lanes);
}

describe("schema-driven fuzzing of every documented operation", () => {
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it(
    `answers ${REQUESTS} malformed requests without a 5xx, every 4xx a problem with a detail`,
    async () => {
      console.log(`fuzz: seed ${SEED}, ${REQUESTS} requests (replay with FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} npm run fuzz)`);
      captureMail();
      const document = (await (await api("/api/v1/openapi.json")).json()) as OpenApiDocument;
      const operations = operationsOf(document);
      expect(operations.length).toBeGreaterThan(10);

      const rng: Rng = mulberry32(SEED);
      const statuses = new Map<number, number>();
      const byCredentials = new Map<string, Map<number, number>>();
      const slowest: { ms: number; line: string }[] = [];
      const timeByOperation = new Map<string, number>();
      const covered = new Map<string, number>();
      const defects: string[] = [];
      let failures = 0;
      const retries: FuzzRequest[] = [];
      const record = (request: FuzzRequest, defect: string) => {
        failures++;
        if (defects.length < MAX_REPORTED) defects.push(`${describeRequest(request)}\n    → ${defect}`);
      };

      for (let start = 0; start < REQUESTS; start += PER_TENANT) {
        const context = await contextFor(await createTenant("Fuzz Practice"));
        const batch: FuzzRequest[] = [];
        for (let index = start; index < Math.min(start + PER_TENANT, REQUESTS); index++) {
          const operation = operations[Math.floor(rng() * operations.length)];
          if (operation) batch.push(fuzzRequest(index, operation, context, rng));
        }
        await runPool(batch, async (request) => {
          const { status, ms, defect } = await send(request);
          slowest.push({ ms, line: `${ms} ms ${describeRequest(request).slice(0, 160)}` });
          slowest.sort((a, b) => b.ms - a.ms).splice(5);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          const mode = request.mutation.split(/[ :]/)[0] ?? "";
          const modeStatuses = byCredentials.get(mode) ?? new Map<number, number>();
          modeStatuses.set(status, (modeStatuses.get(status) ?? 0) + 1);
          byCredentials.set(mode, modeStatuses);
          covered.set(request.operation, (covered.get(request.operation) ?? 0) + 1);
          timeByOperation.set(request.operation, (timeByOperation.get(request.operation) ?? 0) + ms);
          if (status === 503) retries.push(request);
          else if (defect) record(request, defect);
        });
      }

      // A 503 says a dependency was slow or down: on a loaded machine the database probe can miss
      // its deadline. Each is sent again alone; only one that answers 503 again is a defect.
      for (const request of retries) {
        const { status, defect } = await send(request);
        console.log(`fuzz: ${describeRequest(request).slice(0, 120)} answered 503, then ${status} when sent again alone`);
        if (defect) record(request, defect);
      }
      console.log(`fuzz: statuses ${distribution(statuses)}`);
      for (const [mode, counts] of byCredentials) console.log(`fuzz:   with ${mode} credentials ${distribution(counts)}`);
      const costliest = [...timeByOperation].sort(([, a], [, b]) => b - a).slice(0, 5);
      console.log(`fuzz: most time spent in ${costliest.map(([name, ms]) => `${name} ${Math.round(ms / CONCURRENCY)} ms`).join(", ")}`);
      console.log(`fuzz: slowest\n  ${slowest.map((entry) => entry.line).join("\n  ")}`);
      console.log(`fuzz: ${covered.size}/${operations.length} operations covered, ${failures} defects`);
      const uncovered = operations.map((operation) => `${operation.method} ${operation.path}`).filter((name) => !covered.has(name));
      if (defects.length > 0) {
        expect.fail(`fuzz seed ${SEED}: ${failures} of ${REQUESTS} requests were answered wrongly (first ${defects.length}):\n${defects.join("\n")}`);
      }
      if (REQUESTS >= operations.length * 20) expect(uncovered).toEqual([]);
    },
    Math.max(180_000, REQUESTS * 60),
  );
});
