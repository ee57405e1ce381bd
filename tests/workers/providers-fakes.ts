import { env } from "cloudflare:test";
import { type Config, parseConfig } from "#src/env.ts";
import { createLogger } from "#src/lib/logger.ts";
import { createProviders, type Providers } from "#src/platform/providers.ts";

/** A request as a provider client sent it. */
export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

export type Responder = (request: Recorded, index: number) => Response | Promise<Response>;

/** An intercepting fetch: records every request, answers with `respond` (per URL), never the network. */
export function fakeFetch(respond: Responder) {
  const requests: Recorded[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const request = { url, method: init.method ?? "GET", headers, body: typeof init.body === "string" ? init.body : "" };
    requests.push(request);
    return respond(request, requests.length - 1);
  };
  return { fetch, requests };
}

export const TWILIO = { TWILIO_ACCOUNT_SID: `AC${"0123456789abcdef".repeat(2)}`, TWILIO_AUTH_TOKEN: "twilio-auth-token-0123", TWILIO_FROM_NUMBER: "+15005550006" };

/** A fresh RSA service account (PKCS#8 PEM) and its public key, to check the signed assertion. */
export async function serviceAccount() {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const base64 = btoa(String.fromCharCode(...pkcs8)).replace(/(.{64})/g, "$1\n");
  const privateKey = `-----BEGIN PRIVATE KEY-----\n${base64}\n-----END PRIVATE KEY-----\n`;
  return { account: { client_email: "fcm@tend-test.iam.gserviceaccount.com", private_key: privateKey, private_key_id: "key-1" }, publicKey: pair.publicKey };
}

/** The suite's configuration with every provider configured. */
export function providerConfig(account: Config["FCM_SERVICE_ACCOUNT_JSON"]): Config {
  return { ...parseConfig(env), ...TWILIO, FCM_PROJECT_ID: "tend-test", FCM_SERVICE_ACCOUNT_JSON: account };
}

export function providersWith(config: Config, fetch: (url: string, init: RequestInit) => Promise<Response>, now = () => Date.now()): Providers {
  return createProviders(config, createLogger("error"), { fetch, now });
}

export const form = (body: string) => Object.fromEntries(new URLSearchParams(body).entries());
