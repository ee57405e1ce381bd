import type * as routes from "#src/features/alerts/alerts.routes.ts";
import { type AlertVerb, changeAlertStatus, getAlert, listAlertsFor, raiseAlert } from "#src/features/alerts/alerts.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listAlertsFor(deps(c), c.var.auth, c.req.valid("query"));
  return c.json(page, 200);
};

export const getOne: AppHandler<typeof routes.getOne> = async (c) => {
  const alert = await getAlert(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json(alert, 200);
};

export const create: AppHandler<typeof routes.create> = async (c) => {
  const alert = await raiseAlert(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(alert, 201, { Location: `/api/v1/alerts/${alert.id}` });
};

const transition =
  (verb: AlertVerb): AppHandler<typeof routes.acknowledge> =>
  async (c) => {
    const alert = await changeAlertStatus(deps(c), c.var.auth, c.req.valid("param").id, verb);
    return c.json(alert, 200);
  };

export const acknowledge = transition("acknowledge");
export const resolve = transition("resolve");
