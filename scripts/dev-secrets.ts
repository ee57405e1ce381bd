// Secrets for development and tests, so a fresh clone runs with no .dev.vars: an ES256 signing
// key, a password pepper and an encryption key. `npm run dev` keeps its set in .data/ so tokens
// and encrypted TOTP seeds survive restarts; tests make a throwaway set per run.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface Secrets {
  JWT_PRIVATE_KEYS: string;
  PASSWORD_PEPPERS: string;
  ENCRYPTION_KEYS: string;
}

export function generateSecrets(kid = `dev-${Date.now().toString(36)}`): Secrets {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" });
  return {
    JWT_PRIVATE_KEYS: JSON.stringify([{ ...jwk, kid }]),
    PASSWORD_PEPPERS: `p1:${randomBytes(32).toString("base64url")}`,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
  };
}

/** The development secrets, made once and kept at `path` (under the gitignored .data/). */
export function persistentDevSecrets(path = ".data/dev-secrets.json"): Secrets {
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as Secrets;
  const secrets = generateSecrets();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `npm run secrets:generate`: a fresh production set, to pipe into `wrangler secret put`.
  const secrets = generateSecrets(`key-${new Date().toISOString().slice(0, 10)}`);
  for (const [name, value] of Object.entries(secrets)) console.log(`${name}=${value}`);
}
