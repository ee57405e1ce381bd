// `npm run dev`: the whole stack in one command. Starts the local database gateway (PGlite under
// .data/, or LOCAL_POSTGRES_URL), applies migrations, seeds the demo organization, runs
// `wrangler dev`, and prints the URLs. Ctrl-C stops everything it started.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startGateway } from "./gateway/server.ts";
import { devDefaults, environmentOverrides, invalidKeys, readDevVars, toDotenv } from "./dev-vars.ts";
import { migrate } from "./migrate.ts";
import { DEMO_OWNER, seed } from "./seed.ts";

const port = Number(process.env.PORT ?? 8787);
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 5488);
const vars = { ...devDefaults(gatewayPort, port), ...readDevVars(), ...environmentOverrides() };

const bad = invalidKeys(vars);
if (bad.length > 0) {
  console.error(`dev: refusing to start; fix these keys in .dev.vars (see .dev.vars.example): ${bad.join(", ")}`);
  process.exit(1);
}

const postgresUrl = process.env.LOCAL_POSTGRES_URL;
const gateway = await startGateway(
  postgresUrl
    ? { port: gatewayPort, backend: "postgres", postgresUrl }
    : { port: gatewayPort, backend: "pglite", dataDir: process.env.PGLITE_DIR ?? ".data/pglite" },
);
console.log(`dev: database gateway on ${gateway.url} (${gateway.backendName})`);
const usesGateway = vars.DATABASE_HTTP_ENDPOINT !== undefined;
const migrated = await migrate(vars.DATABASE_URL ?? "", vars.DATABASE_HTTP_ENDPOINT);
console.log(`dev: migrations applied ${migrated.applied.length}, already applied ${migrated.skipped}`);
if (usesGateway) {
  const created = await seed(vars.DATABASE_URL ?? "", vars.DATABASE_HTTP_ENDPOINT, vars.PASSWORD_PEPPERS);
  console.log(`dev: demo organization ${created ? "created" : "present"}; its owner signs in as ${DEMO_OWNER.email} / "${DEMO_OWNER.password}"`);
}

// The merged configuration reaches wrangler through a private env file, never the command line
// (where `ps` and crash dumps would show the secrets). With --env-file wrangler skips .dev.vars,
// which the merge above already read.
const envFile = join(".wrangler", "tend-dev.env");
mkdirSync(".wrangler", { recursive: true });
writeFileSync(envFile, toDotenv(vars), { mode: 0o600 });
chmodSync(envFile, 0o600);

const wranglerArgs = ["dev", "--port", String(port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--env-file", envFile];
// Local Durable Object/KV/queue state lives in .wrangler/state unless told otherwise (the bench keeps its own).
if (process.env.WRANGLER_PERSIST_TO) wranglerArgs.push("--persist-to", process.env.WRANGLER_PERSIST_TO);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wranglerEntry = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
// wrangler's build step runs `node scripts/build.ts`: it must find this Node (≥ 22), not the system's.
const path = [dirname(process.execPath), join(root, "node_modules", ".bin"), process.env.PATH].join(":");
const wrangler = spawn(process.execPath, [wranglerEntry, ...wranglerArgs], {
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
  env: { ...process.env, PATH: path, WRANGLER_SEND_METRICS: "false" },
});
wrangler.on("error", (error) => {
  console.error(`dev: could not start wrangler (${error.message})`);
  void stop(1);
});

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (wrangler.pid && wrangler.exitCode === null) {
      try {
        process.kill(-wrangler.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await gateway.close();
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 1));

/** wrangler's scheduled-test endpoint: one Cron Trigger tick, as Cloudflare fires it. */
const cronUrl = (base: string) => `${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`;

/** Polls /health until wrangler answers (two minutes at most), then prints where everything is. */
async function announceWhenUp(base: string): Promise<void> {
  for (let attempt = 0; attempt < 240; attempt++) {
    try {
      if ((await fetch(`${base}/health`)).ok) {
        console.log(
          `\n  Tend API  ${base}/api/v1\n  Docs      ${base}/docs\n  Health    ${base}/health · ${base}/ready\n` +
            `  Cron      ticks every minute by itself; to tick now (reminders, missed doses, alerts, escalation, sends):\n` +
            `            curl '${cronUrl(base)}'\n`,
        );
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.error("dev: the API did not answer within two minutes");
}

/**
 * `wrangler dev` fires no Cron Trigger by itself: tick it once a minute, as Cloudflare would
 * (wrangler.toml `crons`), so the outbox sweeper, audit sealing and the housekeeping run locally too.
 */
function tickCronEveryMinute(base: string): void {
  const tick = () =>
    fetch(cronUrl(base)).then(
      (response) => void response.body?.cancel(),
      () => undefined,
    );
  setInterval(tick, 60_000).unref();
}

await announceWhenUp(`http://127.0.0.1:${port}`);
tickCronEveryMinute(`http://127.0.0.1:${port}`);
