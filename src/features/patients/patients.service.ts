import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { firstRow, rowsOf } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import { type ParsedPhone, e164Sql, parsePhone } from "#src/features/patients/patients.phone.ts";
import {
  ArchiveOutcome,
  archivePatient,
  findPatient,
  insertPatient,
  ListedRow,
  type ListOrder,
  listPatients,
  type PatientValues,
  UpdateOutcome,
  updatePatient,
  WriteOutcome,
} from "#src/features/patients/patients.repo.ts";
import type { PatientCreate, PatientListInput, PatientPatch } from "#src/features/patients/patients.schemas.ts";
import { PatientRow, type PatientRowValue } from "#src/features/patients/patients.sql.ts";
import { decodeCursor, pageOf } from "#src/lib/cursor.ts";
import type { Deps } from "#src/lib/deps.ts";
import { etagOf, expectedVersion, PreconditionFailed } from "#src/lib/etag.ts";
import { Conflict, NotFound, ValidationFailed } from "#src/lib/errors.ts";
import { domainEvent, publishEvents } from "#src/lib/events.ts";
import { invalidateClinicianList } from "#src/features/clinicians/clinicians.cache.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

/** Another tenant's patient, one outside the caller's reach and a missing one answer the same. */
export const notFoundPatient = () => NotFound("No such patient.");

export type PatientDeps = Pick<Deps, "db" | "origin" | "clock" | "jobs" | "defer" | "logger" | "cache" | "writes">;

export interface PatientView {
  id: string;
  name: string;
  preferredName: string | null;
  dateOfBirth: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  status: PatientRowValue["status"];
  timezone: string;
  language: string;
  preferredVoice: PatientRowValue["preferred_voice"];
  communicationStyle: PatientRowValue["communication_style"];
  profilePhotoUrl: string | null;
  userId: string | null;
  inactivityThresholdMinutes: number | null;
  appVersion: string | null;
  lastHeartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const viewOf = (row: PatientRowValue): PatientView => ({
  id: row.id,
  name: row.name,
  preferredName: row.preferred_name,
  dateOfBirth: row.date_of_birth,
  email: row.email,
  phone: row.phone,
  address: row.address,
  status: row.status,
  timezone: row.timezone,
  language: row.language,
  preferredVoice: row.preferred_voice,
  communicationStyle: row.communication_style,
  profilePhotoUrl: row.profile_photo_url,
  userId: row.user_id,
  inactivityThresholdMinutes: row.inactivity_threshold_minutes,
  appVersion: row.app_version,
  lastHeartbeatAt: row.last_heartbeat_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

/** A patient with the ETag a later PATCH must send back. */
export interface PatientWithTag {
  patient: PatientView;
  etag: string;
}

const tagged = (row: PatientRowValue): PatientWithTag => ({ patient: viewOf(row), etag: etagOf(row.version) });

const RankCursor = z.object({ s: z.literal("rank"), r: z.number().min(0).max(1), id: z.uuid() }).strict();
/**
 * A sort key rides in the cursor when it is short; a long one (a 200-character name in a
 * non-Latin script) would outgrow CURSOR_MAX_LENGTH, so the cursor names the row alone and the
 * query reads that row's key (patients are archived, never deleted).
 */
const KEY_IN_CURSOR_MAX_BYTES = 200;
const keyCursor = (sort: string) => z.object({ s: z.literal(sort), k: z.string().max(KEY_IN_CURSOR_MAX_BYTES).optional(), id: z.uuid() }).strict();
const cursorKey = (key: string | null): { k: string } | Record<string, never> =>
  key !== null && new TextEncoder().encode(key).length <= KEY_IN_CURSOR_MAX_BYTES ? { k: key } : {};

/** A query that is a phone number in some notation (digits and separators, at least 6 digits). */
function phoneQuery(q: string): ParsedPhone | undefined {
  if (!/^[+\d\s().\-/]+$/.test(q) || q.replace(/\D/g, "").length < 6) return undefined;
  return parsePhone(q);
}

/**
 * GET /patients: a keyset page of the patients the caller reaches. With `q`, a name search
 * (folded, trigram-ranked) or a phone lookup (normalised to E.164), ordered by rank then id;
 * otherwise by the sort key then id. The cursor names the ordering it came from, so a cursor
 * from another ordering is a 422 like a tampered one.
 */
export async function listPatientsFor(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, input: PatientListInput) {
  const scope = scoped(deps.db, auth.organizationId);
  const sortName = `${input.sort}:${input.order}`;
  let order: ListOrder;
  if (input.q !== undefined) {
    const phone = phoneQuery(input.q);
    const after = decodeCursor(input.cursor, RankCursor);
    order = { kind: "rank", search: phone ? { kind: "phone", phone } : { kind: "name", q: input.q }, ...(after ? { after: { r: after.r, id: after.id } } : {}) };
  } else {
    const after = decodeCursor(input.cursor, keyCursor(sortName));
    order = { kind: "key", sort: input.sort, order: input.order, ...(after ? { after: { ...(after.k === undefined ? {} : { k: after.k }), id: after.id } } : {}) };
  }
  const { statement, threshold } = listPatients(scope, deps.origin, auth, { status: input.status, clinicianId: input.clinicianId, limit: input.limit, order });
  const result = order.kind === "rank" && order.search.kind === "name" ? (await scope.db.batch([threshold, statement]))[1] : await statement;
  const rows = rowsOf(ListedRow, result);
  return pageOf(rows, input.limit, viewOf, (row) => (order.kind === "rank" ? { s: "rank", r: row.rank ?? 0, id: row.id } : { s: sortName, ...cursorKey(row.sort_key), id: row.id }));
}

export async function getPatient(deps: Pick<Deps, "db" | "origin">, auth: AuthContext, id: string): Promise<PatientWithTag> {
  const row = firstRow(PatientRow, await findPatient(scoped(deps.db, auth.organizationId), deps.origin, auth, id));
  if (!row) throw notFoundPatient();
  return tagged(row);
}

/** Snake-case columns of the writable fields, with the cast each value needs in `insert … select`. */
const COLUMNS: Record<keyof PatientPatch, { column: string; cast: string }> = {
  name: { column: "name", cast: "text" },
  preferredName: { column: "preferred_name", cast: "text" },
  dateOfBirth: { column: "date_of_birth", cast: "date" },
  email: { column: "email", cast: "text" },
  phone: { column: "phone", cast: "text" },
  address: { column: "address", cast: "text" },
  status: { column: "status", cast: "text" },
  timezone: { column: "timezone", cast: "text" },
  language: { column: "language", cast: "text" },
  preferredVoice: { column: "preferred_voice", cast: "text" },
  communicationStyle: { column: "communication_style", cast: "text" },
  profilePhotoUrl: { column: "profile_photo_url", cast: "text" },
  userId: { column: "user_id", cast: "uuid" },
  inactivityThresholdMinutes: { column: "inactivity_threshold_minutes", cast: "integer" },
};

/**
 * What the schemas cannot check alone: a birth date not after today, the phone as E.164 (a
 * national number takes the organization's calling code, in SQL), the language tag canonical.
 */
function valuesOf(deps: Pick<Deps, "clock">, org: string, body: PatientPatch): PatientValues {
  const today = deps.clock.now().toISOString().slice(0, 10);
  if (body.dateOfBirth && body.dateOfBirth > today) throw ValidationFailed([{ path: "body.dateOfBirth", message: "must not be in the future" }]);
  const values: PatientValues = {};
  for (const [field, value] of Object.entries(body) as [keyof PatientPatch, PatientPatch[keyof PatientPatch]][]) {
    if (value === undefined) continue;
    const { column, cast } = COLUMNS[field];
    values[column] = valueSql(field, value, org, cast);
  }
  return values;
}

function valueSql(field: keyof PatientPatch, value: string | number | null, org: string, cast: string): SQL {
  if (value === null) return sql`null::${sql.raw(cast)}`;
  if (field === "phone") {
    const phone = parsePhone(String(value));
    if (!phone) throw ValidationFailed([{ path: "body.phone", message: "is not a phone number: use digits with an optional leading + or 00 (e.g. +1 555 123 4567)" }]);
    return e164Sql(phone, org);
  }
  if (field === "language") return sql`${Intl.getCanonicalLocales(String(value))[0] ?? String(value)}::text`;
  return sql`${value}::${sql.raw(cast)}`;
}

function linkProblem(outcome: { linked_role: string | null; linked_taken: boolean | null }): Error {
  if (outcome.linked_role === null) return ValidationFailed([{ path: "body.userId", message: "is not a member of this organization" }]);
  if (outcome.linked_role !== "patient") return ValidationFailed([{ path: "body.userId", message: "must be a member with the patient role" }]);
  return Conflict("This member is already linked to another patient record.");
}

/**
 * POST /patients: the record, a creating clinician on its care team as primary, the
 * `patient.created` event and the audit row, in one statement; the event is enqueued after commit.
 */
export async function createPatient(deps: PatientDeps, auth: AuthContext, body: PatientCreate): Promise<PatientWithTag> {
  const org = auth.organizationId;
  const id = uuidv7();
  const event = domainEvent(org, "patient.created", { type: "patient", id });
  const defaults: PatientPatch = { status: "active", timezone: "UTC", language: "en", preferredVoice: "neutral", communicationStyle: "friendly" };
  const values = valuesOf(deps, org, { ...defaults, ...body });
  const joinsCareTeam = auth.kind === "user" && auth.role === "clinician" && auth.userId !== null;
  const result = await insertPatient(scoped(deps.db, org), deps.origin, auth, { id, eventId: event.id, values, userId: body.userId, joinsCareTeam });
  const outcome = firstRow(WriteOutcome, result);
  if (!outcome?.patient) throw outcome ? linkProblem(outcome) : notFoundPatient();
  publishEvents(deps, org, [event.id]);
  // The clinicians list counts each clinician's patients: a creator joins the care team.
  if (joinsCareTeam) await invalidateClinicianList(deps, org);
  return tagged(outcome.patient);
}

/** PATCH /patients/{id} at the version If-Match names: 428 without it, 412 when stale. */
export async function patchPatient(deps: PatientDeps, auth: AuthContext, id: string, ifMatch: string | undefined, body: PatientPatch): Promise<PatientWithTag> {
  const org = auth.organizationId;
  const expected = expectedVersion(ifMatch);
  const values = valuesOf(deps, org, body);
  const event = domainEvent(org, "patient.updated", { type: "patient", id });
  const fields = Object.keys(body).sort();
  const result = await updatePatient(scoped(deps.db, org), deps.origin, auth, { id, eventId: event.id, expected, values, userId: body.userId, fields });
  const outcome = firstRow(UpdateOutcome, result);
  if (!outcome?.found) throw notFoundPatient();
  if (!outcome.patient) {
    if (body.userId && (outcome.linked_role !== "patient" || outcome.linked_taken)) throw linkProblem(outcome);
    throw PreconditionFailed();
  }
  publishEvents(deps, org, [event.id]);
  // The clinicians list counts patients not discharged.
  if (body.status !== undefined) await invalidateClinicianList(deps, org);
  return tagged(outcome.patient);
}

/** DELETE /patients/{id}: archived (discharged), never deleted; archiving twice changes nothing. */
export async function archivePatientRecord(deps: PatientDeps, auth: AuthContext, id: string): Promise<void> {
  const org = auth.organizationId;
  const event = domainEvent(org, "patient.updated", { type: "patient", id });
  const outcome = firstRow(ArchiveOutcome, await archivePatient(scoped(deps.db, org), deps.origin, auth, { id, eventId: event.id }));
  if (!outcome?.found) throw notFoundPatient();
  if (!outcome.archived) return;
  publishEvents(deps, org, [event.id]);
  await invalidateClinicianList(deps, org);
}
