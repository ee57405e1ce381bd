import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateApi } from "swagger-typescript-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openapiDocument } from "../../scripts/openapi-dump.ts";

/**
 * The OpenAPI document is a contract a client can be generated from: swagger-typescript-api
 * (maintained; openapi-typescript would not do, its peer is TypeScript 5 and the project is on 7)
 * writes a fetch client, and the project's own tsc type-checks calls against it: a right call
 * compiles, a wrong one does not.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", ".bin", "tsc");

const TSCONFIG = {
  compilerOptions: {
    target: "ES2023",
    lib: ["ES2023", "DOM"],
    module: "ESNext",
    moduleResolution: "Bundler",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    types: [],
  },
};

const GOOD_USAGE = `import { Api, type Organization } from "./api.ts";

const client = new Api<string>({
  baseUrl: "https://api.tend.care",
  securityWorker: (token) => (token ? { headers: { Authorization: \`Bearer \${token}\` } } : {}),
});

export async function rename(name: string): Promise<Organization> {
  const response = await client.api.updateOrganization({ name });
  return response.data;
}

export async function firstEmail(): Promise<string | undefined> {
  const page = await client.api.listMembers({ limit: 10 });
  const next: string | null = page.data.nextCursor;
  void next;
  return page.data.data[0]?.email;
}
`;

let dir: string;

function typecheck(usage: string): { status: number | null; output: string } {
  writeFileSync(join(dir, "usage.ts"), usage);
  const run = spawnSync(TSC, ["-p", join(dir, "tsconfig.json")], { encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("a client generated from the OpenAPI document", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tend-client-"));
    const { files } = await generateApi({ spec: (await openapiDocument()) as never, output: false, silent: true, fileName: "api.ts", httpClientType: "fetch" });
    const [client] = files;
    if (!client) throw new Error("swagger-typescript-api generated no file");
    writeFileSync(join(dir, "api.ts"), client.fileContent);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ ...TSCONFIG, files: ["api.ts", "usage.ts"] }));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("type-checks calls made the way the document says", () => {
    const result = typecheck(GOOD_USAGE);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("refuses a call with a field the document does not have", () => {
    const result = typecheck(GOOD_USAGE.replace("updateOrganization({ name })", "updateOrganization({ colour: name })"));
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/usage\.ts.*colour/);
  });

  it("refuses reading an answer as a type it is not", () => {
    const result = typecheck(GOOD_USAGE.replace("const next: string | null = page.data.nextCursor;", "const next: number = page.data.nextCursor;"));
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/usage\.ts.*not assignable to type 'number'/);
  });
});
