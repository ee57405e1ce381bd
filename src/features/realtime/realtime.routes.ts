import { z } from "@hono/zod-openapi";
import { TICKET_TTL_SECONDS } from "#src/features/realtime/realtime.tickets.ts";
import { jsonResponse } from "#src/lib/openapi.ts";
import { problemResponseSpec } from "#src/lib/problem.ts";
import { defineRoute } from "#src/lib/route.ts";
import { timestamp } from "#src/lib/text.ts";

export const TicketSchema = z
  .object({
    ticket: z.string().max(400).openapi({ description: "Opaque; put it in GET /realtime?ticket=. Single use." }),
    expiresAt: timestamp(),
  })
  .openapi("RealtimeTicket");

const ConnectQuery = z.object({
  ticket: z.string().max(400).optional().openapi({ description: "From POST /realtime/ticket (required: 401 without it)" }),
  since: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ type: "integer", format: "int64", minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "The last seq the client received: what came after it is sent first" }),
});

const tags: ["Me"] = ["Me"];

export const ticket = defineRoute({
  method: "post",
  path: "/realtime/ticket",
  operationId: "createRealtimeTicket",
  tags,
  summary: "A single-use ticket to open the live-updates WebSocket",
  description: `Valid ${TICKET_TTL_SECONDS} s and once, for the caller in the token's organization. Browsers cannot send headers on a WebSocket upgrade, so the ticket, never the access token, goes in the URL.`,
  permission: "profile:self",
  membersOnly: true,
  responses: { 200: jsonResponse("The ticket", TicketSchema) },
});

export const connect = defineRoute({
  method: "get",
  path: "/realtime",
  operationId: "connectRealtime",
  tags,
  summary: "Upgrade to the caller's live-updates WebSocket",
  description:
    "Needs `Upgrade: websocket` (426 otherwise) and an Origin among CORS_ORIGINS when one is sent (browsers always send it; native clients may send none). Spends the ticket (401 when reused, expired, forged or revoked). Each message is JSON `{seq, type, organizationId, data, at}`; with `since`, what came after it is sent first. Send \"ping\" to get \"pong\". Close codes: 4001 signed out everywhere, 4003 membership or role changed.",
  sideEffects: true,
  problems: [403],
  request: { query: ConnectQuery },
  responses: {
    101: { description: "Switching protocols: the WebSocket" },
    426: problemResponseSpec(426, { description: "Not a WebSocket upgrade" }),
  },
});
