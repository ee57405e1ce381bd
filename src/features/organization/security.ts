/** What every protected identity route declares: a bearer token or an API key. */
export const SECURED: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

/** Problem statuses every protected route can answer, before its own. */
export const PROTECTED_PROBLEMS = [401, 403, 429, 500, 503] as const;
