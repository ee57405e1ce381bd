// Seeds the demo organization used by `npm run dev`, and its owner, so the walk-through can sign
// in at once. Idempotent: running it again changes nothing. Development only: the owner's
// password is printed in the README, so never seed a database anyone else can reach.
import { neon, neonConfig } from "@neondatabase/serverless";
import { configSchema } from "../src/env.ts";
import { hashPassword } from "../src/lib/password-hash.ts";

export const DEMO_ORGANIZATION = {
  id: "01936f3e-0000-7000-8000-000000000001",
  name: "Tend Demo Practice",
  slug: "demo",
};

export const DEMO_OWNER = {
  id: "01936f3e-0000-7000-8000-000000000002",
  email: "owner@demo.tend.test",
  name: "Demo Owner",
  password: "quiet lantern over the harbour",
};

/**
 * Inserts the demo organization and, given the password peppers (`id:secret,…` as in the
 * configuration), its owner with a verified email. Answers whether the organization was new.
 */
export async function seed(databaseUrl: string, httpEndpoint?: string, passwordPeppers?: string): Promise<boolean> {
  if (httpEndpoint) neonConfig.fetchEndpoint = () => httpEndpoint;
  const sql = neon(databaseUrl);
  const owner = passwordPeppers
    ? { ...DEMO_OWNER, passwordHash: await hashPassword(DEMO_OWNER.password, configSchema.shape.PASSWORD_PEPPERS.parse(passwordPeppers)) }
    : undefined;
  // One transaction in the audited system scope: row-level security (migration 0007) binds the
  // tables' owner too, so the seed says whose rows it writes, like a migration does.
  const [, inserted] = await sql.transaction([
    sql`select set_config('app.scope', 'system', true)`,
    sql`insert into organizations (id, name, slug)
      values (${DEMO_ORGANIZATION.id}, ${DEMO_ORGANIZATION.name}, ${DEMO_ORGANIZATION.slug})
      on conflict do nothing returning id`,
    ...(owner
      ? [
          sql`insert into users (id, email, name, password_hash, email_verified_at)
            values (${owner.id}, ${owner.email}, ${owner.name}, ${owner.passwordHash}, now())
            on conflict do nothing`,
          sql`insert into memberships (organization_id, user_id, role)
            select ${DEMO_ORGANIZATION.id}, id, 'owner' from users where id = ${owner.id}
            on conflict do nothing`,
        ]
      : []),
  ]);
  return (inserted?.length ?? 0) > 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("db:seed: set DATABASE_URL (and DATABASE_HTTP_ENDPOINT for the local gateway; PASSWORD_PEPPERS to seed the demo owner)");
    process.exit(1);
  }
  const created = await seed(url, process.env.DATABASE_HTTP_ENDPOINT, process.env.PASSWORD_PEPPERS);
  console.log(`db:seed: demo organization ${created ? "created" : "already present"}`);
}
