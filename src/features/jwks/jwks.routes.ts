import { z } from "@hono/zod-openapi";
import { defineRoute } from "#src/lib/route.ts";
import { text } from "#src/lib/text.ts";

/** An EC P-256 public key: coordinates are 43 base64url characters. */
const JwkSchema = z
  .object({
    kty: text(8).openapi({ example: "EC" }),
    crv: text(8).openapi({ example: "P-256" }),
    x: text(43),
    y: text(43),
    kid: text(64),
    alg: text(8).openapi({ example: "ES256" }),
    use: text(8).openapi({ example: "sig" }),
  })
  .partial()
  .openapi("Jwk");

export const JwksSchema = z.object({ keys: z.array(JwkSchema).max(10) }).openapi("Jwks");

export const getJwks = defineRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  operationId: "getJwks",
  tags: ["Platform"],
  summary: "Public keys that verify Tend's access tokens (ES256)",
  description: "Every key that may have signed a live access token; cache it for five minutes and refetch on an unknown kid.",
  rateLimit: "none",
  responses: {
    200: {
      description: "The JSON Web Key Set",
      headers: { "Cache-Control": { description: "public, max-age=300", schema: { type: "string", maxLength: 100 } } },
      content: { "application/json": { schema: JwksSchema } },
    },
  },
});
