import { utf8 } from "#src/lib/encoding.ts";
import type { KeyringEntry } from "#src/lib/envelope.ts";

/**
 * One HMAC key per purpose, derived from a password pepper with HKDF-SHA-256 and the purpose's
 * label, so rotating, leaking or losing one use's key touches no other: the peppers themselves
 * key only the password hashes. Each derived key keeps its pepper's id, tagged by purpose, so a
 * pepper rotation rotates every derived key with it and old hashes still find their key.
 */
export const KEY_PURPOSES = {
  idempotency: { label: "tend/idempotency/v1", tag: "i1" },
  recoveryCodes: { label: "tend/recovery-codes/v1", tag: "r1" },
  devices: { label: "tend/known-devices/v1", tag: "d1" },
  realtimeTickets: { label: "tend/realtime-tickets/v1", tag: "t1" },
} as const;

export type KeyPurpose = keyof typeof KEY_PURPOSES;

export interface DerivedKey {
  /** `<purpose tag>.<pepper id>`, e.g. `i1.p2`: names the key in what it hashed. */
  id: string;
  key: CryptoKey;
}

/**
 * Derived keys, per isolate: HKDF runs once per pepper and purpose, not per request. The keys are
 * kept, not the promises: workerd ties a pending WebCrypto promise to the request that made it.
 */
const derived = new Map<string, CryptoKey>();

async function deriveKey(pepper: KeyringEntry, label: string): Promise<CryptoKey> {
  const cacheKey = `${label}\u0000${pepper.id}\u0000${pepper.secret}`;
  const cached = derived.get(cacheKey);
  if (cached) return cached;
  const base = await crypto.subtle.importKey("raw", utf8(pepper.secret), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(label) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  derived.set(cacheKey, key);
  return key;
}

/** The purpose's key under every configured pepper, the current (first) one first. */
export function purposeKeys(purpose: KeyPurpose, peppers: readonly KeyringEntry[]): Promise<DerivedKey[]> {
  const { label, tag } = KEY_PURPOSES[purpose];
  return Promise.all(peppers.map(async (pepper) => ({ id: `${tag}.${pepper.id}`, key: await deriveKey(pepper, label) })));
}

/** The purpose's key under the current pepper: what new hashes are made with. */
export async function currentPurposeKey(purpose: KeyPurpose, peppers: readonly KeyringEntry[]): Promise<DerivedKey> {
  const [key] = await purposeKeys(purpose, peppers.slice(0, 1));
  if (!key) throw new Error("no password pepper configured");
  return key;
}

export async function hmacHex(key: CryptoKey, message: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(message)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
