import { z } from "@hono/zod-openapi";
import { CHANNELS, SEVERITIES } from "#src/db/schema/care.ts";
import { CursorQuery, LimitQuery } from "#src/lib/cursor.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { defineRoute } from "#src/lib/route.ts";
import { text, timestamp, uuid } from "#src/lib/text.ts";

export const NotificationSchema = z
  .object({
    id: uuid(),
    kind: text(40).openapi({ example: "alert.created" }),
    severity: z.enum(SEVERITIES).nullable(),
    subjectType: text(40).nullable().openapi({ example: "alert" }),
    subjectId: uuid().nullable(),
    title: text(200),
    body: text(1000),
    createdAt: timestamp(),
    readAt: timestamp().nullable(),
  })
  .openapi("Notification");

const ListQuery = z
  .object({
    unread: z.enum(["true", "false"]).optional().openapi({ description: "true: only the ones not read yet" }),
    cursor: CursorQuery.optional(),
    limit: LimitQuery,
  })
  .strict();

const IdParam = z.object({ id: uuid().openapi({ param: { name: "id", in: "path" } }) });
const tags: ["Me"] = ["Me"];

export const list = defineRoute({
  method: "get",
  path: "/notifications",
  operationId: "listNotifications",
  tags,
  summary: "The caller's in-app notifications in this organization",
  description: `Newest first, keyset-paginated. Texts name no patient or clinical detail; open the subject (an alert, a reminder) for it. Channels: ${CHANNELS.join(", ")}; only in_app ones are listed.`,
  permission: "profile:self",
  membersOnly: true,
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(
      "A page of notifications",
      z.object({ data: z.array(NotificationSchema).max(100), nextCursor: CursorQuery.nullable() }).openapi("NotificationPage"),
    ),
  },
});

export const markRead = defineRoute({
  method: "post",
  path: "/notifications/{id}/read",
  operationId: "markNotificationRead",
  tags,
  summary: "Mark one of the caller's notifications read",
  description: "Idempotent: reading it again keeps the first readAt. Another person's notification is a 404.",
  permission: "profile:self",
  membersOnly: true,
  request: { params: IdParam },
  problems: [404],
  responses: { 200: jsonResponse("The notification", NotificationSchema) },
});
