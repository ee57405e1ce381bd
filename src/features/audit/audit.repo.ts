import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "#src/db/client.ts";
import type { TenantScope } from "#src/db/scope.ts";
import { type AuditOrigin, auditFromCte, auditOnceFromCte } from "#src/lib/audit.ts";
import { isoOf } from "#src/db/sql-time.ts";

/** What a query of the trail filters on; `action` ending in "." is a prefix (`note.`). */
export interface AuditFilters {
  actor?: string | undefined;
  patient?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface AuditActor {
  userId: string | null;
  apiKeyId: string | null;
}

/** The row as the API shows it; timestamps and arrays already rendered by SQL. */
export const AuditEventRow = z.object({
  id: z.string(),
  actor_user_id: z.string().nullable(),
  actor_api_key_id: z.string().nullable(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  patient_ids: z.array(z.string()),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});

export type AuditEventRow = z.infer<typeof AuditEventRow>;

const COLUMNS = sql`id, actor_user_id, actor_api_key_id, action, target_type, target_id,
  to_jsonb(patient_ids) as patient_ids, ip, user_agent, request_id, metadata, ${isoOf("created_at")} as created_at`;

/**
 * The smallest UUIDv7 of a millisecond: ids are time-ordered, so a time bound is also an id bound,
 * which lets the (organization_id, id) index stop a scan where the range ends.
 */
export function uuidFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0").slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** An id's clock and created_at (transaction start) differ by a request's duration at most. */
const ID_CLOCK_SLACK_MS = 5 * 60_000;

/** The filters as SQL conditions on audit_events, besides the organization. */
function filterConditions(filters: AuditFilters): SQL[] {
  const conditions: SQL[] = [];
  if (filters.actor) conditions.push(sql`actor_user_id = ${filters.actor}::uuid`);
  if (filters.patient) conditions.push(sql`patient_ids @> array[${filters.patient}::uuid]`);
  if (filters.action?.endsWith(".")) conditions.push(sql`starts_with(action, ${filters.action})`);
  else if (filters.action) conditions.push(sql`action = ${filters.action}`);
  if (filters.from) {
    const from = Date.parse(filters.from);
    conditions.push(sql`created_at >= ${new Date(from).toISOString()}::timestamptz and id >= ${uuidFloor(from - ID_CLOCK_SLACK_MS)}::uuid`);
  }
  if (filters.to) {
    const to = Date.parse(filters.to);
    conditions.push(sql`created_at < ${new Date(to).toISOString()}::timestamptz and id < ${uuidFloor(to + ID_CLOCK_SLACK_MS)}::uuid`);
  }
  return conditions;
}

const whereOf = (organizationId: string, filters: AuditFilters, extra: SQL[]): SQL =>
  sql.join([sql`organization_id = ${organizationId}::uuid`, ...filterConditions(filters), ...extra], sql` and `);

/** The filters as audit metadata: what was asked for, never what was found. */
export function filterMetadata(filters: AuditFilters): Record<string, string | null> {
  return { actor: filters.actor ?? null, patient: filters.patient ?? null, action: filters.action ?? null, from: filters.from ?? null, to: filters.to ?? null };
}

const pagePatients = (cte: string) =>
  sql.raw(`(select coalesce(array_agg(distinct p), '{}'::uuid[]) from ${cte}, unnest(${cte}.patient_ids_raw) as p)`);

/**
 * A page of the trail, newest first (keyset on id), and its own `audit.listed` row naming every
 * patient the page names, in one statement. The new row is not in the page: a statement's
 * data-modifying CTEs are invisible to its own reads.
 */
export function listAuditRows(scope: TenantScope, origin: AuditOrigin, actor: AuditActor, input: { filters: AuditFilters; before?: string | undefined; limit: number }) {
  const org = scope.organizationId;
  const where = whereOf(org, input.filters, input.before ? [sql`id < ${input.before}::uuid`] : []);
  return scope.db.execute(sql`
    with candidates as (
      select ${COLUMNS}, patient_ids as patient_ids_raw from audit_events where ${where} order by id desc limit ${input.limit + 1}
    ), page as (
      select * from candidates order by id desc limit ${input.limit}
    ), audit as (
      ${auditOnceFromCte("page", origin, {
        action: "audit.listed",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "audit_events",
        patientIds: pagePatients("page"),
        metadata: sql`jsonb_build_object('returned', count(c.id)) || ${JSON.stringify(filterMetadata(input.filters))}::jsonb`,
      })}
    )
    select * from candidates order by id desc`);
}

/**
 * One page of an export, oldest first after `after`, below `ceiling` (the export's start, so rows
 * written while it runs, its own audit row included, stay out). The first page carries the
 * export's one `audit.exported` row, in the same statement.
 */
export function exportPage(scope: TenantScope, input: { filters: AuditFilters; after?: string | undefined; ceiling: string; size: number; audit?: { origin: AuditOrigin; actor: AuditActor } }) {
  const org = scope.organizationId;
  const where = whereOf(org, input.filters, [sql`id < ${input.ceiling}::uuid`, ...(input.after ? [sql`id > ${input.after}::uuid`] : [])]);
  const page = sql`select ${COLUMNS} from audit_events where ${where} order by id limit ${input.size}`;
  if (!input.audit) return scope.db.execute(page);
  const { origin, actor } = input.audit;
  return scope.db.execute(sql`
    with audit as (
      ${auditFromCte("(select 1) as once", origin, {
        action: "audit.exported",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "audit_events",
        patientIds: input.filters.patient ? [input.filters.patient] : [],
        metadata: filterMetadata(input.filters),
      })}
    )
    ${page}`);
}

/**
 * Each audit row's digest, computed by SQL so sealing and verifying hash the very same bytes:
 * SHA-256 of the row's columns as a JSON array (jsonb's text form is canonical: key order and
 * spacing fixed; created_at in UTC, whatever the session's time zone).
 */
const rowDigest = (alias: string) =>
  sql.raw(`sha256(convert_to(jsonb_build_array(${alias}.id, ${alias}.organization_id, ${alias}.actor_user_id, ${alias}.actor_api_key_id,
    ${alias}.action, ${alias}.target_type, ${alias}.target_id, ${alias}.patient_ids, ${alias}.ip, ${alias}.user_agent,
    ${alias}.request_id, ${alias}.metadata, ${alias}.created_at at time zone 'UTC')::text, 'UTF8'))`);

/** A range's digest: SHA-256 over its rows' digests in id order (of no rows: SHA-256 of nothing). */
const rangeDigest = (alias: string, order: string) =>
  sql`encode(sha256(coalesce(string_agg(${rowDigest(alias)}, ''::bytea order by ${sql.raw(order)}), ''::bytea)), 'hex')`;

/** The hash of the first seal's predecessor. */
export const GENESIS_HASH = "0".repeat(64);

/** A seal covers this many rows at most; a longer backlog is sealed over the next ticks. */
export const SEAL_MAX_ROWS = 5000;

/**
 * Seals, for every organization, its unsealed rows older than `cutoff` (a UUIDv7 floor) in one
 * set-based statement: each organization's next seal covers the rows after its last seal's
 * last_id (one range scan of the (organization_id, id) index per organization), up to
 * SEAL_MAX_ROWS, and hashes `previous_hash|seq|first_id|last_id|row_count|
 * rows_digest`. Two sealers at once compute the same seq: the unique (organization_id, seq) and
 * ON CONFLICT DO NOTHING keep one, and the chain never forks.
 */
export function sealPending(db: Database, cutoff: string) {
  return db.execute(sql`
    with heads as (
      select distinct on (organization_id) organization_id, seq, last_id, hash
      from audit_seals order by organization_id, seq desc
    ), pending as (
      select e.*
      from organizations o
      left join heads h on h.organization_id = o.id
      cross join lateral (
        select * from audit_events e
        where e.organization_id = o.id and e.id > coalesce(h.last_id, '00000000-0000-0000-0000-000000000000'::uuid) and e.id < ${cutoff}::uuid
        order by e.id limit ${SEAL_MAX_ROWS}
      ) as e
    ), ranges as (
      select organization_id, count(*)::int as row_count,
        min(id::text collate "C")::uuid as first_id, max(id::text collate "C")::uuid as last_id,
        ${rangeDigest("pending", "pending.id")} as rows_digest
      from pending group by organization_id
    ), chained as (
      select r.*, coalesce(h.seq, 0) + 1 as seq, coalesce(h.hash, ${GENESIS_HASH}) as previous_hash
      from ranges r left join heads h on h.organization_id = r.organization_id
    ), sealed as (
      insert into audit_seals (organization_id, seq, first_id, last_id, row_count, rows_digest, previous_hash, hash)
      select organization_id, seq, first_id, last_id, row_count, rows_digest, previous_hash,
        encode(sha256(convert_to(concat_ws('|', previous_hash, seq, first_id, last_id, row_count, rows_digest), 'UTF8')), 'hex')
      from chained
      on conflict (organization_id, seq) do nothing
      returning organization_id, row_count
    )
    select count(*)::int as seals, coalesce(sum(row_count), 0)::int as rows from sealed`);
}

export const SealOutcome = z.object({ seals: z.number().int(), rows: z.number().int() });

/** One seal as stored, with what its range holds now (range: after the previous seal's last_id). */
export const VerifiedSeal = z.object({
  seq: z.number().int(),
  first_id: z.string(),
  last_id: z.string(),
  row_count: z.number().int(),
  rows_digest: z.string(),
  previous_hash: z.string(),
  hash: z.string(),
  found_rows: z.number().int(),
  found_first_id: z.string().nullable(),
  found_digest: z.string(),
});

export const VerifyOutcome = z.object({
  seals: z.array(VerifiedSeal),
  unsealed: z.number().int(),
});

/**
 * Everything verify needs, in one statement: the organization's seals with each range's rows
 * recomputed (one grouped query), the count of rows after the last seal, and the `audit.verified`
 * row. A seal's range is (previous seal's last_id, last_id], so a row forged between two seals
 * lands in the next one's range and breaks it.
 */
export function verifyRows(scope: TenantScope, origin: AuditOrigin, actor: AuditActor) {
  const org = scope.organizationId;
  return scope.db.execute(sql`
    with seals as (
      select seq, first_id, last_id, row_count, rows_digest, previous_hash, hash,
        lag(last_id) over (order by seq) as after_id
      from audit_seals where organization_id = ${org}::uuid
    ), recomputed as (
      select s.seq, count(e.id)::int as found_rows, min(e.id::text collate "C") as found_first_id,
        ${rangeDigest("e", "e.id")} as found_digest
      from seals s left join audit_events e
        on e.organization_id = ${org}::uuid and e.id <= s.last_id and (s.after_id is null or e.id > s.after_id)
      group by s.seq
    ), tail as (
      select count(*)::int as n from audit_events
      where organization_id = ${org}::uuid
        and (not exists (select 1 from seals) or id > (select last_id from seals order by seq desc limit 1))
    ), audit as (
      ${auditFromCte("(select 1) as once", origin, {
        action: "audit.verified",
        organizationId: org,
        actorUserId: actor.userId,
        actorApiKeyId: actor.apiKeyId,
        targetType: "audit_seals",
        metadata: sql`jsonb_build_object('seals', (select count(*) from seals), 'unsealedRows', (select n from tail))`,
      })}
    )
    select coalesce((
      select jsonb_agg(jsonb_build_object(
        'seq', s.seq, 'first_id', s.first_id, 'last_id', s.last_id, 'row_count', s.row_count, 'rows_digest', s.rows_digest,
        'previous_hash', s.previous_hash, 'hash', s.hash, 'found_rows', r.found_rows, 'found_first_id', r.found_first_id,
        'found_digest', r.found_digest) order by s.seq)
      from seals s join recomputed r on r.seq = s.seq), '[]'::jsonb) as seals,
      (select n from tail) as unsealed`);
}
