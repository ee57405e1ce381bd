-- Row-level security on every tenant table, as defence in depth under the repositories' own
-- `organization_id = $org` filters. The app runs every query as tend_app (it switches with
-- set_config('role', …) in the first statement of each request's transaction, src/db/client.ts),
-- a role that is neither superuser nor owner nor BYPASSRLS; FORCE makes the policies bind the
-- owner too. Migrations run as the owner and set app.scope = 'system' (scripts/migrate.ts).
--
-- app.scope (set per transaction, so nothing leaks between pooled requests):
--   organization  rows of app.organization_id only
--   account       every row: flows keyed by a user or a secret (login, signup, refresh, reset,
--                 invitation accept, API-key lookup, /me, switch); their own WHERE narrows them
--   system        every row: cross-organization jobs, each round trip audited ('system.scope')
--   anything else no rows: background jobs run as 'jobs' and must ask for 'system' by name, and
--                 a connection that never said who it is sees no tenant data
DO $$
BEGIN
  CREATE ROLE tend_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- roles are per cluster: another database (or a concurrent run) made it already
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'tend_app') THEN
    RAISE EXCEPTION 'role tend_app must not be a superuser nor bypass row-level security';
  END IF;
END
$$;
--> statement-breakpoint
GRANT tend_app TO CURRENT_USER;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO tend_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tend_app;
--> statement-breakpoint
REVOKE ALL ON schema_migrations FROM tend_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tend_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO tend_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tend_tenant_visible(org uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE current_setting('app.scope', true)
    WHEN 'organization' THEN org = nullif(current_setting('app.organization_id', true), '')::uuid
    WHEN 'account' THEN true
    WHEN 'system' THEN true
    ELSE false
  END
$$;
--> statement-breakpoint
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON organizations USING (tend_tenant_visible(id)) WITH CHECK (tend_tenant_visible(id));
--> statement-breakpoint
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON memberships USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE membership_preferences ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE membership_preferences FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON membership_preferences USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON refresh_tokens USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON invitations USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON api_keys USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON audit_events USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
