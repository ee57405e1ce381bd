import { createRoute, z } from "@hono/zod-openapi";
import { problemResponses } from "#src/lib/problem.ts";

export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({ kty: z.string(), crv: z.string(), x: z.string(), y: z.string(), kid: z.string(), alg: z.string(), use: z.string() }).partial(),
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
