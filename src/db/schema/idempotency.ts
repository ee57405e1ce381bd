import { index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per `Idempotency-Key` a caller sent to a create route, kept 24 hours. `status` is null
 * while the first request runs; then it and the sealed response are what a retry is answered with.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    /** Whose key it is: `user:<id>:<organizationId>`, `apikey:<id>` or `anon`. */
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** HMAC of method, path and raw body, keyed by a pepper: `<pepperId>:<hex>`. */
    requestHash: text("request_hash").notNull(),
    status: integer("status"),
    /** AES-256-GCM envelope (lib/envelope.ts) of the response: it may carry secrets. */
    response: text("response"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.scope, table.key] }), index("idempotency_keys_expires_idx").on(table.expiresAt)],
);
