import { importPKCS8, SignJWT } from "jose";
import { failureOf, type Fetch, jsonOf, networkFailure, PROVIDER_TIMEOUT_MS } from "#src/platform/provider-http.ts";
import type { Push, SendOutcome } from "#src/platform/providers.ts";

/**
 * Firebase Cloud Messaging, HTTP v1 (https://firebase.google.com/docs/cloud-messaging/send/v1-api).
 * Authenticated by an OAuth 2.0 access token obtained with a service-account JWT (the JWT bearer
 * grant, RS256, signed with jose), cached until a minute before it expires. A token FCM answers
 * UNREGISTERED (404) is reported `unregistered`, and the sender removes the device.
 */
export interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string | undefined;
}

export interface FcmConfig {
  projectId: string;
  account: ServiceAccount;
}

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
export const fcmSendUrl = (projectId: string) => `https://fcm.googleapis.com/v1/projects/${encodeURIComponent(projectId)}/messages:send`;

/** A cached token is renewed this long before Google says it expires. */
const TOKEN_MARGIN_MS = 60_000;

class TokenFailure extends Error {
  readonly outcome: SendOutcome & { ok: false };
  constructor(outcome: SendOutcome & { ok: false }) {
    super(outcome.error);
    this.outcome = outcome;
    this.name = "TokenFailure";
  }
}

function accessTokens(config: FcmConfig, fetch: Fetch, now: () => number) {
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const issuedAt = Math.floor(now() / 1000);
    const header = { alg: "RS256", typ: "JWT", ...(config.account.private_key_id ? { kid: config.account.private_key_id } : {}) };
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader(header)
      .setIssuer(config.account.client_email)
      .setAudience(GOOGLE_TOKEN_URL)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(await importPKCS8(config.account.private_key, "RS256"));
    let response: Response;
    try {
      response = await fetch(GOOGLE_TOKEN_URL, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      });
    } catch (error) {
      throw new TokenFailure(networkFailure("fcm oauth", error));
    }
    const body = await jsonOf(response);
    if (!response.ok || typeof body.access_token !== "string") {
      const error = typeof body.error === "string" ? ` ${body.error.slice(0, 40)}` : "";
      throw new TokenFailure(response.ok ? { ok: false, permanent: false, error: "fcm oauth no token" } : failureOf(response, `fcm oauth ${response.status}${error}`));
    }
    const lifetime = typeof body.expires_in === "number" ? body.expires_in : 3600;
    cached = { token: body.access_token, expiresAt: now() + lifetime * 1000 - TOKEN_MARGIN_MS };
    return body.access_token;
  }

  return {
    async get(): Promise<string> {
      if (cached && now() < cached.expiresAt) return cached.token;
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    forget(): void {
      cached = undefined;
    },
  };
}

interface FcmError {
  status?: string;
  details?: { errorCode?: string }[];
}

/** FCM's error: its status (NOT_FOUND, INVALID_ARGUMENT…) and the FcmError detail's errorCode (UNREGISTERED…). */
function fcmErrorOf(body: Record<string, unknown>): { status: string; errorCode: string } {
  const error = (typeof body.error === "object" && body.error !== null ? body.error : {}) as FcmError;
  const errorCode = Array.isArray(error.details) ? (error.details.find((detail) => typeof detail?.errorCode === "string")?.errorCode ?? "") : "";
  return { status: typeof error.status === "string" ? error.status : "", errorCode };
}

export function fcmPush(config: FcmConfig, fetch: Fetch, now: () => number): Push {
  const tokens = accessTokens(config, fetch, now);
  return {
    async send(message) {
      let accessToken: string;
      try {
        accessToken = await tokens.get();
      } catch (error) {
        if (error instanceof TokenFailure) return error.outcome;
        return { ok: false, permanent: true, error: "fcm credentials unusable" };
      }
      let response: Response;
      try {
        response = await fetch(fcmSendUrl(config.projectId), {
          method: "POST",
          headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
          body: JSON.stringify({ message: { token: message.token, notification: { title: message.title, body: message.body }, data: message.data } }),
          signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
        });
      } catch (error) {
        return networkFailure("fcm", error);
      }
      const body = await jsonOf(response);
      if (response.ok) return { ok: true, providerMessageId: typeof body.name === "string" ? body.name : undefined };
      const { status, errorCode } = fcmErrorOf(body);
      const error = `fcm ${response.status} ${errorCode || status}`.trim();
      if (response.status === 404 || errorCode === "UNREGISTERED") return { ok: false, permanent: true, unregistered: true, error };
      // An access token Google no longer takes: fetch a new one on the retry.
      if (response.status === 401) {
        tokens.forget();
        return { ok: false, permanent: false, retryAfterSeconds: undefined, error };
      }
      return failureOf(response, error);
    },
  };
}
