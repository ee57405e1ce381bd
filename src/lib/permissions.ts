import type { Role } from "#src/db/schema/identity.ts";

/**
 * The one role-to-permission matrix. Route guards check permissions, never roles, and API key
 * scopes are a subset of their creator's permissions. README.md shows this table.
 */
export const PERMISSIONS = [
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

export type Permission = (typeof PERMISSIONS)[number];

const EVERYONE: Permission[] = ["profile:self", "organization:read"];
const MANAGERS: Permission[] = [...PERMISSIONS];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(MANAGERS),
  admin: new Set(MANAGERS),
  clinician: new Set([...EVERYONE, "members:read"]),
  staff: new Set([...EVERYONE, "members:read"]),
  caregiver: new Set(EVERYONE),
  patient: new Set(EVERYONE),
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
