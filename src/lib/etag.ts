import { z } from "@hono/zod-openapi";
import { ProblemError } from "#src/lib/errors.ts";

/**
 * Optimistic concurrency for PATCH of patients and notes: GET answers `ETag: "<version>"`, and a
 * PATCH must send it back in `If-Match`. The update runs `where version = <expected>`; when the
 * row exists but moved on, the answer is 412 and nothing changes, so two people editing at once
 * never silently overwrite each other. A PATCH without If-Match is a 428.
 */
export const IfMatchHeader = z.object({
  "If-Match": z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'The ETag from GET (e.g. `"3"`); required. A stale one answers 412, a missing one 428.', example: '"1"' }),
});

export const etagOf = (version: number): string => `"${version}"`;

export const PreconditionFailed = (detail = "The record changed since you read it: GET it again and reapply your change.") =>
  new ProblemError({ status: 412, slug: "precondition-failed", title: "Precondition failed", detail });

export const PreconditionRequired = () =>
  new ProblemError({
    status: 428,
    slug: "precondition-required",
    title: "Precondition required",
    detail: 'Send If-Match with the ETag from GET, so a concurrent edit is not overwritten (If-Match: "3").',
  });

/** The version an If-Match names: 428 when absent, 412 when it cannot be one of ours (or is `*`-less garbage). */
export function expectedVersion(ifMatch: string | undefined): number {
  if (ifMatch === undefined || ifMatch.trim() === "") throw PreconditionRequired();
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(ifMatch);
  if (!match?.[1]) throw PreconditionFailed("If-Match does not name a version of this record: send the ETag from GET unchanged.");
  return Number(match[1]);
}
