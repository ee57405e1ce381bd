import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "#src/lib/types.ts";
import { authRouter } from "#src/features/auth/auth.index.ts";
import { jwksRouter } from "#src/features/jwks/jwks.index.ts";
import { meRouter } from "#src/features/me/me.index.ts";
import { apiKeysRouter } from "#src/features/api-keys/api-keys.index.ts";
import { invitationsRouter } from "#src/features/invitations/invitations.index.ts";
import { mfaRouter } from "#src/features/mfa/mfa.index.ts";
import { membersRouter } from "#src/features/members/members.index.ts";
import { organizationRouter } from "#src/features/organization/organization.index.ts";
import { preferencesRouter } from "#src/features/preferences/preferences.index.ts";

/**
 * Mounts every feature's router. API routes live under /api/v1; `/.well-known` at the root.
 * Each feature adds one line here.
 */
export function registerFeatures(app: OpenAPIHono<AppEnv>): void {
  app.route("/api/v1", authRouter);
  app.route("/api/v1", meRouter);
  app.route("/", jwksRouter);
  app.route("/api/v1", mfaRouter);
  app.route("/api/v1", organizationRouter);
  app.route("/api/v1", membersRouter);
  app.route("/api/v1", invitationsRouter);
  app.route("/api/v1", apiKeysRouter);
  app.route("/api/v1", preferencesRouter);
  void app;
}
