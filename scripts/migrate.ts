// Applies migrations/ to DATABASE_URL over the Neon HTTP driver: Neon in production, the local
// gateway when DATABASE_HTTP_ENDPOINT is set. Each migration runs as one batch (one transaction)
// together with its record, so it applies whole or not at all; re-running is a no-op, and two
// runs at once serialise on an advisory lock (the loser's record insert conflicts and rolls back).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { neon, neonConfig } from "@neondatabase/serverless";

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");
const LOCK_KEY = 7_283_001;

interface Migration {
  name: string;
  hash: string;
  statements: string[];
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string }[];
  };
  return journal.entries.map(({ tag }) => {
    const text = readFileSync(join(dir, `${tag}.sql`), "utf8");
    return {
      name: tag,
      hash: createHash("sha256").update(text).digest("hex"),
      statements: text
        .split("--> statement-breakpoint")
        .map((statement) => statement.trim())
        .filter(Boolean),
    };
  });
}

export interface MigrateResult {
  applied: string[];
  skipped: number;
}

export interface MigrateOptions {
  /** Stop after this migration (tests of a data migration seed the schema before it). */
  through?: string;
}

/** Applies every pending migration, in order. */
export async function migrate(databaseUrl: string, httpEndpoint?: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  if (httpEndpoint) neonConfig.fetchEndpoint = () => httpEndpoint;
  const sql = neon(databaseUrl);
  await sql`create table if not exists schema_migrations (
    name text primary key, hash text not null, applied_at timestamptz not null default now())`;
  const done = new Set((await sql`select name from schema_migrations`).map((row) => String(row.name)));
  const result: MigrateResult = { applied: [], skipped: 0 };
  const migrations = readMigrations();
  const last = options.through === undefined ? migrations.length - 1 : migrations.findIndex((m) => m.name === options.through);
  if (last < 0) throw new Error(`no migration named ${options.through}`);
  for (const migration of migrations.slice(0, last + 1)) {
    if (done.has(migration.name)) {
      result.skipped++;
      continue;
    }
    try {
      await sql.transaction([
        sql`select pg_advisory_xact_lock(${LOCK_KEY})`,
        // The owner is bound by FORCE ROW LEVEL SECURITY (0007) too: a data migration sees all rows.
        sql`select set_config('app.scope', 'system', true)`,
        sql`insert into schema_migrations (name, hash) values (${migration.name}, ${migration.hash})`,
        ...migration.statements.map((statement) => sql.query(statement)),
      ]);
      result.applied.push(migration.name);
    } catch (error) {
      if ((error as { code?: string }).code === "23505") {
        result.skipped++; // another run applied it while we waited for the lock
        continue;
      }
      throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("db:migrate: set DATABASE_URL (and DATABASE_HTTP_ENDPOINT for the local gateway)");
    process.exit(1);
  }
  const result = await migrate(url, process.env.DATABASE_HTTP_ENDPOINT);
  console.log(`db:migrate: applied ${result.applied.length} (${result.applied.join(", ") || "none"}), already applied ${result.skipped}`);
}
