import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { AuthDeps } from "#src/features/auth/auth.deps.ts";
import { issueDeviceToken } from "#src/features/auth/auth.devices.ts";
import { reservePasswordAttempt } from "#src/features/auth/auth.lockout.ts";
import { newSession, type TokenPair } from "#src/features/auth/auth.sessions.ts";
import { firstRow } from "#src/db/rows.ts";
import { ROLES, users } from "#src/db/schema/index.ts";
import { auditInsert } from "#src/lib/audit.ts";
import { Forbidden, Unauthorized, ValidationFailed } from "#src/lib/errors.ts";
import { burnPasswordTime, hashPassword, verifyPassword } from "#src/lib/password-hash.ts";
import { checkPassword, type PasswordContext } from "#src/lib/password-policy.ts";
import { breachCheckFor } from "#src/platform/pwned-passwords.ts";
import { signMfaToken } from "#src/lib/tokens.ts";

/**
 * Throws 422 naming `field` when the password breaks the policy: the deployed breached set (503
 * when it cannot be read) and derived rules always, words from `context` (the user's own address,
 * name, practice) when given, and Pwned Passwords too when PWNED_PASSWORDS_CHECK is on.
 */
export async function assertPasswordPolicy(
  password: string,
  field: string,
  deps: Pick<AuthDeps, "config" | "assets">,
  context?: PasswordContext,
): Promise<void> {
  const problem = await checkPassword(password, { assets: deps.assets, breaches: breachCheckFor(deps.config) }, context);
  if (problem) throw ValidationFailed([{ path: `body.${field}`, message: problem }]);
}

export interface LoginInput {
  email: string;
  password: string;
  organizationId?: string | undefined;
  /** A token an earlier sign-in of this account answered (auth.devices.ts). */
  deviceToken?: string | undefined;
}

export type LoginOutcome =
  | { kind: "tokens"; tokens: TokenPair; deviceToken: string }
  | { kind: "mfa"; mfaToken: string; deviceToken: string }
  | { kind: "choose"; organizations: { id: string; name: string }[] };

const LoginRow = z.object({
  id: z.string(),
  password_hash: z.string(),
  totp_enabled: z.boolean(),
  organizations: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES) })),
});

const INVALID_LOGIN = "Invalid email or password.";

/**
 * Password sign-in. The lockout is keyed by the email's hash, known or not, and by the caller's
 * address (see LOGIN_LOCKOUT); an attempt is reserved before the password is checked, so a burst
 * from one address verifies at most 5.
 */
export async function login(deps: AuthDeps, input: LoginInput): Promise<LoginOutcome> {
  const { db, config } = deps;
  const email = input.email.toLowerCase();
  const { settle, accountBackoffStarted, account } = await reservePasswordAttempt(deps, email, { deviceToken: input.deviceToken });

  const result = await db.execute(sql`
    select u.id, u.password_hash, u.totp_enabled_at is not null as totp_enabled,
      coalesce(json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role) order by o.name, o.id)
        filter (where o.id is not null), '[]'::json) as organizations
    from users u
    left join memberships m on m.user_id = u.id
    left join organizations o on o.id = m.organization_id
    where u.email = ${email}
    group by u.id`);
  const user = firstRow(LoginRow, result);

  const check = user
    ? await verifyPassword(input.password, user.password_hash, config.PASSWORD_PEPPERS)
    : await burnPasswordTime(input.password, config.PASSWORD_PEPPERS).then(() => ({ valid: false, needsRehash: false }));

  if (user && accountBackoffStarted) deps.defer(tellOwnerOfBackoff(deps, email).catch(() => false));
  if (!user || !check.valid) {
    const locked = await settle(false);
    const target = user ? { targetType: "user", targetId: user.id } : {};
    const failed = auditInsert(db, deps.origin, {
      action: "auth.login.failed",
      actorUserId: user?.id ?? null,
      ...target,
      metadata: { reason: user ? "wrong_password" : "unknown_email" },
    });
    if (locked) {
      await db.batch([failed, auditInsert(db, deps.origin, { action: "auth.lockout", actorUserId: user?.id ?? null, ...target })]);
    } else {
      await failed;
    }
    throw Unauthorized(INVALID_LOGIN);
  }
  await settle(true);
  const deviceToken = await issueDeviceToken(config, account, deps.clock.now());
  const rehash = check.needsRehash
    ? [db.update(users).set({ passwordHash: await hashPassword(input.password, config.PASSWORD_PEPPERS) }).where(eq(users.id, user.id))]
    : [];

  // With TOTP on, nothing about the memberships is told before the second factor: the
  // organization is chosen at POST /auth/mfa/verify unless the login already settles it.
  if (user.totp_enabled) {
    const organizationId = mfaOrganization(user.organizations, input.organizationId);
    const known = user.organizations.some((organization) => organization.id === organizationId);
    const mfaToken = await signMfaToken(config, { userId: user.id, organizationId });
    await db.batch([
      auditInsert(db, deps.origin, {
        action: "auth.login.mfa_required",
        organizationId: known ? organizationId : null,
        actorUserId: user.id,
        targetType: "user",
        targetId: user.id,
      }),
      ...rehash,
    ]);
    return { kind: "mfa", mfaToken, deviceToken };
  }

  const membership = chooseOrganization(user.organizations, input.organizationId);
  if ("choose" in membership) return { kind: "choose", organizations: membership.choose };
  const session = await newSession(db, config, { userId: user.id, organizationId: membership.id, role: membership.role });
  await db.batch([
    session.insert,
    auditInsert(db, deps.origin, {
      action: "auth.login.succeeded",
      organizationId: membership.id,
      actorUserId: user.id,
      targetType: "user",
      targetId: user.id,
    }),
    ...rehash,
  ]);
  return { kind: "tokens", tokens: session.tokens, deviceToken };
}

/**
 * The mail an account's owner gets when wrong passwords from many places start its backoff: what
 * happens, and that their own devices and a password reset still get them in. (Once per backoff
 * window: the backoff starts once an hour at most.)
 */
function tellOwnerOfBackoff(deps: AuthDeps, email: string): Promise<boolean> {
  const forgot = new URL("/forgot-password", deps.config.APP_URL).toString();
  return deps.mailer.send({
    to: email,
    subject: "Many failed sign-ins to your Tend account",
    text: [
      "Someone has tried many wrong passwords on your Tend account, from several places. Until it stops, new sign-ins to it are slowed down.",
      "Devices you have signed in from before are not slowed down. If you cannot sign in, reset your password: a completed reset lets you in at once.",
      `Reset your password: ${forgot}`,
      "If you have not forgotten your password, you need do nothing: the slowdown ends an hour after the last failure.",
    ].join("\n\n"),
    template: "login-backoff",
  });
}

/**
 * The organization an MFA token carries: the requested one (checked against the memberships only
 * after the second factor, so the answer here tells nothing), else the only membership, else none.
 */
function mfaOrganization(memberOf: { id: string }[], wanted: string | undefined): string | undefined {
  if (wanted) return wanted;
  return memberOf.length === 1 ? memberOf[0]?.id : undefined;
}

export type OrganizationChoice<T extends { id: string; name: string }> = T | { choose: { id: string; name: string }[] };

/**
 * The organization a sign-in lands in: the wanted one (403 when not a member), else the only
 * membership, else the list to choose from.
 */
export function chooseOrganization<T extends { id: string; name: string }>(memberOf: T[], wanted: string | undefined): OrganizationChoice<T> {
  if (wanted) {
    const found = memberOf.find((organization) => organization.id === wanted);
    if (!found) throw Forbidden("You are not a member of this organization.");
    return found;
  }
  const [only, ...others] = memberOf;
  if (!only) throw Forbidden("You are not a member of any organization.");
  if (others.length > 0) return { choose: memberOf.map(({ id, name }) => ({ id, name })) };
  return only;
}
