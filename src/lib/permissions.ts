import type { Role } from "#src/db/schema/identity.ts";

/**
 * The one role-to-permission matrix. Route guards check permissions, never roles, and API key
 * scopes are a subset of their creator's permissions. README.md shows this table.
 */
const IDENTITY_PERMISSIONS = [
  "profile:self",
  "organization:read",
  "organization:write",
  "members:read",
  "members:write",
  "invitations:write",
  "api-keys:read",
  "api-keys:write",
  "audit:read",
] as const;

/** What the clinical core adds; a clinician holds all of it (narrowed by relationship). */
const CLINICAL_PERMISSIONS = [
  "patients:read",
  "patients:write",
  "care-team:write",
  "clinicians:read",
  "working-hours:write",
  "appointments:read",
  "appointments:write",
  "notes:read",
  "notes:write",
  "dashboard:read",
] as const;

/**
 * The care loop (schedules, reminders, activity, alerts). Staff hold none of it (SPEC: "none");
 * heartbeats come from the patient's own app or an integration's key, never a carer's session.
 */
const CARE_PERMISSIONS = [
  "schedules:read",
  "schedules:write",
  "reminders:read",
  "reminders:ack",
  "activity:read",
  "heartbeats:write",
  "alerts:read",
  "alerts:write",
] as const;

export const PERMISSIONS = [...IDENTITY_PERMISSIONS, ...CLINICAL_PERMISSIONS, ...CARE_PERMISSIONS] as const;

export type Permission = (typeof PERMISSIONS)[number];

const EVERYONE: Permission[] = ["profile:self", "organization:read"];
const MANAGERS: Permission[] = [...PERMISSIONS];

/**
 * Permissions say what a role may do at all; relationships narrow them to records
 * (src/lib/access.ts): a clinician's "patients:read" reaches the patients on whose care team
 * they are, a patient's their own record. Staff (front desk) and caregivers never hold
 * "notes:read", so no note reaches them whatever the relationship.
 */
export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  // Managers hold heartbeats:write only so they can grant it to an integration's key: the
  // heartbeat route takes it from a key or the patient's own session, never a member's.
  owner: new Set(MANAGERS),
  admin: new Set(MANAGERS),
  clinician: new Set([...EVERYONE, "members:read", ...CLINICAL_PERMISSIONS, ...CARE_PERMISSIONS.filter((p) => p !== "heartbeats:write")]),
  staff: new Set([...EVERYONE, "members:read", "patients:read", "patients:write", "clinicians:read", "appointments:read", "appointments:write", "dashboard:read"]),
  caregiver: new Set([
    ...EVERYONE,
    "patients:read",
    "appointments:read",
    "clinicians:read",
    "dashboard:read",
    "schedules:read",
    "reminders:read",
    "reminders:ack",
    "activity:read",
    "alerts:read",
    "alerts:write",
  ]),
  patient: new Set([...EVERYONE, "patients:read", "appointments:read", "schedules:read", "reminders:read", "reminders:ack", "activity:read", "alerts:read", "heartbeats:write"]),
};

/** Roles an owner or admin may grant. Only an owner makes another owner. */
export function canAssignRole(actor: Role, role: Role): boolean {
  if (actor === "owner") return true;
  return actor === "admin" && role !== "owner";
}

/** Permissions an API key may carry: integrations act for the organization, never as a person. */
export const API_KEY_SCOPES: Permission[] = PERMISSIONS.filter((permission) => permission !== "profile:self");

/** "an admin", "a clinician": role names in sentences. */
export function withArticle(role: Role): string {
  return `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
}

/** The same at the start of a sentence: "An owner". */
export function withCapitalArticle(role: Role): string {
  const phrase = withArticle(role);
  return phrase.charAt(0).toUpperCase() + phrase.slice(1);
}
