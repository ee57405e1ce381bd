import type * as routes from "#src/features/jwks/jwks.routes.ts";
import { publicJwks } from "#src/lib/tokens.ts";
import type { AppHandler } from "#src/lib/route.ts";

export const getJwks: AppHandler<typeof routes.getJwks> = async (c) => {
  const keys = (await publicJwks(c.get("config"))).map((key) => ({
    kty: key.kty,
    crv: key.crv,
    x: key.x,
    y: key.y,
    kid: key.kid,
    alg: key.alg,
    use: key.use,
  }));
  return c.json({ keys }, 200, { "Cache-Control": "public, max-age=300" });
};
