import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  foreignKey,
  index,

  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { organizations } from "#src/db/schema/organizations.ts";

export const ROLES = ["owner", "admin", "clinician", "staff", "caregiver", "patient"] as const;
export type Role = (typeof ROLES)[number];
const roleCheck = (column: string) => sql.raw(`${column} in (${ROLES.map((role) => `'${role}'`).join(", ")})`);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A person who signs in. Email is stored lower-cased; the password hash names its own algorithm. */
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
    /** AES-256-GCM envelope (see lib/envelope.ts); null until TOTP is enrolled. */
    totpSecret: text("totp_secret"),
    totpEnabledAt: timestamp("totp_enabled_at", { withTimezone: true }),
    /** The last TOTP time step accepted: a code is never accepted twice. */
    totpLastStep: bigint("totp_last_step", { mode: "number" }),
    /** Set by logout-all, password reset and change: refresh families started earlier are dead. */
    sessionsRevokedAt: timestamp("sessions_revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("users_email_key").on(table.email),
    check("users_email_lowercase", sql`${table.email} = lower(${table.email})`),
  ],
);

/** User × organization × role. */
export const memberships = pgTable(
  "memberships",
  {
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role").$type<Role>().notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.organizationId, table.userId] }),
    index("memberships_user_idx").on(table.userId),
    check("memberships_role_check", roleCheck("role")),
  ],
);

/** Opaque refresh tokens, stored as SHA-256 hashes, rotated on every use within a family. */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey(),
    familyId: uuid("family_id").notNull(),
    /** When the family's first token was made, copied on rotation (see users.sessionsRevokedAt). */
    familyStartedAt: timestamp("family_started_at", { withTimezone: true }).notNull().defaultNow(),
    userId: uuid("user_id").notNull(),
    organizationId: uuid("organization_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("refresh_tokens_hash_key").on(table.tokenHash),
    index("refresh_tokens_family_idx").on(table.familyId),
    index("refresh_tokens_user_idx").on(table.userId),
    foreignKey({
      columns: [table.organizationId, table.userId],
      foreignColumns: [memberships.organizationId, memberships.userId],
    }).onDelete("cascade"),
  ],
);

export const ONE_TIME_PURPOSES = ["password_reset", "email_verify"] as const;

/** Single-use tokens mailed to a user (password reset, email verification), stored hashed. */
export const oneTimeTokens = pgTable(
  "one_time_tokens",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose").$type<(typeof ONE_TIME_PURPOSES)[number]>().notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("one_time_tokens_hash_key").on(table.tokenHash),
    check("one_time_tokens_purpose_check", sql`${table.purpose} in ('password_reset', 'email_verify')`),
  ],
);

/** Single-use MFA recovery codes, stored hashed. */
export const recoveryCodes = pgTable(
  "recovery_codes",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("recovery_codes_hash_key").on(table.userId, table.codeHash)],
);

/** An emailed invitation to join an organization with a role; accepted once. */
export const invitations = pgTable(
  "invitations",
  {
    id: uuid("id").primaryKey(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role").$type<Role>().notNull(),
    tokenHash: text("token_hash").notNull(),
    invitedBy: uuid("invited_by").references(() => users.id, { onDelete: "set null" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    acceptedBy: uuid("accepted_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("invitations_hash_key").on(table.tokenHash),
    index("invitations_org_idx").on(table.organizationId, table.createdAt),
    check("invitations_role_check", roleCheck("role")),
  ],
);

/** Machine access for integrations: scoped, shown once, stored hashed, rotatable. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    /** The visible start of the key (tend_xxxxxxxx), to recognise it in lists and logs. */
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes").array().notNull(),
    /** Set on the old key when rotated: it keeps working until then. */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    replacedBy: uuid("replaced_by"),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("api_keys_hash_key").on(table.keyHash),
    index("api_keys_org_idx").on(table.organizationId, table.createdAt),
  ],
);

/**
 * Preferences that belong to the person wherever they work: today only `timezone` (they live in
 * one). Unset fields take their defaults when read. The rest is per membership, below.
 */
export const userPreferences = pgTable("user_preferences", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  preferences: jsonb("preferences").notNull().default({}),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Notification preferences per membership (channels, alert threshold, quiet hours, daily
 * summary): a caregiver in two practices is on call differently in each. Gone with the membership.
 */
export const membershipPreferences = pgTable(
  "membership_preferences",
  {
    organizationId: uuid("organization_id").notNull(),
    userId: uuid("user_id").notNull(),
    preferences: jsonb("preferences").notNull().default({}),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.organizationId, table.userId] }),
    foreignKey({
      columns: [table.organizationId, table.userId],
      foreignColumns: [memberships.organizationId, memberships.userId],
    }).onDelete("cascade"),
  ],
);

/**
 * Who did what to which record, when and from where. Append-only: a trigger (migration 0002)
 * rejects UPDATE and DELETE. Never holds passwords, tokens or codes.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: uuid("id").primaryKey(),
    organizationId: uuid("organization_id"),
    actorUserId: uuid("actor_user_id"),
    actorApiKeyId: uuid("actor_api_key_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    metadata: jsonb("metadata").notNull().default({}),
    /** The patients whose data the event read or wrote (a list read names every one returned). */
    patientIds: uuid("patient_ids").array().notNull().default(sql`'{}'`),
    createdAt: createdAt(),
  },
  (table) => [
    index("audit_events_org_idx").on(table.organizationId, table.createdAt),
    index("audit_events_actor_idx").on(table.actorUserId, table.createdAt),
  ],
);

