import {
  CareTeamAddSchema,
  CareTeamMemberParam,
  CareTeamMemberSchema,
  CareTeamSchema,
  PatientCreateSchema,
  PatientIdParam,
  PatientListQuery,
  PatientListSchema,
  PatientPatchSchema,
  PatientSchema,
} from "#src/features/patients/patients.schemas.ts";
import { IfMatchHeader } from "#src/lib/etag.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";

const tags: ["Patients"] = ["Patients"];

const ETAG = { ETag: { description: 'The version to send back in If-Match (e.g. `"3"`)', schema: { type: "string" as const, maxLength: 16 } } };
const LOCATION = { Location: { description: "The new patient's URL", schema: { type: "string" as const, maxLength: 100 } } };
const withTag = (description: string, location = false) => ({ ...jsonResponse(description, PatientSchema), headers: location ? { ...ETAG, ...LOCATION } : ETAG });

const REACH = "Narrowed to the caller's reach: clinicians and caregivers see their care-team patients, a patient their own record; anything else is a 404.";

export const list = defineRoute({
  method: "get",
  path: "/patients",
  operationId: "listPatients",
  tags,
  summary: "Patients the caller may see: filter, search by name or phone, sort, page",
  description: `${REACH} Keyset pages: pass nextCursor back as cursor until it is null. With q, results are ranked by similarity (a phone number matches exactly, in any notation). One audit row names the patients returned.`,
  permission: "patients:read",
  phi: true,
  request: { query: PatientListQuery },
  responses: { 200: jsonResponse("A page of patients", PatientListSchema) },
});

export const create = defineRoute({
  method: "post",
  path: "/patients",
  operationId: "createPatient",
  tags,
  summary: "Create a patient record",
  description: "A creating clinician joins the care team as primary. Writes patient.created. The phone is stored as E.164; a national number takes the organization's country (its locale's region).",
  permission: "patients:write",
  phi: true,
  create: true,
  request: { body: jsonBody(PatientCreateSchema) },
  responses: { 201: withTag("The new patient", true) },
});

export const getOne = defineRoute({
  method: "get",
  path: "/patients/{id}",
  operationId: "getPatient",
  tags,
  summary: "One patient, with its ETag",
  description: REACH,
  permission: "patients:read",
  phi: true,
  problems: [404],
  request: { params: PatientIdParam },
  responses: { 200: withTag("The patient") },
});

export const patch = defineRoute({
  method: "patch",
  path: "/patients/{id}",
  operationId: "updatePatient",
  tags,
  summary: "Change a patient's fields; If-Match required",
  description: `Send If-Match with the ETag from GET: a stale one is a 412 and changes nothing, a missing one a 428. Writes patient.updated. ${REACH}`,
  permission: "patients:write",
  phi: true,
  problems: [404, 409, 412, 428],
  request: { params: PatientIdParam, headers: IfMatchHeader, body: jsonBody(PatientPatchSchema) },
  responses: { 200: withTag("The updated patient") },
});

export const archive = defineRoute({
  method: "delete",
  path: "/patients/{id}",
  operationId: "archivePatient",
  tags,
  summary: "Archive a patient: status discharged, the record kept",
  description: `Nothing is deleted; the patient's status becomes discharged (patient.updated). ${REACH}`,
  permission: "patients:write",
  phi: true,
  problems: [404],
  request: { params: PatientIdParam },
  responses: { 204: { description: "Archived" } },
});

export const careTeam = defineRoute({
  method: "get",
  path: "/patients/{id}/care-team",
  operationId: "listCareTeam",
  tags,
  summary: "A patient's care team, primary first",
  description: `At most 100 members. ${REACH}`,
  permission: "patients:read",
  phi: true,
  problems: [404],
  request: { params: PatientIdParam },
  responses: { 200: jsonResponse("The care team", CareTeamSchema) },
});

export const addCareTeamMember = defineRoute({
  method: "post",
  path: "/patients/{id}/care-team",
  operationId: "addCareTeamMember",
  tags,
  summary: "Add a clinician or caregiver to a patient's care team",
  description:
    "The member must be a clinician or caregiver of the organization (else 422 on body.userId); a member already on the team is a 409. isPrimary: true makes them the one primary and demotes the previous primary in the same transaction. A clinician changes only the teams of patients they care for.",
  permission: "care-team:write",
  phi: true,
  create: true,
  problems: [404],
  request: { params: PatientIdParam, body: jsonBody(CareTeamAddSchema) },
  responses: { 201: jsonResponse("The member added", CareTeamMemberSchema) },
});

export const removeCareTeamMember = defineRoute({
  method: "delete",
  path: "/patients/{id}/care-team/{userId}",
  operationId: "removeCareTeamMember",
  tags,
  summary: "Remove a member from a patient's care team",
  description: "A clinician changes only the teams of patients they care for. Removing the primary leaves the team without one.",
  permission: "care-team:write",
  phi: true,
  problems: [404],
  request: { params: CareTeamMemberParam },
  responses: { 204: { description: "Removed" } },
});


