import type * as routes from "#src/features/devices/devices.routes.ts";
import { deleteDevice, listDevices, registerDevice } from "#src/features/devices/devices.service.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => c.json({ data: await listDevices(c.get("db"), c.var.auth.userId) }, 200);

export const register: AppHandler<typeof routes.register> = async (c) => {
  const { device, created } = await registerDevice(c.get("db"), c.var.auth.userId, c.req.valid("json"));
  return created ? c.json(device, 201) : c.json(device, 200);
};

export const remove: AppHandler<typeof routes.remove> = async (c) => {
  await deleteDevice(c.get("db"), c.var.auth.userId, c.req.valid("param").id);
  return c.body(null, 204);
};
