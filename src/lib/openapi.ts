import type { z } from "@hono/zod-openapi";

/** Building blocks every route declaration shares, so the OpenAPI document stays uniform. */

/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/** A JSON response. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

/** Routes an integration may call: a member's bearer token or an API key. */
export const MEMBER_OR_API_KEY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

/** Routes about a person (their profile, MFA, sessions, key management): bearer tokens only. */
export const MEMBER_ONLY: Record<string, string[]>[] = [{ bearer: [] }];

/** Routes anyone may call: declared as an explicit empty requirement (no credentials needed). */
export const PUBLIC: Record<string, string[]>[] = [{}];

/** The document's tags: every operation carries exactly one. */
export const TAGS = [
  { name: "Auth", description: "Sign-up, sign-in, token refresh, sign-out, password and email flows" },
  { name: "MFA", description: "TOTP enrolment and recovery codes for the signed-in member" },
  { name: "Me", description: "The signed-in member: profile, organizations and notification preferences" },
  { name: "Organization", description: "The caller's organization: name, timezone and locale" },
  { name: "Members", description: "Members of the organization, their roles, and invitations" },
  { name: "API keys", description: "Scoped keys for integrations, managed by signed-in members" },
  { name: "Patients", description: "Patient records and their care teams, narrowed to the caller's reach" },
  { name: "Clinicians", description: "The practice's clinicians (a cached hot list), their working hours and free slots" },
  { name: "Appointments", description: "Sessions between a clinician and a patient: booking, series, status changes; never double-booked" },
  { name: "Notes", description: "Progress notes (SOAP, DAP, free text): drafts, signing, addenda and ranked full-text search" },
  { name: "Schedules", description: "Recurring care tasks (medication, exercise, check-ins) at local times in the patient's timezone" },
  { name: "Reminders", description: "Each due occurrence of a schedule or an upcoming appointment, and its acknowledgement" },
  { name: "Dashboard", description: "Today's practice at a glance, scoped to what the caller may see" },
  { name: "Activity", description: "What a patient's companion app reports: heartbeats, app opens, reminder interactions, battery" },
  { name: "Alerts", description: "Alerts about patients (inactivity, missed medication, manual): acknowledge, resolve, escalation" },
  { name: "Audit", description: "The tamper-evident trail of every read and write of patient data: query, export, verify" },
  { name: "Platform", description: "Liveness, readiness and the public keys that verify access tokens" },
] as const;

export type ApiTag = (typeof TAGS)[number]["name"];
