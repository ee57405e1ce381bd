import { z } from "@hono/zod-openapi";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";

export const AuditEventSchema = z
  .object({
    id: uuid(),
    actorUserId: uuid().nullable(),
    actorApiKeyId: uuid().nullable(),
    action: text(200),
    targetType: text(200).nullable(),
    targetId: text(200).nullable(),
    patientIds: z.array(uuid()).max(10_000),
    ip: text(100).nullable(),
    userAgent: text(256).nullable(),
    requestId: text(200).nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: timestamp(),
  })
  .openapi("AuditEvent");

const AuditEventListSchema = z
  .object({ data: z.array(AuditEventSchema).max(100), nextCursor: text(512).nullable() })
  .openapi("AuditEventList");

/** A count: a non-negative integer. */
const count = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ type: "integer", format: "int64", minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const VerifyReportSchema = z
  .object({
    verified: z.boolean(),
    seals: count(),
    rows: count().openapi({ description: "Rows under the seals that hold, up to the first broken one" }),
    unsealedRows: count().openapi({ description: "Rows after the last seal (sealed within a minute or so)" }),
    firstBrokenSeal: z.object({ seq: count(), reason: text(200) }).nullable(),
  })
  .openapi("AuditVerifyReport");

/** An action (`note.read`) or, ending in a dot, an action prefix (`note.`). */
const ActionFilter = z
  .string()
  .min(2)
  .max(100)
  .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$/, "is an action (note.read) or a prefix ending in a dot (note.)")
  .openapi({ example: "note." });

const FilterQuery = z.object({
  actor: uuid().optional().openapi({ description: "The acting user's id" }),
  patient: uuid().optional().openapi({ description: "Events that read or wrote this patient's data" }),
  action: ActionFilter.optional(),
  from: timestamp().optional().openapi({ description: "Inclusive lower bound on createdAt" }),
  to: timestamp().optional().openapi({ description: "Exclusive upper bound on createdAt" }),
});

const ListQuery = FilterQuery.extend({ limit: LimitQuery, cursor: CursorQuery.optional() });

const tags: ["Audit"] = ["Audit"];

export const list = defineRoute({
  method: "get",
  path: "/audit-events",
  operationId: "listAuditEvents",
  tags,
  summary: "The organization's audit trail, newest first",
  description:
    "Filters by actor, patient, action (exact, or a prefix ending in a dot) and a createdAt range. Pages by cursor: pass nextCursor back until it is null. Reading the trail is itself audited (audit.listed).",
  permission: "audit:read",
  phi: true,
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of audit events", AuditEventListSchema) },
});

export const exportEvents = defineRoute({
  method: "get",
  path: "/audit-events/export",
  operationId: "exportAuditEvents",
  tags,
  summary: "The audit trail as NDJSON, oldest first, streamed",
  description:
    "The same filters as the list, for any range: one JSON object per line, streamed page by page (1,000 rows per database round trip), never held whole in memory. Rows written after the export starts are not in it. Audited once (audit.exported).",
  permission: "audit:read",
  phi: true,
  request: { query: FilterQuery },
  responses: {
    200: { description: "One AuditEvent (this schema) per line, newline-terminated", content: { "application/x-ndjson": { schema: AuditEventSchema } } },
  },
});

export const verify = defineRoute({
  method: "get",
  path: "/audit-events/verify",
  operationId: "verifyAuditTrail",
  tags,
  summary: "Recompute the organization's seal chain and report the first broken seal",
  description:
    "Each seal hashes the previous seal's hash and the rows it covers; verify recomputes every range's digest and the chain. A changed, deleted or forged row in a sealed range breaks its seal. Audited (audit.verified).",
  permission: "audit:read",
  phi: true,
  responses: { 200: jsonResponse("The chain's state", VerifyReportSchema) },
});
