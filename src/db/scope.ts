import { and, eq, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable, PgUpdateSetSource } from "drizzle-orm/pg-core";
import { type Database, withScope } from "#src/db/client.ts";

/** A table whose rows belong to one organization. */
export type TenantTable = PgTable & { organizationId: PgColumn };

type Condition = SQL | undefined;

/**
 * A repository handle for one organization. Its helpers add `organization_id = $org` to every
 * statement they build, and its client runs in the `organization` database scope, so row-level
 * security hides other organizations' rows even from a query that forgot its filter.
 */
export interface TenantScope {
  readonly organizationId: string;
  /** The RLS-narrowed client, for joins, CTEs and batches: add `where()` to them anyway. */
  readonly db: Database;
  /** `organization_id = $org` on `table`, and every further condition. */
  where(table: TenantTable, ...conditions: Condition[]): SQL;
  /** `select … from table where organization_id = $org and …`. */
  select<T extends TenantTable>(table: T, ...conditions: Condition[]): TenantSelect<T["$inferSelect"]>;
  /** Rows to insert, their `organizationId` filled in (and any other one overridden). */
  insert<T extends TenantTable>(table: T, values: TenantValues<T> | TenantValues<T>[]): ReturnType<typeof insertInto<T>>;
  update<T extends TenantTable>(table: T, set: PgUpdateSetSource<T>, ...conditions: Condition[]): ReturnType<typeof updateWhere<T>>;
  delete<T extends TenantTable>(table: T, ...conditions: Condition[]): ReturnType<typeof deleteWhere<T>>;
}

export type TenantValues<T extends TenantTable> = Omit<T["$inferInsert"], "organizationId">;

const whereOf = (organizationId: string, table: TenantTable, conditions: Condition[]): SQL =>
  and(eq(table.organizationId, organizationId), ...conditions) as SQL;

/** A scoped select: await it, or order and page it first. (Joins and batches: use `scope.db`.) */
export interface TenantSelect<Row> extends PromiseLike<Row[]> {
  orderBy(...columns: (PgColumn | SQL)[]): TenantSelect<Row>;
  limit(count: number): TenantSelect<Row>;
  offset(count: number): TenantSelect<Row>;
}

function selectFrom<T extends TenantTable>(db: Database, organizationId: string, table: T, conditions: Condition[]): TenantSelect<T["$inferSelect"]> {
  // drizzle cannot resolve `from()` over a generic table; the row type is the table's own.
  return db
    .select()
    .from(table as PgTable)
    .where(whereOf(organizationId, table, conditions))
    .$dynamic() as unknown as TenantSelect<T["$inferSelect"]>;
}

function insertInto<T extends TenantTable>(db: Database, organizationId: string, table: T, values: TenantValues<T> | TenantValues<T>[]) {
  // oxlint-disable-next-line no-map-spread -- copies: the caller's objects are not ours to change
  const rows = (Array.isArray(values) ? values : [values]).map((row) => ({ ...row, organizationId }));
  return db.insert(table).values(rows as T["$inferInsert"][]);
}

function updateWhere<T extends TenantTable>(db: Database, organizationId: string, table: T, set: PgUpdateSetSource<T>, conditions: Condition[]) {
  return db.update(table).set(set).where(whereOf(organizationId, table, conditions));
}

function deleteWhere<T extends TenantTable>(db: Database, organizationId: string, table: T, conditions: Condition[]) {
  return db.delete(table).where(whereOf(organizationId, table, conditions));
}

/** The caller's organization's repository handle: the way tenant features reach their tables. */
export function scoped(db: Database, organizationId: string): TenantScope {
  const narrowed = withScope(db, { kind: "organization", organizationId });
  return {
    organizationId,
    db: narrowed,
    where: (table, ...conditions) => whereOf(organizationId, table, conditions),
    select: (table, ...conditions) => selectFrom(narrowed, organizationId, table, conditions),
    insert: (table, values) => insertInto(narrowed, organizationId, table, values),
    update: (table, set, ...conditions) => updateWhere(narrowed, organizationId, table, set, conditions),
    delete: (table, ...conditions) => deleteWhere(narrowed, organizationId, table, conditions),
  };
}

/**
 * A client for a job that spans organizations (cleanup, cron): row-level security lets it see
 * every row, and each round trip it makes writes a `system.scope` audit row naming `job`, in the
 * same transaction. Use it only where no organization or user can narrow the work.
 */
export function systemScope(db: Database, job: string): Database {
  return withScope(db, { kind: "system", job });
}
