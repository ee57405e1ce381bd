import { z } from "@hono/zod-openapi";
import { DEVICE_PLATFORMS } from "#src/db/schema/care.ts";
import { jsonBody, jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";

export const DeviceSchema = z
  .object({
    id: uuid(),
    platform: z.enum(DEVICE_PLATFORMS),
    label: text(100).nullable(),
    createdAt: timestamp(),
    lastSeenAt: timestamp(),
  })
  .openapi("PushDevice");

export const DeviceRegisterSchema = z
  .object({
    token: z
      .string()
      .min(20)
      .max(4096)
      .regex(/^[\x21-\x7e]+$/, "must be the FCM registration token, unchanged")
      .openapi({ description: "The FCM registration token the app was given" }),
    platform: z.enum(DEVICE_PLATFORMS),
    label: text(100).trim().min(1).optional().openapi({ example: "Ana's phone" }),
  })
  .strict()
  .openapi("PushDeviceRegister");

const IdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
const tags: ["Me"] = ["Me"];

export const list = defineRoute({
  method: "get",
  path: "/me/devices",
  operationId: "listDevices",
  tags,
  summary: "The caller's push devices",
  description: "Devices are the person's, whichever practice they act for; tokens are never shown back.",
  permission: "profile:self",
  membersOnly: true,
  responses: { 200: jsonResponse("Devices, newest first", z.object({ data: z.array(DeviceSchema).max(100) }).openapi("PushDeviceList")) },
});

export const register = defineRoute({
  method: "post",
  path: "/me/devices",
  operationId: "registerDevice",
  tags,
  summary: "Register a push token for the caller",
  description:
    "Upserts by token: a new token is 201, a known one 200. A token registered by someone else moves to the caller (the phone changed hands), so a push never reaches its former owner.",
  permission: "profile:self",
  membersOnly: true,
  request: { body: jsonBody(DeviceRegisterSchema) },
  responses: { 200: jsonResponse("The device, already known", DeviceSchema), 201: jsonResponse("The device, registered", DeviceSchema) },
});

export const remove = defineRoute({
  method: "delete",
  path: "/me/devices/{id}",
  operationId: "deleteDevice",
  tags,
  summary: "Unregister one of the caller's push devices",
  description: "Only the caller's own devices: another person's is a 404.",
  permission: "profile:self",
  membersOnly: true,
  request: { params: IdParam },
  problems: [404],
  responses: { 204: { description: "Removed" } },
});
