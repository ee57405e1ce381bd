import type { Config } from "#src/env.ts";
import type { Logger } from "#src/lib/logger.ts";
import { failureOf, type Fetch, globalFetch, jsonOf, networkFailure } from "#src/platform/provider-http.ts";
import type { SendOutcome } from "#src/platform/providers.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** Kind of mail, for logs: never the address or the body. */
  template: string;
  /**
   * The API call the mailed link's page makes (e.g. POST /api/v1/auth/signup/confirm with the
   * token). Never sent: the development mailer prints it as a ready curl command.
   */
  api?: { path: string; body: Record<string, string> };
}

/** A link in a mail: a page of the app at APP_URL, with the token in the query when there is one. */
export function mailLink(config: Pick<Config, "APP_URL">, page: string, token?: string): string {
  const url = new URL(page, config.APP_URL);
  if (token !== undefined) url.searchParams.set("token", token);
  return url.toString();
}

/** The mail's API call as a shell command, single-quoted so the token needs no escaping. */
export function curlFor(config: Pick<Config, "APP_URL">, api: NonNullable<MailMessage["api"]>): string {
  const url = new URL(api.path, config.APP_URL).toString();
  return `curl -sS -X POST '${url}' -H 'Content-Type: application/json' -d '${JSON.stringify(api.body)}'`;
}

/** Transactional email. Sending never throws: a failure is logged and reported false. */
export interface Mailer {
  send(message: MailMessage): Promise<boolean>;
}

export const RESEND_ENDPOINT = "https://api.resend.com/emails";

/**
 * One send over Resend's HTTP API (https://resend.com/docs/api-reference/emails/send-email), with
 * its outcome: a 4xx is permanent but 429 and a concurrent-idempotent-request 409, which are
 * retried (Retry-After honoured). With an idempotency key (the outbox's notification id), a
 * re-send within 24 hours is answered without mailing again.
 */
export function resendEmail(apiKey: string, from: string, fetch: Fetch = globalFetch) {
  return async (message: { to: string; subject: string; text: string; idempotencyKey?: string | undefined }): Promise<SendOutcome> => {
    const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" };
    if (message.idempotencyKey) headers["Idempotency-Key"] = message.idempotencyKey;
    let response: Response;
    try {
      response = await fetch(RESEND_ENDPOINT, {
        method: "POST",
        headers,
        body: JSON.stringify({ from, to: [message.to], subject: message.subject, text: message.text }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      return networkFailure("resend", error);
    }
    const body = await jsonOf(response);
    if (response.ok) return { ok: true, providerMessageId: typeof body.id === "string" ? body.id : undefined };
    const name = typeof body.name === "string" ? body.name.slice(0, 60) : "";
    const failure = failureOf(response, `resend ${response.status} ${name}`.trim());
    return name === "concurrent_idempotent_requests" ? { ...failure, permanent: false } : failure;
  };
}

/** Resend's HTTP API for transactional mail: the outcome reduced to sent or not, and logged. */
export function resendMailer(apiKey: string, from: string, logger: Logger, fetch: Fetch = globalFetch): Mailer {
  const send = resendEmail(apiKey, from, fetch);
  return {
    async send(message) {
      const outcome = await send(message);
      if (!outcome.ok) logger.log("error", "mail not sent", { template: message.template, error: outcome.error });
      return outcome.ok;
    },
  };
}

/**
 * Development fallback when no provider is configured: logs the mail (links included) so the
 * flows work locally, and prints the link's API call as a curl command to paste. Refused in
 * production by the configuration schema.
 */
export function logMailer(logger: Logger, config: Pick<Config, "APP_URL">): Mailer {
  return {
    async send(message) {
      const curl = message.api ? curlFor(config, message.api) : undefined;
      logger.log("info", "mail (not sent: no RESEND_API_KEY)", { template: message.template, to: message.to, text: message.text, curl });
      if (curl) console.log(`\n  ${message.subject}. To follow the link from a shell:\n  ${curl}\n`);
      return true;
    },
  };
}

export function createMailer(config: Config, logger: Logger): Mailer {
  return config.RESEND_API_KEY ? resendMailer(config.RESEND_API_KEY, config.MAIL_FROM, logger) : logMailer(logger, config);
}
