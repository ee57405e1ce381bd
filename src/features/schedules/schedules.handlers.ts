import type * as routes from "#src/features/schedules/schedules.routes.ts";
import { createSchedule, listSchedulesFor, patchSchedule, removeSchedule } from "#src/features/schedules/schedules.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listSchedulesFor(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("query"));
  return c.json(page, 200);
};

export const create: AppHandler<typeof routes.create> = async (c) => {
  const { schedule, etag } = await createSchedule(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json"));
  return c.json(schedule, 201, { ETag: etag, Location: `/api/v1/schedules/${schedule.id}` });
};

export const patch: AppHandler<typeof routes.patch> = async (c) => {
  const { schedule, etag } = await patchSchedule(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("header")["If-Match"], c.req.valid("json"));
  return c.json(schedule, 200, { ETag: etag });
};

export const remove: AppHandler<typeof routes.remove> = async (c) => {
  await removeSchedule(deps(c), c.var.auth, c.req.valid("param").id);
  return c.body(null, 204);
};
