import type { Config } from "#src/env.ts";

export interface ReportContext {
  config: Config;
  request: Request;
  requestId: string;
  waitUntil?: (promise: Promise<unknown>) => void;
}

type SentryEvent = { request?: { method?: string; url?: string } };

/** Drops what could hold PHI or credentials: bodies, headers, cookies, query strings. */
export function scrubRequest<T extends SentryEvent>(event: T): T {
  if (event.request) {
    const { method, url } = event.request;
    event.request = { method, url: url?.split("?")[0] };
  }
  return event;
}

/**
 * Sends an unexpected error to Sentry through toucan-js when `SENTRY_DSN` is set. Only the
 * error's class, message and stack go; the request is reduced to method and path. toucan-js (and
 * the Sentry SDK under it) loads with the first report, not at startup: most isolates never make one.
 */
export function reportError(error: unknown, context: ReportContext): void {
  const { config, request, requestId, waitUntil } = context;
  if (!config.SENTRY_DSN) return;
  const dsn = config.SENTRY_DSN;
  const sent = import("#src/lib/toucan.ts").then(({ Toucan }) => {
    const sentry = new Toucan({
      dsn,
      environment: config.ENVIRONMENT,
      release: config.RELEASE,
      request,
      context: waitUntil ? { waitUntil } : undefined,
      requestDataOptions: { allowedHeaders: false, allowedCookies: false, allowedSearchParams: false, allowedIps: false },
      sendDefaultPii: false,
      beforeSend: (event) => scrubRequest(event),
    });
    sentry.setTag("requestId", requestId);
    sentry.captureException(error);
  });
  // A report that cannot be made is dropped: the error was answered and logged already.
  const settled = sent.catch(() => undefined);
  if (waitUntil) waitUntil(settled);
}
