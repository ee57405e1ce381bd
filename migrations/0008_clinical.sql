-- The clinical core: patients, care teams, working hours, appointments, progress notes and
-- addenda, the domain-event outbox, and audit seals. Every table carries organization_id, sits
-- under row-level security (tend_tenant_visible, migration 0007), and points at rows of its own
-- organization through composite foreign keys.
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS unaccent;
--> statement-breakpoint
-- unaccent() is STABLE (it reads its dictionary by name); with the dictionary named the result
-- only depends on the text, so it may serve an index expression and a generated column.
CREATE OR REPLACE FUNCTION tend_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT lower(public.unaccent('public.unaccent'::regdictionary, value))
$$;
--> statement-breakpoint
ALTER TABLE memberships ADD CONSTRAINT memberships_org_user_key UNIQUE (organization_id, user_id);
--> statement-breakpoint
CREATE TABLE patients (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id uuid,
  name text NOT NULL,
  preferred_name text,
  date_of_birth date,
  email text,
  phone text,
  address text,
  status text NOT NULL DEFAULT 'active',
  timezone text NOT NULL DEFAULT 'UTC',
  language text NOT NULL DEFAULT 'en',
  preferred_voice text NOT NULL DEFAULT 'neutral',
  communication_style text NOT NULL DEFAULT 'friendly',
  profile_photo_url text,
  app_version text,
  last_heartbeat_at timestamptz,
  inactivity_threshold_minutes integer,
  search_name text GENERATED ALWAYS AS (tend_fold(name || coalesce(' ' || preferred_name, ''))) STORED,
  version integer NOT NULL DEFAULT 1,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT patients_org_id_key UNIQUE (organization_id, id),
  CONSTRAINT patients_user_fk FOREIGN KEY (organization_id, user_id) REFERENCES memberships(organization_id, user_id) ON DELETE SET NULL (user_id),
  CONSTRAINT patients_status_check CHECK (status IN ('active', 'inactive', 'discharged')),
  CONSTRAINT patients_voice_check CHECK (preferred_voice IN ('male', 'female', 'neutral')),
  CONSTRAINT patients_style_check CHECK (communication_style IN ('friendly', 'formal', 'casual')),
  CONSTRAINT patients_phone_e164 CHECK (phone IS NULL OR phone ~ '^\+[1-9][0-9]{6,14}$'),
  CONSTRAINT patients_photo_https CHECK (profile_photo_url IS NULL OR profile_photo_url LIKE 'https://%'),
  CONSTRAINT patients_threshold_check CHECK (inactivity_threshold_minutes IS NULL OR inactivity_threshold_minutes BETWEEN 5 AND 43200)
);
--> statement-breakpoint
CREATE UNIQUE INDEX patients_user_key ON patients (organization_id, user_id) WHERE user_id IS NOT NULL;
--> statement-breakpoint
CREATE INDEX patients_org_name_idx ON patients (organization_id, search_name, id);
--> statement-breakpoint
CREATE INDEX patients_org_created_idx ON patients (organization_id, created_at, id);
--> statement-breakpoint
CREATE INDEX patients_org_updated_idx ON patients (organization_id, updated_at, id);
--> statement-breakpoint
CREATE INDEX patients_name_trgm_idx ON patients USING gin (search_name gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX patients_phone_idx ON patients (organization_id, phone) WHERE phone IS NOT NULL;
--> statement-breakpoint
CREATE TABLE care_team_members (
  organization_id uuid NOT NULL,
  patient_id uuid NOT NULL,
  user_id uuid NOT NULL,
  relationship text NOT NULL,
  is_primary boolean NOT NULL DEFAULT false,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, user_id),
  CONSTRAINT care_team_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT care_team_member_fk FOREIGN KEY (organization_id, user_id) REFERENCES memberships(organization_id, user_id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE UNIQUE INDEX care_team_one_primary ON care_team_members (patient_id) WHERE is_primary;
--> statement-breakpoint
CREATE INDEX care_team_user_idx ON care_team_members (organization_id, user_id, patient_id);
--> statement-breakpoint
CREATE TABLE working_hours (
  organization_id uuid NOT NULL,
  user_id uuid NOT NULL,
  timezone text NOT NULL,
  -- [{ "weekday": 1..7 (ISO, Monday = 1), "start": "09:00", "end": "17:00" }]
  intervals jsonb NOT NULL DEFAULT '[]'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id),
  CONSTRAINT working_hours_member_fk FOREIGN KEY (organization_id, user_id) REFERENCES memberships(organization_id, user_id) ON DELETE CASCADE,
  CONSTRAINT working_hours_array CHECK (jsonb_typeof(intervals) = 'array')
);
--> statement-breakpoint
CREATE TABLE appointments (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  patient_id uuid NOT NULL,
  clinician_id uuid NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'scheduled',
  kind text NOT NULL DEFAULT 'in_person',
  location text,
  video_url text,
  reason text,
  cancel_reason text,
  series_id uuid,
  outside_hours boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  CONSTRAINT appointments_org_patient_id_key UNIQUE (organization_id, patient_id, id),
  CONSTRAINT appointments_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT appointments_range_check CHECK (ends_at > starts_at AND ends_at <= starts_at + interval '24 hours'),
  CONSTRAINT appointments_status_check CHECK (status IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no_show')),
  CONSTRAINT appointments_kind_check CHECK (kind IN ('in_person', 'telehealth')),
  CONSTRAINT appointments_video_https CHECK (video_url IS NULL OR video_url LIKE 'https://%'),
  -- No double-booking, whoever clicks at once: live appointments of one clinician, or of one
  -- patient, never overlap (half-open ranges: back-to-back sessions are fine).
  CONSTRAINT appointments_no_clinician_overlap EXCLUDE USING gist (
    organization_id WITH =, clinician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
  ) WHERE (status IN ('scheduled', 'confirmed')),
  CONSTRAINT appointments_no_patient_overlap EXCLUDE USING gist (
    organization_id WITH =, patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
  ) WHERE (status IN ('scheduled', 'confirmed'))
);
--> statement-breakpoint
CREATE INDEX appointments_org_starts_idx ON appointments (organization_id, starts_at, id);
--> statement-breakpoint
CREATE INDEX appointments_clinician_idx ON appointments (organization_id, clinician_id, starts_at);
--> statement-breakpoint
CREATE INDEX appointments_patient_idx ON appointments (organization_id, patient_id, starts_at);
--> statement-breakpoint
CREATE TABLE progress_notes (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  patient_id uuid NOT NULL,
  appointment_id uuid,
  author_id uuid NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
  format text NOT NULL,
  -- soap: {subjective, objective, assessment, plan}; dap: {data, assessment, plan}; free: {text}
  content jsonb NOT NULL,
  status text NOT NULL DEFAULT 'draft',
  signed_at timestamptz,
  signed_by uuid,
  content_hash text,
  search tsvector GENERATED ALWAYS AS (jsonb_to_tsvector('english'::regconfig, content, '["string"]')) STORED,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT progress_notes_org_id_key UNIQUE (organization_id, id),
  CONSTRAINT progress_notes_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT progress_notes_appointment_fk FOREIGN KEY (organization_id, patient_id, appointment_id) REFERENCES appointments(organization_id, patient_id, id) ON DELETE RESTRICT,
  CONSTRAINT progress_notes_format_check CHECK (format IN ('soap', 'dap', 'free')),
  CONSTRAINT progress_notes_status_check CHECK (status IN ('draft', 'signed')),
  CONSTRAINT progress_notes_content_object CHECK (jsonb_typeof(content) = 'object'),
  CONSTRAINT progress_notes_signed_check CHECK ((status = 'signed') = (signed_at IS NOT NULL AND signed_by IS NOT NULL AND content_hash IS NOT NULL))
);
--> statement-breakpoint
CREATE INDEX progress_notes_patient_idx ON progress_notes (organization_id, patient_id, created_at, id);
--> statement-breakpoint
CREATE INDEX progress_notes_search_idx ON progress_notes USING gin (search);
--> statement-breakpoint
-- Signed means immutable, whoever writes: the database refuses any change to a signed note
-- (and its deletion); only the one draft → signed transition passes.
CREATE OR REPLACE FUNCTION progress_notes_signed_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'signed' THEN
    RAISE EXCEPTION 'progress note % is signed and cannot change', OLD.id USING ERRCODE = '55000';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER progress_notes_signed_guard
  BEFORE UPDATE OR DELETE ON progress_notes
  FOR EACH ROW EXECUTE FUNCTION progress_notes_signed_immutable();
--> statement-breakpoint
CREATE TABLE note_addenda (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  note_id uuid NOT NULL,
  author_id uuid NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
  body text NOT NULL,
  content_hash text NOT NULL,
  signed_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT note_addenda_note_fk FOREIGN KEY (organization_id, note_id) REFERENCES progress_notes(organization_id, id) ON DELETE RESTRICT
);
--> statement-breakpoint
CREATE INDEX note_addenda_note_idx ON note_addenda (organization_id, note_id, created_at);
--> statement-breakpoint
CREATE INDEX note_addenda_search_idx ON note_addenda USING gin (search);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION tend_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER note_addenda_append_only BEFORE UPDATE OR DELETE ON note_addenda
  FOR EACH ROW EXECUTE FUNCTION tend_append_only();
--> statement-breakpoint
-- The transactional outbox: written in the same batch as the change; enqueued after commit, and
-- re-enqueued by the per-minute sweeper while dispatched_at is null.
CREATE TABLE domain_events (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  type text NOT NULL,
  subject_type text NOT NULL,
  subject_id uuid NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz,
  attempts integer NOT NULL DEFAULT 0
);
--> statement-breakpoint
CREATE INDEX domain_events_pending_idx ON domain_events (created_at) WHERE dispatched_at IS NULL;
--> statement-breakpoint
CREATE INDEX domain_events_org_idx ON domain_events (organization_id, created_at);
--> statement-breakpoint
-- Each consumer handles an event once: its row here is claimed in the statement that does the work.
CREATE TABLE event_consumptions (
  event_id uuid NOT NULL REFERENCES domain_events(id) ON DELETE CASCADE,
  consumer text NOT NULL,
  organization_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, consumer)
);
--> statement-breakpoint
ALTER TABLE audit_events ADD COLUMN patient_ids uuid[] NOT NULL DEFAULT '{}';
--> statement-breakpoint
CREATE INDEX audit_events_patients_idx ON audit_events USING gin (patient_ids);
--> statement-breakpoint
CREATE INDEX audit_events_org_id_idx ON audit_events (organization_id, id);
--> statement-breakpoint
-- Tamper evidence: per organization, each seal hashes the previous seal and the rows it covers
-- (audit_events with first_id <= id <= last_id, in id order).
CREATE TABLE audit_seals (
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  first_id uuid NOT NULL,
  last_id uuid NOT NULL,
  row_count integer NOT NULL,
  rows_digest text NOT NULL,
  previous_hash text NOT NULL,
  hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, seq),
  CONSTRAINT audit_seals_count_check CHECK (row_count > 0)
);
--> statement-breakpoint
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION tend_append_only();
--> statement-breakpoint
ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE patients FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON patients USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE care_team_members ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE care_team_members FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON care_team_members USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE working_hours ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE working_hours FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON working_hours USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON appointments USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE progress_notes ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE progress_notes FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON progress_notes USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE note_addenda ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE note_addenda FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON note_addenda USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE domain_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE domain_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON domain_events USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE event_consumptions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE event_consumptions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON event_consumptions USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE audit_seals ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_seals FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON audit_seals USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
