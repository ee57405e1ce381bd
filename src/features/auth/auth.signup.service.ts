import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type AuthDeps, SIGNUP_TOKEN_TTL_MS } from "#src/features/auth/auth.deps.ts";
import { withinMailQuota } from "#src/features/auth/auth.mail-quota.ts";
import { assertPasswordPolicy } from "#src/features/auth/auth.service.ts";
import { newSession } from "#src/features/auth/auth.sessions.ts";
import { problemForDbError } from "#src/db/errors.ts";
import { firstRow } from "#src/db/rows.ts";
import { memberships, organizations, users } from "#src/db/schema/index.ts";
import { auditInsert } from "#src/lib/audit.ts";
import { randomToken } from "#src/lib/encoding.ts";
import { open, seal } from "#src/lib/envelope.ts";
import { Conflict, ValidationFailed } from "#src/lib/errors.ts";
import { uuidv7 } from "#src/lib/ids.ts";
import { hashPassword } from "#src/lib/password-hash.ts";
import { mailLink } from "#src/platform/mailer.ts";

export interface SignupInput {
  organizationName: string;
  organizationSlug?: string | undefined;
  name: string;
  email: string;
}

const TakenRow = z.object({ email: z.boolean() });

export const SIGNUP_MESSAGE = "Check your inbox: the link we sent finishes the sign-up.";

/** What a confirmation link carries, sealed with ENCRYPTION_KEYS: nothing is stored until it is used. */
interface PendingSignup {
  purpose: "signup";
  email: string;
  name: string;
  organizationName: string;
  organizationSlug: string | null;
  expiresAt: number;
}

function slugFrom(name: string): string {
  const base = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `${base || "org"}-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, "0")}`.replace(/^-/, "o");
}

/**
 * Verify-first sign-up. The answer is the same 202 whether or not the address is registered, and
 * the same work is done either way (one query); what differs goes out by mail after the response.
 * A new address gets a link whose sealed token carries the sign-up, so nothing is written for an
 * address nobody confirms, and the password is chosen only at the confirmation, by whoever reads
 * the mailbox: a stranger who asks for a sign-up with someone else's address cannot pick the
 * credentials of the account it becomes. A registered address gets a note that someone tried to
 * sign up with it, and how to sign in or reset instead. The mails repeat nothing the requester
 * wrote. The mails are counted by `withinMailQuota`.
 */
export async function requestSignup(deps: AuthDeps, input: SignupInput): Promise<void> {
  const { db, config } = deps;
  const email = input.email.toLowerCase();
  const [registered] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));

  const send = async () => {
    if (!(await withinMailQuota(deps, "signup", email))) return false;
    if (registered) {
      return deps.mailer.send({
        to: email,
        subject: "Someone tried to sign up to Tend with your email",
        text: [
          "Someone (perhaps you) tried to create a new Tend account with this email address, which already has one.",
          "Nothing was changed. If it was you, sign in instead:",
          mailLink(config, "/login"),
          "Forgotten your password? Ask for a reset link:",
          mailLink(config, "/forgot-password"),
          "If it was not you, you can ignore this message.",
        ].join("\n\n"),
        template: "signup-existing",
      });
    }
    const pending: PendingSignup = {
      purpose: "signup",
      email,
      name: input.name,
      organizationName: input.organizationName,
      organizationSlug: input.organizationSlug ?? null,
      expiresAt: deps.clock.now().getTime() + SIGNUP_TOKEN_TTL_MS,
    };
    const token = await seal(JSON.stringify(pending), config.ENCRYPTION_KEYS);
    return deps.mailer.send({
      to: email,
      subject: "Finish signing up to Tend",
      text: [
        "Someone asked to create a new organization on Tend with this email address as its owner.",
        "If it was you, open this link to choose your password and finish (it works once, for 24 hours):",
        mailLink(config, "/signup/confirm", token),
        "If it was not you, ignore this message: nothing is created until the link is used.",
      ].join("\n\n"),
      template: "signup-confirm",
      api: { path: "/api/v1/auth/signup/confirm", body: { token, password: "<choose a password>" } },
    });
  };
  deps.defer(send().catch(() => false));
}

const invalid = (message: string) => ValidationFailed([{ path: "body.token", message }]);

async function readPending(deps: AuthDeps, token: string): Promise<PendingSignup> {
  const pending = await open(token, deps.config.ENCRYPTION_KEYS)
    .then((plain) => JSON.parse(plain) as PendingSignup)
    .catch(() => {
      throw invalid("is not a sign-up link");
    });
  if (pending.purpose !== "signup") throw invalid("is not a sign-up link");
  if (pending.expiresAt < deps.clock.now().getTime()) throw invalid("has expired: sign up again for a fresh link");
  return pending;
}

/**
 * Turns a confirmed sign-up link into the organization, its owner (email verified: the link
 * proved it) with the password chosen now, and the first session, in one batch. A second use
 * meets the unique email and is a 409, so the link works once.
 */
export async function confirmSignup(deps: AuthDeps, input: { token: string; password: string }) {
  const pending = await readPending(deps, input.token);
  await assertPasswordPolicy(input.password, "password", deps, pending);
  const { db, config } = deps;
  const passwordHash = await hashPassword(input.password, config.PASSWORD_PEPPERS);
  const userId = uuidv7();
  const organization = {
    id: uuidv7(),
    name: pending.organizationName,
    slug: pending.organizationSlug ?? slugFrom(pending.organizationName),
    timezone: "UTC",
  };
  const session = await newSession(db, config, { userId, organizationId: organization.id, role: "owner" });
  try {
    await db.batch([
      db.insert(organizations).values(organization),
      db.insert(users).values({ id: userId, email: pending.email, name: pending.name, passwordHash, emailVerifiedAt: deps.clock.now() }),
      db.insert(memberships).values({ organizationId: organization.id, userId, role: "owner" }),
      session.insert,
      auditInsert(db, deps.origin, {
        action: "auth.signup",
        organizationId: organization.id,
        actorUserId: userId,
        targetType: "user",
        targetId: userId,
      }),
    ]);
  } catch (error) {
    if (problemForDbError(error)?.status !== 409) throw error;
    const taken = await db.execute(sql`select exists (select 1 from users where email = ${pending.email}) as email`);
    if (firstRow(TakenRow, taken)?.email) throw Conflict("This sign-up is already confirmed: sign in instead.");
    throw Conflict("The organization slug is taken: sign up again with another organizationSlug.");
  }
  return {
    user: { id: userId, email: pending.email, name: pending.name, emailVerified: true, mfaEnabled: false },
    organization,
    tokens: session.tokens,
  };
}
