// Runs the schema-driven fuzzer (tests/workers/fuzz.test.ts) with any number of requests:
// `npm run fuzz -- 20000`, or `FUZZ_REQUESTS=20000 npm run fuzz`; `FUZZ_SEED=123` replays a run.
// The test prints the seed it used and the distribution of statuses.
import { spawnSync } from "node:child_process";

const argument = process.argv[2];
if (argument !== undefined && !/^\d+$/.test(argument)) {
  console.error("usage: npm run fuzz -- [requests]   (FUZZ_SEED=<n> replays a run)");
  process.exit(2);
}
const requests = argument ?? process.env.FUZZ_REQUESTS ?? "2000";
if (process.env.FUZZ_SEED && !/^\d+$/.test(process.env.FUZZ_SEED)) {
  console.error("FUZZ_SEED must be a non-negative integer (the seed a run printed)");
  process.exit(2);
}
console.error(`fuzzing with ${requests} requests${process.env.FUZZ_SEED ? `, seed ${process.env.FUZZ_SEED}` : ""}`);
const result = spawnSync("vitest", ["run", "--project", "workers", "tests/workers/fuzz.test.ts"], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_REQUESTS: requests },
});
process.exit(result.status ?? 1);
