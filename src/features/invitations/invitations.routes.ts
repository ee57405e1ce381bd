import { z } from "@hono/zod-openapi";
import { RoleSchema } from "#src/features/members/members.routes.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { email, text, timestamp, uuid } from "#src/lib/text.ts";

export const InvitationCreateSchema = z
  .object({ email: email(), role: RoleSchema })
  .strict()
  .openapi("InvitationCreate");

export const InvitationSchema = z
  .object({ id: uuid(), email: email(), role: RoleSchema, expiresAt: timestamp() })
  .openapi("Invitation");

export const InvitationAcceptSchema = z
  .object({
    token: text().min(1).max(200).openapi({ description: "From the invitation email" }),
    name: text().trim().min(1).max(200).optional(),
    password: text(1024).min(1).optional(),
  })
  .strict()
  .openapi("InvitationAccept");

export const AcceptedSchema = z
  .object({ organizationId: uuid(), userId: uuid(), role: RoleSchema })
  .openapi("InvitationAccepted");

const tags: ["Members"] = ["Members"];

export const create = defineRoute({
  method: "post",
  path: "/invitations",
  operationId: "createInvitation",
  tags,
  summary: "Invite someone by email to join with a role",
  description: "Mails a single-use link valid for a week. Only an owner may invite an owner.",
  permission: "invitations:write",
  create: true,
  request: { body: jsonBody(InvitationCreateSchema) },
  responses: { 201: jsonResponse("Invitation sent", InvitationSchema) },
});

export const accept = defineRoute({
  method: "post",
  path: "/invitations/accept",
  operationId: "acceptInvitation",
  tags,
  summary: "Accept an invitation: creates the account, or links an existing one with its password",
  description: "A new person sends name and password; someone with an account sends that account's password.",
  create: true,
  rateLimit: "auth",
  problems: [404, 410],
  request: { body: jsonBody(InvitationAcceptSchema) },
  responses: { 201: jsonResponse("Now a member", AcceptedSchema) },
});
