// Profiles the app's per-request CPU in-process: createApp with the memory platform against a
// PGlite gateway, a seeded member, then N calls of app.fetch for /health and for /api/v1/me.
// Run under the profiler, logs to /dev/null (they go to stdout):
//   node --experimental-transform-types scripts/profile-request.ts > /dev/null
// The gateway (PGlite) runs in a child process, and only the measured loop of each path is
// profiled: /tmp/profile-request-<path>.cpuprofile, summarized (self time by function and file)
// on stderr. `--summarize X.cpuprofile` summarizes a profile again.
// PROFILE_REQUESTS (20000) sets N; PROFILE_PATHS (/health,/api/v1/me) which paths run.
import { fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/env.ts";
import { signAccessToken } from "../src/lib/tokens.ts";
import { memoryPlatform } from "../src/platform/memory/adapters.ts";
import { DEMO_ORGANIZATION, seed } from "./seed.ts";
import { devDefaults } from "./dev-vars.ts";
import { startGateway } from "./gateway/server.ts";
import { migrate } from "./migrate.ts";
import { seedMember } from "./bench/api.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time by function and by file, from a .cpuprofile. */
function summarize(path: string, requests = 1): void {
  const profile = JSON.parse(readFileSync(path, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = frame.url.replace(/^file:\/\/.*?\/(node_modules|src|scripts)\//, "$1/") || "(native)";
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const pkg = file.startsWith("node_modules/") ? file.split("/").slice(0, file.includes("/@") ? 3 : 2).join("/") : file;
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}% ${(us / requests).toFixed(2).padStart(7)} µs/req  ${name}`)
      .join("\n");
  console.error(`total ${(total / 1000).toFixed(0)} ms\n\nby function:\n${top(byFunction, 45)}\n\nby file:\n${top(byFile, 30)}`);
}

async function run(): Promise<void> {
  const requests = Number(process.env.PROFILE_REQUESTS ?? 20000);
  const paths = (process.env.PROFILE_PATHS ?? "/health,/api/v1/me").split(",");
  const child = fork(import.meta.filename, ["--gateway"], { execArgv: process.execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve) => child.once("message", (message) => resolve(Number(message))));
  const gateway = { port };
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  try {
    const env: Record<string, string> = {
      ...devDefaults(gateway.port),
      RATE_LIMIT_READS_PER_MINUTE: String(10 * requests),
    };
    await migrate(env.DATABASE_URL ?? "", env.DATABASE_HTTP_ENDPOINT);
    await seed(env.DATABASE_URL ?? "", env.DATABASE_HTTP_ENDPOINT);
    const email = await seedMember({ ...process.env, GATEWAY_PORT: String(gateway.port) }, "profile");
    const config = parseConfig(env);
    const { neon } = await import("@neondatabase/serverless");
    const sql = neon(env.DATABASE_URL ?? "");
    const [user] = await sql`select id from users where email = ${email}`;
    const token = await signAccessToken(config, { userId: String(user?.id), organizationId: DEMO_ORGANIZATION.id, role: "owner" });
    const app = createApp(memoryPlatform(async () => {}));
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
    for (const path of paths) {
      const headers: Record<string, string> = path.startsWith("/api/") ? { Authorization: `Bearer ${token}` } : {};
      const call = async () => {
        const response = await app.fetch(new Request(`http://localhost${path}`, { headers }), env, ctx);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      };
      for (let i = 0; i < 200; i++) await call();
      await session.post("Profiler.start");
      const started = performance.now();
      for (let i = 0; i < requests; i++) await call();
      const ms = performance.now() - started;
      const { profile } = await session.post("Profiler.stop");
      const file = `/tmp/profile-request-${path.replaceAll("/", "_")}.cpuprofile`;
      writeFileSync(file, JSON.stringify(profile));
      console.error(`${path}: ${requests} requests, ${((ms / requests) * 1000).toFixed(1)} µs each (wall, in-process); ${file}`);
      summarize(file, requests);
    }
  } finally {
    session.disconnect();
    child.kill();
  }
}

if (process.argv[2] === "--summarize" && process.argv[3]) summarize(process.argv[3]);
else if (process.argv[2] === "--gateway") {
  const gateway = await startGateway({ port: 0, backend: "pglite" });
  process.send?.(gateway.port);
  process.on("disconnect", () => void gateway.close().then(() => process.exit(0)));
} else await run();
