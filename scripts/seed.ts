// Seeds the demo organization used by `npm run dev`. Idempotent: running it again changes nothing.
import { neon, neonConfig } from "@neondatabase/serverless";

export const DEMO_ORGANIZATION = {
  id: "01936f3e-0000-7000-8000-000000000001",
  name: "Tend Demo Practice",
  slug: "demo",
};

export async function seed(databaseUrl: string, httpEndpoint?: string): Promise<boolean> {
  if (httpEndpoint) neonConfig.fetchEndpoint = () => httpEndpoint;
  const sql = neon(databaseUrl);
  const inserted = await sql`insert into organizations (id, name, slug)
    values (${DEMO_ORGANIZATION.id}, ${DEMO_ORGANIZATION.name}, ${DEMO_ORGANIZATION.slug})
    on conflict do nothing returning id`;
  return inserted.length > 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("db:seed: set DATABASE_URL (and DATABASE_HTTP_ENDPOINT for the local gateway)");
    process.exit(1);
  }
  const created = await seed(url, process.env.DATABASE_HTTP_ENDPOINT);
  console.log(`db:seed: demo organization ${created ? "created" : "already present"}`);
}
