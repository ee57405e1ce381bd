import { fromBase64, fromBase64Url, randomBytes, toBase64Url, utf8 } from "#src/lib/encoding.ts";

export interface KeyringEntry {
  id: string;
  secret: string;
}

/**
 * AES-256-GCM envelopes for secrets at rest (TOTP seeds, OAuth tokens): `v1.<keyId>.<iv>.<data>`.
 * The first key encrypts; any listed key decrypts, so keys rotate without a rewrite. The key id is
 * authenticated as associated data, so an envelope cannot be moved to another key.
 */
const VERSION = "v1";

async function importKey(entry: KeyringEntry): Promise<CryptoKey> {
  const raw = fromBase64(entry.secret);
  if (raw.length !== 32) throw new Error(`encryption key ${entry.id} must be 32 bytes`);
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function seal(plaintext: string, keys: KeyringEntry[]): Promise<string> {
  const current = keys[0];
  if (!current) throw new Error("no encryption key configured");
  const iv = randomBytes(12);
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(`${VERSION}.${current.id}`) },
    await importKey(current),
    utf8(plaintext),
  );
  return [VERSION, current.id, toBase64Url(iv), toBase64Url(new Uint8Array(data))].join(".");
}

export async function open(envelope: string, keys: KeyringEntry[]): Promise<string> {
  const [version, keyId, iv, data] = envelope.split(".");
  const entry = keys.find((key) => key.id === keyId);
  if (version !== VERSION || !entry || !iv || !data) throw new Error("unreadable envelope");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv), additionalData: utf8(`${version}.${keyId}`) },
    await importKey(entry),
    fromBase64Url(data),
  );
  return new TextDecoder().decode(plain);
}
