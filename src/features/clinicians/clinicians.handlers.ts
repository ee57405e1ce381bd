import { availability as findAvailability } from "#src/features/clinicians/clinicians.availability.ts";
import type * as routes from "#src/features/clinicians/clinicians.routes.ts";
import { getWorkingHours as readWorkingHours, listClinicians, putWorkingHours as saveWorkingHours } from "#src/features/clinicians/clinicians.service.ts";
import { requestDeps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => {
  const { data, cache } = await listClinicians(requestDeps(c), c.var.auth);
  c.header("X-Cache", cache);
  return c.json({ data }, 200);
};

export const getWorkingHours: AppHandler<typeof routes.getWorkingHours> = async (c) =>
  c.json(await readWorkingHours(requestDeps(c), c.var.auth, c.req.valid("param").id), 200);

export const putWorkingHours: AppHandler<typeof routes.putWorkingHours> = async (c) =>
  c.json(await saveWorkingHours(requestDeps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json")), 200);

export const availability: AppHandler<typeof routes.availability> = async (c) =>
  c.json(await findAvailability(requestDeps(c), c.var.auth, c.req.valid("query")), 200);
