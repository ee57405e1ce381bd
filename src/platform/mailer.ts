import type { Config } from "#src/env.ts";
import type { Logger } from "#src/lib/logger.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** Kind of mail, for logs: never the address or the body. */
  template: string;
}

/** Transactional email. Sending never throws: a failure is logged and reported false. */
export interface Mailer {
  send(message: MailMessage): Promise<boolean>;
}

export const RESEND_ENDPOINT = "https://api.resend.com/emails";

/** Resend's HTTP API (https://resend.com/docs/api-reference/emails/send-email). */
export function resendMailer(apiKey: string, from: string, logger: Logger): Mailer {
  return {
    async send(message) {
      try {
        const response = await fetch(RESEND_ENDPOINT, {
          method: "POST",
          headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
          body: JSON.stringify({ from, to: [message.to], subject: message.subject, text: message.text }),
          signal: AbortSignal.timeout(5000),
        });
        if (!response.ok) logger.log("error", "mail rejected", { template: message.template, status: response.status });
        return response.ok;
      } catch (error) {
        logger.log("error", "mail not sent", { template: message.template, error: error instanceof Error ? error.name : "unknown" });
        return false;
      }
    },
  };
}

/**
 * Development fallback when no provider is configured: logs the mail (links included) so the
 * flows work locally. Refused in production by the configuration schema.
 */
export function logMailer(logger: Logger): Mailer {
  return {
    async send(message) {
      logger.log("info", "mail (not sent: no RESEND_API_KEY)", { template: message.template, to: message.to, text: message.text });
      return true;
    },
  };
}

export function createMailer(config: Config, logger: Logger): Mailer {
  return config.RESEND_API_KEY ? resendMailer(config.RESEND_API_KEY, config.MAIL_FROM, logger) : logMailer(logger);
}
