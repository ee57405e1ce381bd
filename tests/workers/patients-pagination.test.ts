import { describe, expect, it } from "vitest";
import { patients } from "#src/db/schema/index.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { createTenant, type Tenant } from "./fixtures.ts";
import { api, testDb } from "./helpers.ts";

/**
 * Keyset pages under concurrent inserts: rows inserted between two pages never make a page
 * repeat or skip a row that was there from the start, whatever the ordering. Ties on the sort
 * key (same name, same created_at from one multi-row insert) are broken by id.
 */

interface Page {
  data: { id: string; name: string }[];
  nextCursor: string | null;
}

/** Patients inserted in one statement: they share created_at and updated_at. */
async function insertMany(tenant: Tenant, names: string[]): Promise<string[]> {
  const rows = names.map((name) => ({ id: uuidv7(), organizationId: tenant.organizationId, name }));
  await testDb().insert(patients).values(rows);
  return rows.map((row) => row.id);
}

async function page(tenant: Tenant, query: string, cursor: string | null): Promise<Page> {
  const response = await api(`/api/v1/patients?${query}&limit=4${cursor ? `&cursor=${cursor}` : ""}`, { headers: tenant.members.owner.headers });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

/** Walks every page, inserting `between(n)` rows after page n; answers every id seen, in order. */
async function walk(tenant: Tenant, query: string, between: (pageNumber: number) => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pageNumber = 0; pageNumber < 50; pageNumber++) {
    const current: Page = await page(tenant, query, cursor);
    seen.push(...current.data.map((patient) => patient.id));
    cursor = current.nextCursor;
    if (!cursor) break;
    await between(pageNumber);
  }
  return seen;
}

const NAMES = ["Avery", "Blake", "Casey", "Casey", "Casey", "Casey Ann", "Kasey", "Casey", "Dana", "Émile", "Finley", "Gray", "Harper", "Indy", "Jules", "Kai"];

const ORDERINGS = [
  "sort=name&order=asc",
  "sort=name&order=desc",
  "sort=created_at&order=asc",
  "sort=created_at&order=desc",
  "sort=updated_at&order=asc",
  "sort=updated_at&order=desc",
  "q=casey",
];

describe("keyset pagination under concurrent inserts", () => {
  for (const query of ORDERINGS) {
    it(`neither repeats nor skips a row (${query})`, async () => {
      const tenant = await createTenant("Pagination Practice");
      const original = [...(await insertMany(tenant, NAMES.slice(0, 7))), ...(await insertMany(tenant, NAMES.slice(7)))];
      const inserted: string[] = [];
      const seen = await walk(tenant, query, async (pageNumber) => {
        if (pageNumber > 2) return;
        // Names before and after any cursor, one of them equal to a key already paged past.
        inserted.push(...(await insertMany(tenant, [`Aaron ${pageNumber}`, "Casey", `Zed ${pageNumber}`, "Casey Jones"])));
      });
      expect(new Set(seen).size, "no row twice").toBe(seen.length);
      if (query.startsWith("q=")) {
        const caseys = original.filter((_, index) => NAMES[index]?.startsWith("Casey"));
        for (const id of caseys) expect(seen, "every original match").toContain(id);
      } else {
        for (const id of original) expect(seen, "every original row").toContain(id);
      }
      expect(inserted.length).toBeGreaterThan(0);
    });
  }

  it("orders ties on the sort key by id", async () => {
    const tenant = await createTenant("Ties Practice");
    const ids = await insertMany(tenant, ["Same", "Same", "Same", "Same", "Same", "Same"]);
    const seen = await walk(tenant, "sort=created_at&order=asc", async () => undefined);
    expect(seen).toEqual([...ids].sort());
    const backwards = await walk(tenant, "sort=name&order=desc", async () => undefined);
    expect(backwards).toEqual([...ids].sort().toReversed());
  });

  it("pages by long non-Latin names whose key is too long to ride in the cursor", async () => {
    const tenant = await createTenant("Long Names Practice");
    const ids = await insertMany(tenant, ["Ж", "Щ", "Я", "Б", "Д", "Ю"].map((letter) => letter.repeat(200)));
    const seen = await walk(tenant, "sort=name&order=asc", async () => undefined);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(ids.length);
  });
});
