import type * as routes from "#src/features/preferences/preferences.routes.ts";
import { getPreferences, patchPreferences } from "#src/features/preferences/preferences.service.ts";
import { invalidateClinicianList } from "#src/features/clinicians/clinicians.cache.ts";
import { requestDeps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getOne: AppHandler<typeof routes.getOne> = async (c) => c.json(await getPreferences(c.get("db"), c.var.auth), 200);

/** A clinician's timezone shows in the clinicians list (when they set no working hours). */
export const patch: AppHandler<typeof routes.patch> = async (c) => {
  const input = c.req.valid("json");
  const preferences = await patchPreferences(c.get("db"), c.var.auth, input);
  if (input.timezone !== undefined && c.var.auth.role === "clinician") await invalidateClinicianList(requestDeps(c), c.var.auth.organizationId);
  return c.json(preferences, 200);
};
