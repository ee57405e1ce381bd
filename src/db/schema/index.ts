export * from "#src/db/schema/jobs.ts";
export * from "#src/db/schema/organizations.ts";
export * from "#src/db/schema/identity.ts";
export * from "#src/db/schema/idempotency.ts";
export * from "#src/db/schema/clinical.ts";
export * from "#src/db/schema/care.ts";
