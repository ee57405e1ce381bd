import { text } from "#src/lib/text.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { problemResponses } from "#src/lib/problem.ts";

export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({ kty: text(), crv: text(), x: text(), y: text(), kid: text(), alg: text(), use: text() }).partial(),
    ),
  })
  .openapi("Jwks");

export const getJwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["Platform"],
  summary: "Public keys that verify Tend's access tokens (ES256)",
  responses: {
    200: {
      description: "The JSON Web Key Set",
      headers: { "Cache-Control": { schema: { type: "string" } } },
      content: { "application/json": { schema: JwksSchema } },
    },
    ...problemResponses(500),
  },
});
