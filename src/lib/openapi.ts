import type { z } from "@hono/zod-openapi";

/** Building blocks every route declaration shares, so the OpenAPI document stays uniform. */

/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/** A JSON response. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

/** Routes an integration may call: a member's bearer token or an API key. */
export const MEMBER_OR_API_KEY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

/** Routes about a person (their profile, MFA, sessions, key management): bearer tokens only. */
export const MEMBER_ONLY: Record<string, string[]>[] = [{ bearer: [] }];

/** Problem statuses every protected route can answer, before its own. */
export const PROTECTED_PROBLEMS = [401, 403, 429, 500, 503] as const;
