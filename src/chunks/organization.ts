// The `organization` chunk of the deployed bundle (src/routes.ts): running the practice: the organization, members, invitations, API keys.
export { organizationRouter } from "#src/features/organization/organization.index.ts";
export { membersRouter } from "#src/features/members/members.index.ts";
export { invitationsRouter } from "#src/features/invitations/invitations.index.ts";
export { apiKeysRouter } from "#src/features/api-keys/api-keys.index.ts";
