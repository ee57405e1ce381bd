import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped, systemScope } from "#src/db/scope.ts";
import {
  type AuditActor,
  AuditEventRow,
  type AuditFilters,
  exportPage,
  GENESIS_HASH,
  listAuditRows,
  SealOutcome,
  sealPending,
  uuidFloor,
  VerifyOutcome,
  verifyRows,
} from "#src/features/audit/audit.repo.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { ValidationFailed } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";

export interface AuditCaller extends AuditActor {
  organizationId: string;
}

/** An audit event on the wire. */
export function auditEventView(row: AuditEventRow) {
  return {
    id: row.id,
    actorUserId: row.actor_user_id,
    actorApiKeyId: row.actor_api_key_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    patientIds: row.patient_ids,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

function checkRange(filters: AuditFilters): void {
  if (filters.from && filters.to && Date.parse(filters.from) >= Date.parse(filters.to)) {
    throw ValidationFailed([{ path: "query.to", message: "must be after from" }]);
  }
}

const Position = z.object({ id: z.uuid() });

/** A page of the trail, newest first, and the `audit.listed` row for it: one round trip. */
export async function listAuditEvents(deps: Pick<Deps, "db" | "origin">, caller: AuditCaller, query: AuditFilters & { limit: number; cursor?: string | undefined }) {
  checkRange(query);
  const before = decodeCursor(query.cursor, Position)?.id;
  const { cursor: _cursor, limit, ...filters } = query;
  const scope = scoped(deps.db, caller.organizationId);
  const result = await listAuditRows(scope, deps.origin, caller, { filters, before, limit });
  return pageOf(rowsOf(AuditEventRow, result), limit, auditEventView, (row) => ({ id: row.id }));
}

/** Rows per export round trip: one page in memory at a time. */
export const EXPORT_PAGE_SIZE = 1000;

const encoder = new TextEncoder();
const ndjson = (rows: AuditEventRow[]) => encoder.encode(rows.map((row) => `${JSON.stringify(auditEventView(row))}\n`).join(""));

/**
 * The trail as NDJSON, oldest first, for any range: keyset pages of EXPORT_PAGE_SIZE rows, each
 * fetched only when the reader has taken the previous one (a pull stream), so memory holds one
 * page whatever the range. The first page, fetched before the response starts (a failure is
 * still a problem answer), carries the one `audit.exported` row. Rows written after the export
 * began stay out of it.
 */
export async function exportAuditEvents(deps: Pick<Deps, "db" | "origin" | "logger">, caller: AuditCaller, filters: AuditFilters): Promise<ReadableStream<Uint8Array>> {
  checkRange(filters);
  const scope = scoped(deps.db, caller.organizationId);
  const ceiling = uuidv7();
  const fetchPage = async (after?: string, audited = false) =>
    rowsOf(
      AuditEventRow,
      await exportPage(scope, { filters, after, ceiling, size: EXPORT_PAGE_SIZE, ...(audited ? { audit: { origin: deps.origin, actor: caller } } : {}) }),
    );
  let page = await fetchPage(undefined, true);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (page.length > 0) controller.enqueue(ndjson(page));
        const last = page.at(-1);
        if (page.length < EXPORT_PAGE_SIZE || !last) return controller.close();
        page = await fetchPage(last.id);
        if (page.length === 0) controller.close();
      } catch (error) {
        deps.logger.log("error", "audit.export_failed", { error: error instanceof Error ? error.name : "unknown" });
        controller.error(error);
      }
    },
  });
}

/** How long a row must wait before it is sealed: longer than any transaction that writes one. */
export const SEAL_DELAY_MS = 30_000;

/**
 * The sealing job's work: every organization's unsealed rows older than SEAL_DELAY_MS get their
 * next seal, in one set-based statement under the audited system scope. An id is minted before
 * its row commits; waiting keeps a late commit with an older id from landing in a sealed range.
 */
export async function sealAuditTrails(deps: Pick<Deps, "db" | "clock">): Promise<{ seals: number; rows: number }> {
  const db = systemScope(deps.db, "audit.seal");
  const cutoff = uuidFloor(deps.clock.now().getTime() - SEAL_DELAY_MS);
  return firstRow(SealOutcome, await sealPending(db, cutoff)) ?? { seals: 0, rows: 0 };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The hash a seal must carry: the same text sealPending hashes in SQL. */
export function sealHash(seal: { previousHash: string; seq: number; firstId: string; lastId: string; rowCount: number; rowsDigest: string }): Promise<string> {
  return sha256Hex([seal.previousHash, seal.seq, seal.firstId, seal.lastId, seal.rowCount, seal.rowsDigest].join("|"));
}

export interface VerifyReport {
  verified: boolean;
  seals: number;
  rows: number;
  unsealedRows: number;
  firstBrokenSeal: { seq: number; reason: string } | null;
}

type CheckedSeal = z.infer<typeof VerifyOutcome>["seals"][number];

/** Why this seal does not hold, or null when it does. */
async function brokenBecause(seal: CheckedSeal, expectedSeq: number, previousHash: string): Promise<string | null> {
  if (seal.seq !== expectedSeq) return `seal ${expectedSeq} is missing`;
  if (seal.previous_hash !== previousHash) return "previous_hash does not match the previous seal's hash";
  const hash = await sealHash({ previousHash, seq: seal.seq, firstId: seal.first_id, lastId: seal.last_id, rowCount: seal.row_count, rowsDigest: seal.rows_digest });
  if (hash !== seal.hash) return "the seal's hash does not match its contents";
  if (seal.found_rows !== seal.row_count) return `the range holds ${seal.found_rows} rows, the seal counted ${seal.row_count}`;
  if (seal.found_first_id !== seal.first_id) return "the range's first row is not the one sealed";
  if (seal.found_digest !== seal.rows_digest) return "the rows' digest does not match: a sealed row was changed";
  return null;
}

/**
 * Recomputes the organization's chain: one round trip (every range's digest in one grouped
 * query, and the `audit.verified` row), then the hash chain in JS, reporting the first seal that
 * does not hold.
 */
export async function verifyAuditTrail(deps: Pick<Deps, "db" | "origin">, caller: AuditCaller): Promise<VerifyReport> {
  const scope = scoped(deps.db, caller.organizationId);
  const outcome = firstRow(VerifyOutcome, await verifyRows(scope, deps.origin, caller)) ?? { seals: [], unsealed: 0 };
  let previousHash = GENESIS_HASH;
  let rows = 0;
  for (const [index, seal] of outcome.seals.entries()) {
    const reason = await brokenBecause(seal, index + 1, previousHash);
    if (reason) return { verified: false, seals: outcome.seals.length, rows, unsealedRows: outcome.unsealed, firstBrokenSeal: { seq: index + 1, reason } };
    rows += seal.row_count;
    previousHash = seal.hash;
  }
  return { verified: true, seals: outcome.seals.length, rows, unsealedRows: outcome.unsealed, firstBrokenSeal: null };
}
