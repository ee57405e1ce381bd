import type { Config } from "#src/env.ts";
import type { Logger } from "#src/lib/logger.ts";
import { fcmPush } from "#src/platform/fcm.ts";
import { type Fetch, globalFetch } from "#src/platform/provider-http.ts";
import { resendEmail } from "#src/platform/mailer.ts";
import { twilioSms, twilioVoice } from "#src/platform/twilio.ts";

/**
 * The notification channels' provider clients: SMS and voice over Twilio, push over FCM HTTP v1,
 * the outbox's email over Resend. Each call reports how it went, so the sender knows whether to
 * retry: a 4xx is permanent, a 5xx, a 429 or a network error is not.
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

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  /** Resend's Idempotency-Key: a re-send with it within 24 hours is not delivered again. */
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
export interface Email {
  send(message: EmailMessage): Promise<SendOutcome>;
}

export interface Providers {
  sms: Sms;
  push: Push;
  voice: Voice;
  email: Email;
}

/** Development fallback: logs that a message would go out (never its text or address). */
function logged(logger: Logger, channel: string) {
  return async (message: { idempotencyKey: string }): Promise<SendOutcome> => {
    logger.log("info", `${channel} (not sent: provider not configured)`, { notification: message.idempotencyKey });
    return { ok: true, providerMessageId: `dev-${message.idempotencyKey}` };
  };
}

export interface ProviderOptions {
  fetch?: Fetch;
  /** For the FCM access token's expiry. */
  now?: () => number;
}

/** The configured clients; each unconfigured one logs instead (refused in production by env.ts). */
export function createProviders(config: Config, logger: Logger, options: ProviderOptions = {}): Providers {
  const fetch = options.fetch ?? globalFetch;
  const sid = config.TWILIO_ACCOUNT_SID;
  const token = config.TWILIO_AUTH_TOKEN;
  const from = config.TWILIO_FROM_NUMBER;
  const twilio = sid && token && from ? { accountSid: sid, authToken: token, from } : undefined;
  const account = config.FCM_SERVICE_ACCOUNT_JSON;
  const fcm = config.FCM_PROJECT_ID && account ? { projectId: config.FCM_PROJECT_ID, account } : undefined;
  return {
    sms: twilio ? twilioSms(twilio, fetch) : { send: logged(logger, "sms") },
    voice: twilio ? twilioVoice(twilio, fetch) : { call: logged(logger, "voice") },
    push: fcm ? fcmPush(fcm, fetch, options.now ?? Date.now) : { send: logged(logger, "push") },
    email: config.RESEND_API_KEY ? { send: resendEmail(config.RESEND_API_KEY, config.MAIL_FROM, fetch) } : { send: logged(logger, "email") },
  };
}
