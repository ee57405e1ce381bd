import type { Config } from "#src/env.ts";
import type { Logger } from "#src/lib/logger.ts";

/**
 * The notification channels' provider clients: SMS and voice over Twilio, push over FCM HTTP v1.
 * (Email is the Mailer, src/platform/mailer.ts.) Each call reports how it went, so the sender
 * knows whether to retry: a 4xx is permanent, a 5xx, a 429 or a network error is not.
 */
export type SendOutcome =
  | { ok: true; providerMessageId?: string | undefined }
  | {
      ok: false;
      /** Retrying cannot help (a 4xx other than 429): the row is failed and the next channel tried. */
      permanent: boolean;
      /** The provider's Retry-After, when it gave one. */
      retryAfterSeconds?: number | undefined;
      /** For the row and the log: a status and a code, never the message text. */
      error: string;
      /** FCM says the token is no longer valid: the device is removed. */
      unregistered?: boolean | undefined;
    };

export interface SmsMessage {
  /** E.164. */
  to: string;
  body: string;
  /** The notification's id: sent where the provider honours one. */
  idempotencyKey: string;
}

export interface PushMessage {
  token: string;
  title: string;
  body: string;
  data: Record<string, string>;
  idempotencyKey: string;
}

export interface VoiceCall {
  to: string;
  /** TwiML the call plays. */
  twiml: string;
  idempotencyKey: string;
}

export interface Sms {
  send(message: SmsMessage): Promise<SendOutcome>;
}
export interface Push {
  send(message: PushMessage): Promise<SendOutcome>;
}
export interface Voice {
  call(call: VoiceCall): Promise<SendOutcome>;
}

export interface Providers {
  sms: Sms;
  push: Push;
  voice: Voice;
}

/** Development fallback: logs that a message would go out (never its text or address). */
function logged(logger: Logger, channel: string) {
  return async (message: { idempotencyKey: string }): Promise<SendOutcome> => {
    logger.log("info", `${channel} (not sent: provider not configured)`, { notification: message.idempotencyKey });
    return { ok: true, providerMessageId: `dev-${message.idempotencyKey}` };
  };
}

export function createProviders(_config: Config, logger: Logger): Providers {
  return { sms: { send: logged(logger, "sms") }, push: { send: logged(logger, "push") }, voice: { call: logged(logger, "voice") } };
}
