import { failureOf, type Fetch, jsonOf, networkFailure, PROVIDER_TIMEOUT_MS } from "#src/platform/provider-http.ts";
import type { SendOutcome, Sms, Voice } from "#src/platform/providers.ts";

/**
 * Twilio's REST API: the Messages resource for SMS, the Calls resource for voice calls with inline
 * TwiML (https://www.twilio.com/docs/messaging/api/message-resource,
 * https://www.twilio.com/docs/voice/api/call-resource). Form-encoded, basic auth with the
 * account SID and auth token. Twilio takes no idempotency key on these: the outbox's claim is
 * what keeps a message from going twice.
 */
export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  /** The Twilio number (E.164) messages and calls come from. */
  from: string;
}

export const TWILIO_API = "https://api.twilio.com/2010-04-01";

async function create(account: TwilioAccount, fetch: Fetch, resource: "Messages" | "Calls", form: Record<string, string>): Promise<SendOutcome> {
  const label = resource === "Messages" ? "twilio sms" : "twilio voice";
  let response: Response;
  try {
    response = await fetch(`${TWILIO_API}/Accounts/${encodeURIComponent(account.accountSid)}/${resource}.json`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa(`${account.accountSid}:${account.authToken}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    });
  } catch (error) {
    return networkFailure(label, error);
  }
  const body = await jsonOf(response);
  if (response.ok) return { ok: true, providerMessageId: typeof body.sid === "string" ? body.sid : undefined };
  // Twilio's error code (e.g. 21211 invalid 'To', 20429 too many requests) names the cause; its message may echo the number.
  const code = typeof body.code === "number" ? ` ${body.code}` : "";
  return failureOf(response, `${label} ${response.status}${code}`);
}

export function twilioSms(account: TwilioAccount, fetch: Fetch): Sms {
  return { send: (message) => create(account, fetch, "Messages", { To: message.to, From: account.from, Body: message.body }) };
}

export function twilioVoice(account: TwilioAccount, fetch: Fetch): Voice {
  return { call: (call) => create(account, fetch, "Calls", { To: call.to, From: account.from, Twiml: call.twiml }) };
}
