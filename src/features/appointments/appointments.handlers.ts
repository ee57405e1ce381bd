import type * as routes from "#src/features/appointments/appointments.routes.ts";
import {
  bookAppointment,
  changeAppointmentStatus,
  getAppointment,
  listAppointmentsFor,
  type TransitionVerb,
  updateAppointment,
} from "#src/features/appointments/appointments.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import { etagOf } from "#src/lib/etag.ts";
import type { AppHandler } from "#src/lib/route.ts";

const etag = (appointment: { version: number }) => ({ ETag: etagOf(appointment.version) });

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listAppointmentsFor(deps(c), c.var.auth, c.req.valid("query"));
  return c.json(page, 200);
};

export const create: AppHandler<typeof routes.create> = async (c) => {
  const booked = await bookAppointment(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(booked, 201, { ...etag(booked), Location: `/api/v1/appointments/${booked.id}` });
};

export const getOne: AppHandler<typeof routes.getOne> = async (c) => {
  const appointment = await getAppointment(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json(appointment, 200, etag(appointment));
};

export const patch: AppHandler<typeof routes.patch> = async (c) => {
  const { id } = c.req.valid("param");
  const appointment = await updateAppointment(deps(c), c.var.auth, id, c.req.valid("json"), c.req.valid("header")["If-Match"]);
  return c.json(appointment, 200, etag(appointment));
};

const transition =
  (verb: Exclude<TransitionVerb, "cancel">): AppHandler<typeof routes.confirm> =>
  async (c) => {
    const appointment = await changeAppointmentStatus(deps(c), c.var.auth, c.req.valid("param").id, verb);
    return c.json(appointment, 200, etag(appointment));
  };

export const confirm = transition("confirm");
export const complete = transition("complete");
export const noShow = transition("no-show");

export const cancel: AppHandler<typeof routes.cancel> = async (c) => {
  const appointment = await changeAppointmentStatus(deps(c), c.var.auth, c.req.valid("param").id, "cancel", c.req.valid("json").reason);
  return c.json(appointment, 200, etag(appointment));
};
