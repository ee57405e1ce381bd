// Write-through memory mirrors of a Durable Object's storage rows (see RateLimiter): the object
// is its storage's only writer and runs one call at a time, so a mirror is never stale.

/** Entries a mirror holds before it starts over (a subject has a handful; an IP object more). */
export const MIRROR_LIMIT = 512;

export function remember<V>(mirror: Map<string, V | null>, key: string, value: V | null): void {
  if (!mirror.has(key) && mirror.size >= MIRROR_LIMIT) mirror.clear();
  mirror.set(key, value);
}

/** The mirrored row, read from storage (and remembered) the first time. */
export function mirrored<V>(mirror: Map<string, V | null>, key: string, read: () => V | null): V | null {
  const known = mirror.get(key);
  if (known !== undefined) return known;
  const value = read();
  remember(mirror, key, value);
  return value;
}
