import type { SendOutcome } from "#src/platform/providers.ts";

// What the provider clients share: their HTTP, and how an answer becomes a SendOutcome.

/** The HTTP the clients make: `globalThis.fetch` unless a test hands in its own. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export const globalFetch: Fetch = (url, init) => globalThis.fetch(url, init);

/** How long one provider call may take; past it the send counts as a network failure (retried). */
export const PROVIDER_TIMEOUT_MS = 10_000;

/** Retry-After never asks for more than this (the queue's delay limit is 12 hours). */
const MAX_RETRY_AFTER_SECONDS = 3600;

/** Retry-After in seconds: delta-seconds, or an HTTP date against the response's own Date. */
export function retryAfterOf(response: Response): number | undefined {
  const value = response.headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Math.min(MAX_RETRY_AFTER_SECONDS, Number(value));
  const at = Date.parse(value);
  const base = Date.parse(response.headers.get("date") ?? "");
  if (Number.isNaN(at) || Number.isNaN(base)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((at - base) / 1000)));
}

/** A non-2xx answer: permanent for a 4xx other than 408 and 429, retryable otherwise. */
export function failureOf(response: Response, error: string): SendOutcome & { ok: false } {
  const status = response.status;
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return { ok: false, permanent, retryAfterSeconds: retryAfterOf(response), error };
}

/** A call that never got an answer (timeout, DNS, reset): retryable. */
export function networkFailure(provider: string, error: unknown): SendOutcome & { ok: false } {
  return { ok: false, permanent: false, error: `${provider} network ${error instanceof Error ? error.name : "error"}` };
}

/** The answer's JSON, or an empty object when it has none. */
export async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  const body: unknown = await response.json().catch(() => ({}));
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
}

