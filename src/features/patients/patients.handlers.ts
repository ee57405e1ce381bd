import { addToCareTeam, getCareTeam, removeFromCareTeam } from "#src/features/patients/patients.care-team.service.ts";
import type * as routes from "#src/features/patients/patients.routes.ts";
import { archivePatientRecord, createPatient, getPatient, listPatientsFor, patchPatient } from "#src/features/patients/patients.service.ts";
import { requestDeps as deps } from "#src/lib/deps.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const list: AppHandler<typeof routes.list> = async (c) => {
  const page = await listPatientsFor(deps(c), c.var.auth, c.req.valid("query"));
  return c.json(page, 200);
};

export const create: AppHandler<typeof routes.create> = async (c) => {
  const { patient, etag } = await createPatient(deps(c), c.var.auth, c.req.valid("json"));
  return c.json(patient, 201, { ETag: etag, Location: `/api/v1/patients/${patient.id}` });
};

export const getOne: AppHandler<typeof routes.getOne> = async (c) => {
  const { patient, etag } = await getPatient(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json(patient, 200, { ETag: etag });
};

export const patch: AppHandler<typeof routes.patch> = async (c) => {
  const ifMatch = c.req.valid("header")["If-Match"];
  const { patient, etag } = await patchPatient(deps(c), c.var.auth, c.req.valid("param").id, ifMatch, c.req.valid("json"));
  return c.json(patient, 200, { ETag: etag });
};

export const archive: AppHandler<typeof routes.archive> = async (c) => {
  await archivePatientRecord(deps(c), c.var.auth, c.req.valid("param").id);
  return c.body(null, 204);
};

export const careTeam: AppHandler<typeof routes.careTeam> = async (c) => {
  const data = await getCareTeam(deps(c), c.var.auth, c.req.valid("param").id);
  return c.json({ data }, 200);
};

export const addCareTeamMember: AppHandler<typeof routes.addCareTeamMember> = async (c) => {
  const member = await addToCareTeam(deps(c), c.var.auth, c.req.valid("param").id, c.req.valid("json"));
  return c.json(member, 201);
};

export const removeCareTeamMember: AppHandler<typeof routes.removeCareTeamMember> = async (c) => {
  const { id, userId } = c.req.valid("param");
  await removeFromCareTeam(deps(c), c.var.auth, id, userId);
  return c.body(null, 204);
};
