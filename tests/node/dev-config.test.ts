import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { devDefaults, invalidKeys, parseDotenv } from "../../scripts/dev-vars.ts";

const DEV_SCRIPT = join(import.meta.dirname, "..", "..", "scripts", "dev.ts");

describe("development configuration", () => {
  it("runs a fresh clone with no .dev.vars: the defaults are valid", () => {
    expect(invalidKeys(devDefaults(5488))).toEqual([]);
  });

  it("points mailed links at the port the dev server really listens on, and allows the walk-through's auth calls", () => {
    const vars = devDefaults(5488, 9123);
    expect(vars.APP_URL).toBe("http://localhost:9123");
    expect(Number(vars.RATE_LIMIT_AUTH_PER_MINUTE)).toBeGreaterThanOrEqual(60);
    expect(devDefaults(5488).APP_URL).toBe("http://localhost:8787");
  });

  it("reads .dev.vars lines, comments and quotes", () => {
    expect(parseDotenv('# comment\nA=1\nB="two words"\n\nC=\'x=y\'\nnot a line\n')).toEqual({
      A: "1",
      B: "two words",
      C: "x=y",
    });
  });

  it("npm run dev refuses to start, naming the bad keys and never their values", () => {
    const dir = mkdtempSync(join(tmpdir(), "tend-dev-"));
    writeFileSync(join(dir, ".dev.vars"), "DATABASE_URL=not-a-url-hunter2\nLOG_LEVEL=shouty\nSENTRY_DSN=nope\n");
    const result = spawnSync(process.execPath, [DEV_SCRIPT], {
      cwd: dir,
      env: { ...process.env, GATEWAY_PORT: "1" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("refusing to start");
    expect(result.stderr).toContain("DATABASE_URL, LOG_LEVEL, SENTRY_DSN");
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/hunter2|shouty|nope/);
  });
});
