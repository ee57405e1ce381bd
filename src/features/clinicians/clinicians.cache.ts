import type { Deps } from "#src/lib/deps.ts";
import type { Logger } from "#src/lib/logger.ts";

/**
 * The clinicians hot list in KV, under organization-scoped keys:
 *
 * - `clinicians:v2:<org>:version`: the organization's list version, a fresh random value written
 *   by every change that alters the list (kept a day);
 * - `clinicians:v2:<org>:list`: the last list built, tagged with the version read before the
 *   database was (kept `LIST_TTL_SECONDS`).
 *
 * A read fetches both keys in parallel (one KV round trip, no SQL) and serves the list only if its
 * tag is the current version. Tagging, rather than a plain delete, closes the fill race: a reader
 * that queried the database before a write committed, and stores its list after the write's
 * invalidation, stores it under the old version, which no one serves. In the writer's location
 * KV shows the new version at once; elsewhere KV's propagation (up to about 60 s) and the list's
 * TTL bound what others see.
 *
 * The writer reads its own write wherever its next request lands: an invalidation also marks the
 * caller's write in their RateLimiter object (`deps.writes`, which every request's admission
 * already asks), and a list built before the caller's last write is a miss for them, even where
 * KV still shows the old version.
 */
export const LIST_TTL_SECONDS = 60;
const VERSION_TTL_SECONDS = 86_400;
/** The version of an organization whose list no change has invalidated yet (or a day ago). */
const INITIAL_VERSION = "0";

const versionKey = (organizationId: string) => `clinicians:v2:${organizationId}:version`;
const listKey = (organizationId: string) => `clinicians:v2:${organizationId}:list`;

export interface CachedClinician {
  id: string;
  name: string;
  email: string;
  timezone: string;
  patientCount: number;
}

interface CachedList {
  version: string;
  builtAt: number;
  clinicians: CachedClinician[];
}

export type CacheRead = { hit: true; clinicians: CachedClinician[] } | { hit: false; version: string };

/**
 * The caller's write stamp (src/lib/deps.ts `writes`). Optional: a caller whose deps type leaves it
 * out still hands over the request's whole deps object, and a test may pass a bare cache.
 */
type StampDeps = { writes?: Deps["writes"] | undefined };

/**
 * A list built less than this after the caller's write counts as built before it: the Worker's and
 * the Durable Object's clocks may differ a little (and a Worker's clock only moves on I/O).
 */
const CLOCK_MARGIN_MS = 1000;

function isCachedList(value: unknown): value is CachedList {
  if (typeof value !== "object" || value === null) return false;
  const list = value as Partial<CachedList>;
  return typeof list.version === "string" && typeof list.builtAt === "number" && Array.isArray(list.clinicians);
}

/**
 * The cached list if it is current, and built after the caller's last write; otherwise the version
 * to tag a freshly built one with. The caller's stamp comes with their admission, already in
 * flight, so waiting for it beside KV costs no extra round trip.
 */
export async function readCachedClinicians(deps: Pick<Deps, "cache"> & StampDeps, organizationId: string): Promise<CacheRead> {
  const [version, cached, lastWrite] = await Promise.all([
    deps.cache.get<string>(versionKey(organizationId)),
    deps.cache.get<unknown>(listKey(organizationId)),
    deps.writes ? deps.writes.lastWriteMs().catch(() => undefined) : undefined,
  ]);
  const current = typeof version === "string" ? version : INITIAL_VERSION;
  const fresh = (list: CachedList) => list.version === current && (lastWrite === undefined || list.builtAt > lastWrite + CLOCK_MARGIN_MS);
  if (isCachedList(cached) && fresh(cached)) return { hit: true, clinicians: cached.clinicians };
  return { hit: false, version: current };
}

/**
 * Stores a list built from the database under the version read before the query; `builtAt` is
 * when the query was sent (never later), so a list that may predate a write looks as old as it is.
 */
export async function storeCachedClinicians(
  deps: Pick<Deps, "cache">,
  organizationId: string,
  built: { version: string; builtAt: number },
  clinicians: CachedClinician[],
): Promise<void> {
  const value: CachedList = { version: built.version, builtAt: built.builtAt, clinicians };
  await deps.cache.put(listKey(organizationId), value, LIST_TTL_SECONDS);
}

/**
 * Every change that alters the list (role changes, removals, name changes, care-team changes,
 * working hours) calls this after its write commits: a new version in KV, and the caller's write
 * marked (when `deps.writes` is there) for their next reads wherever they land. A failing KV write
 * (KV allows about one write per second per key) does not fail the change that was committed:
 * the stale list then lives out its TTL, and the failure is logged when a logger is given.
 */
export async function invalidateClinicianList(
  deps: Pick<Deps, "cache"> & StampDeps & { logger?: Logger | undefined },
  organizationId: string,
): Promise<void> {
  try {
    await Promise.all([
      deps.cache.put(versionKey(organizationId), crypto.randomUUID(), VERSION_TTL_SECONDS),
      deps.cache.delete(listKey(organizationId)),
      deps.writes?.markWrite(),
    ]);
  } catch (error) {
    deps.logger?.log("warn", "clinician list invalidation failed", { organizationId, error: error instanceof Error ? error.name : "unknown" });
  }
}
