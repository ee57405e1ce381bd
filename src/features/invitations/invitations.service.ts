import { mailLink } from "#src/platform/mailer.ts";
import type { Deps } from "#src/lib/deps.ts";
import type { Role } from "#src/db/schema/index.ts";
import { invalidateClinicianList } from "#src/features/clinicians/clinicians.cache.ts";
import { firstRow } from "#src/db/rows.ts";
import { scoped } from "#src/db/scope.ts";
import {
  ClaimedInvitation,
  claimInvitation,
  findInvitationByToken,
  InvitationLookup,
  insertInvitation,
} from "#src/features/invitations/invitations.repo.ts";
import { auditFromCte } from "#src/lib/audit.ts";
import { auditInsert } from "#src/lib/audit.ts";
import { randomToken, sha256Hex } from "#src/lib/encoding.ts";
import { Conflict, Forbidden, NotFound, ProblemError, Unauthorized, ValidationFailed } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { hashPassword, verifyPassword } from "#src/lib/password-hash.ts";
import { checkPassword } from "#src/lib/password-policy.ts";
import { reservePasswordAttempt } from "#src/features/auth/auth.lockout.ts";
import { breachCheckFor } from "#src/platform/pwned-passwords.ts";
import { canAssignRole, withArticle, withCapitalArticle } from "#src/lib/permissions.ts";
import type { AuthContext } from "#src/middleware/auth.ts";

export const INVITATION_TTL_DAYS = 7;

export type InvitationDeps = Pick<Deps, "db" | "origin" | "config" | "mailer" | "clock" | "rateLimiter" | "cache" | "writes" | "logger" | "assets">;

const Gone = (detail: string) => new ProblemError({ status: 410, slug: "gone", title: "Gone", detail });

export async function createInvitation(deps: InvitationDeps, auth: AuthContext, input: { email: string; role: Role }) {
  const actor = auth.role ?? "admin";
  if (!canAssignRole(actor, input.role)) throw Forbidden(`${withCapitalArticle(actor)} cannot invite ${withArticle(input.role)}.`);
  const email = input.email.toLowerCase();
  const token = randomToken();
  const id = uuidv7();
  const expiresAt = new Date(deps.clock.now().getTime() + INVITATION_TTL_DAYS * 86_400_000);
  const scope = scoped(deps.db, auth.organizationId);
  await scope.db.batch([
    insertInvitation(scope, {
      id,
      email,
      role: input.role,
      tokenHash: await sha256Hex(token),
      invitedBy: auth.userId,
      expiresAt,
    }),
    auditInsert(scope.db, deps.origin, {
      action: "invitation.created",
      organizationId: auth.organizationId,
      actorUserId: auth.userId,
      actorApiKeyId: auth.apiKeyId,
      targetType: "invitation",
      targetId: id,
      metadata: { role: input.role },
    }),
  ]);
  const link = mailLink(deps.config, "/accept-invitation", token);
  await deps.mailer.send({
    to: email,
    subject: "You're invited to Tend",
    text: `You have been invited to join an organization on Tend as ${input.role}.\n\nAccept within ${INVITATION_TTL_DAYS} days: ${link}\n`,
    template: "invitation",
    api: { path: "/api/v1/invitations/accept", body: { token, name: "<your name>", password: "<a password>" } },
  });
  return { id, email, role: input.role, expiresAt: expiresAt.toISOString() };
}

type Lookup = InvitationLookup;

export interface AcceptInput {
  token: string;
  name?: string;
  password?: string;
}

/** Who the accepting person is: an existing account proven by its password, or a new one. */
async function resolveAccount(deps: InvitationDeps, found: Lookup, input: AcceptInput) {
  if (found.user_id && found.password_hash) {
    // The account's password, checked under the same lockout as a login.
    const { settle } = await reservePasswordAttempt(deps, found.email);
    const check = input.password ? await verifyPassword(input.password, found.password_hash, deps.config.PASSWORD_PEPPERS) : { valid: false };
    await settle(check.valid);
    if (!check.valid) throw Unauthorized("Sign in with this account's password to accept the invitation.");
    return { userId: found.user_id, newUser: null };
  }
  const errors = [];
  if (!input.name) errors.push({ path: "body.name", message: "is required to create your account" });
  const context = { email: found.email, name: input.name };
  const problem = input.password ? await checkPassword(input.password, { assets: deps.assets, breaches: breachCheckFor(deps.config) }, context) : "is required to create your account";
  if (problem) errors.push({ path: "body.password", message: problem });
  if (errors.length > 0 || !input.name || !input.password) throw ValidationFailed(errors);
  const userId = uuidv7();
  return { userId, newUser: { name: input.name, passwordHash: await hashPassword(input.password, deps.config.PASSWORD_PEPPERS) } };
}

/**
 * Single use: the invitation is claimed by a conditional UPDATE in the same statement that
 * creates the account (if any), the membership and the audit event, so a second accept finds
 * nothing to claim.
 */
export async function acceptInvitation(deps: InvitationDeps, input: AcceptInput) {
  const tokenHash = await sha256Hex(input.token);
  const lookup = await findInvitationByToken(deps.db, tokenHash);
  const found = firstRow(InvitationLookup, lookup);
  if (!found) throw NotFound("No such invitation.");
  if (found.accepted) throw Conflict("This invitation has already been accepted.");
  if (found.expired) throw Gone("This invitation has expired; ask for a new one.");
  if (found.already_member) throw Conflict("You are already a member of this organization.");
  const { userId, newUser } = await resolveAccount(deps, found, input);

  const result = await claimInvitation(scoped(deps.db, found.organization_id), {
    tokenHash,
    userId,
    newUser,
    audit: auditFromCte("claimed", deps.origin, {
      action: "invitation.accepted",
      organizationId: found.organization_id,
      actorUserId: userId,
      targetType: "user",
      targetId: userId,
      metadata: { role: found.role, newAccount: newUser !== null },
    }),
  });
  const claimed = firstRow(ClaimedInvitation, result);
  if (!claimed) throw Conflict("This invitation has already been accepted or has expired.");
  if (claimed.role === "clinician") await invalidateClinicianList(deps, claimed.organization_id);
  return { organizationId: claimed.organization_id, userId, role: claimed.role };
}
