-- The care loop: schedules and their reminders, activity from patients' devices, alerts and
-- their escalation, push devices, and the notification outbox. Tenant tables carry
-- organization_id, point at rows of their own organization through composite foreign keys and
-- sit under row-level security (tend_tenant_visible, migration 0007). push_devices belongs to a
-- person, not a practice, like user_preferences.
ALTER TABLE organizations ADD COLUMN inactivity_threshold_minutes integer NOT NULL DEFAULT 240;
--> statement-breakpoint
ALTER TABLE organizations ADD COLUMN escalation_minutes integer NOT NULL DEFAULT 15;
--> statement-breakpoint
ALTER TABLE organizations ADD CONSTRAINT organizations_inactivity_check CHECK (inactivity_threshold_minutes BETWEEN 5 AND 43200);
--> statement-breakpoint
ALTER TABLE organizations ADD CONSTRAINT organizations_escalation_check CHECK (escalation_minutes BETWEEN 1 AND 1440);
--> statement-breakpoint
-- The reminder tick converts every patient's local times through patients.timezone: a zone the
-- database does not know would fail the tick for every organization, so it is refused on write
-- (22023, a 422) even where the app's own zone check (ICU) knows it.
ALTER TABLE patients ADD CONSTRAINT patients_timezone_known CHECK ((timestamptz '2000-01-01 00:00:00+00' AT TIME ZONE timezone) IS NOT NULL);
--> statement-breakpoint
-- A recurring care task. times_of_day are local 'HH:MM' in the patient's timezone; days_of_week
-- ISO (Monday = 1). A deleted schedule keeps its row (its reminders are adherence history).
CREATE TABLE schedules (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  patient_id uuid NOT NULL,
  kind text NOT NULL,
  title text NOT NULL,
  dose text,
  instructions text,
  times_of_day text[] NOT NULL,
  days_of_week smallint[] NOT NULL DEFAULT '{1,2,3,4,5,6,7}',
  active boolean NOT NULL DEFAULT true,
  start_date date,
  end_date date,
  grace_minutes integer NOT NULL DEFAULT 60,
  version integer NOT NULL DEFAULT 1,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT schedules_org_id_key UNIQUE (organization_id, id),
  CONSTRAINT schedules_org_patient_id_key UNIQUE (organization_id, patient_id, id),
  CONSTRAINT schedules_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT schedules_kind_check CHECK (kind IN ('medication', 'exercise', 'check_in')),
  CONSTRAINT schedules_dose_check CHECK (dose IS NULL OR kind = 'medication'),
  CONSTRAINT schedules_times_check CHECK (cardinality(times_of_day) BETWEEN 1 AND 24),
  CONSTRAINT schedules_days_check CHECK (cardinality(days_of_week) BETWEEN 1 AND 7 AND days_of_week <@ '{1,2,3,4,5,6,7}'::smallint[]),
  CONSTRAINT schedules_dates_check CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date),
  CONSTRAINT schedules_grace_check CHECK (grace_minutes BETWEEN 5 AND 1440)
);
--> statement-breakpoint
CREATE INDEX schedules_patient_idx ON schedules (organization_id, patient_id, created_at, id) WHERE deleted_at IS NULL;
--> statement-breakpoint
CREATE INDEX schedules_active_idx ON schedules (patient_id) WHERE active AND deleted_at IS NULL;
--> statement-breakpoint
-- One due occurrence of a schedule (occurrence_key 'schedule:<id>:<local date>T<HH:MM>') or an
-- upcoming appointment ('appointment:<id>:24h' / ':1h'). The key makes the generator idempotent.
CREATE TABLE reminders (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  patient_id uuid NOT NULL,
  schedule_id uuid,
  appointment_id uuid,
  kind text NOT NULL,
  occurrence_key text NOT NULL,
  due_at timestamptz NOT NULL,
  -- When an unacknowledged occurrence counts as missed; null for appointment reminders.
  missed_after timestamptz,
  status text NOT NULL DEFAULT 'pending',
  response text,
  acknowledged_at timestamptz,
  acknowledged_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT reminders_org_id_key UNIQUE (organization_id, id),
  CONSTRAINT reminders_occurrence_key UNIQUE (organization_id, occurrence_key),
  CONSTRAINT reminders_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT reminders_schedule_fk FOREIGN KEY (organization_id, patient_id, schedule_id) REFERENCES schedules(organization_id, patient_id, id) ON DELETE CASCADE,
  CONSTRAINT reminders_appointment_fk FOREIGN KEY (organization_id, patient_id, appointment_id) REFERENCES appointments(organization_id, patient_id, id) ON DELETE CASCADE,
  CONSTRAINT reminders_kind_check CHECK (kind IN ('medication', 'exercise', 'check_in', 'appointment')),
  CONSTRAINT reminders_status_check CHECK (status IN ('pending', 'sent', 'acknowledged', 'missed', 'cancelled')),
  CONSTRAINT reminders_response_check CHECK ((status = 'acknowledged') = (response IS NOT NULL) AND (response IS NULL OR response IN ('taken', 'skipped'))),
  CONSTRAINT reminders_source_check CHECK ((schedule_id IS NULL) <> (appointment_id IS NULL))
);
--> statement-breakpoint
CREATE INDEX reminders_patient_due_idx ON reminders (organization_id, patient_id, due_at, id);
--> statement-breakpoint
CREATE INDEX reminders_org_due_idx ON reminders (organization_id, due_at, id);
--> statement-breakpoint
CREATE INDEX reminders_open_idx ON reminders (missed_after) WHERE status IN ('pending', 'sent') AND missed_after IS NOT NULL;
--> statement-breakpoint
-- The reminder tick's appointment scan spans organizations: live appointments by start.
CREATE INDEX appointments_live_starts_idx ON appointments (starts_at) WHERE status IN ('scheduled', 'confirmed');
--> statement-breakpoint
-- What a patient's device reported: heartbeats, app opens, reminder interactions, battery.
CREATE TABLE activity_events (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  patient_id uuid NOT NULL,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  battery_level smallint,
  app_version text,
  reminder_id uuid,
  CONSTRAINT activity_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT activity_type_check CHECK (type IN ('heartbeat', 'app_open', 'reminder_interaction', 'battery')),
  CONSTRAINT activity_battery_check CHECK (battery_level IS NULL OR battery_level BETWEEN 0 AND 100)
);
--> statement-breakpoint
CREATE INDEX activity_patient_idx ON activity_events (organization_id, patient_id, occurred_at DESC, id DESC);
--> statement-breakpoint
CREATE INDEX patients_heartbeat_idx ON patients (last_heartbeat_at) WHERE status = 'active' AND last_heartbeat_at IS NOT NULL;
--> statement-breakpoint
CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  patient_id uuid NOT NULL,
  type text NOT NULL,
  severity text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  -- A manual alert's text (PHI: shown in the app, never in a push, SMS or mail body).
  message text,
  reminder_id uuid,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid,
  resolved_at timestamptz,
  resolved_by uuid,
  -- 0 primary caregiver, 1 whole care team, 2 owners and admins, 3 voice call (critical).
  escalation_level smallint NOT NULL DEFAULT 0,
  next_escalation_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT alerts_org_id_key UNIQUE (organization_id, id),
  CONSTRAINT alerts_patient_fk FOREIGN KEY (organization_id, patient_id) REFERENCES patients(organization_id, id) ON DELETE CASCADE,
  CONSTRAINT alerts_reminder_fk FOREIGN KEY (organization_id, reminder_id) REFERENCES reminders(organization_id, id) ON DELETE SET NULL (reminder_id),
  CONSTRAINT alerts_type_check CHECK (type IN ('inactivity', 'missed_medication', 'manual')),
  CONSTRAINT alerts_severity_check CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  CONSTRAINT alerts_status_check CHECK (status IN ('open', 'acknowledged', 'resolved')),
  CONSTRAINT alerts_escalation_check CHECK (escalation_level BETWEEN 0 AND 3)
);
--> statement-breakpoint
-- Never two open inactivity alerts for one patient, never two alerts for one missed dose.
CREATE UNIQUE INDEX alerts_one_open_inactivity ON alerts (organization_id, patient_id) WHERE type = 'inactivity' AND status <> 'resolved';
--> statement-breakpoint
CREATE UNIQUE INDEX alerts_one_per_reminder ON alerts (organization_id, reminder_id) WHERE reminder_id IS NOT NULL;
--> statement-breakpoint
CREATE INDEX alerts_org_created_idx ON alerts (organization_id, created_at DESC, id DESC);
--> statement-breakpoint
CREATE INDEX alerts_patient_idx ON alerts (organization_id, patient_id, created_at DESC);
--> statement-breakpoint
CREATE INDEX alerts_escalation_idx ON alerts (next_escalation_at) WHERE status = 'open' AND next_escalation_at IS NOT NULL;
--> statement-breakpoint
-- A person's push tokens (FCM registration tokens), whichever practice they act for.
CREATE TABLE push_devices (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token text NOT NULL,
  platform text NOT NULL,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT push_devices_token_key UNIQUE (token),
  CONSTRAINT push_devices_platform_check CHECK (platform IN ('ios', 'android', 'web'))
);
--> statement-breakpoint
CREATE INDEX push_devices_user_idx ON push_devices (user_id, created_at);
--> statement-breakpoint
-- The notification outbox: one row per recipient, channel and message. dedupe_key makes every
-- producer idempotent; the sender claims a row (pending -> sending) before calling the provider.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  channel text NOT NULL,
  kind text NOT NULL,
  severity text,
  subject_type text,
  subject_id uuid,
  patient_id uuid,
  dedupe_key text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  not_before timestamptz NOT NULL DEFAULT now(),
  claimed_at timestamptz,
  sent_at timestamptz,
  read_at timestamptz,
  provider_message_id text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT notifications_dedupe_key UNIQUE (organization_id, dedupe_key),
  CONSTRAINT notifications_member_fk FOREIGN KEY (organization_id, user_id) REFERENCES memberships(organization_id, user_id) ON DELETE CASCADE,
  CONSTRAINT notifications_channel_check CHECK (channel IN ('email', 'sms', 'push', 'in_app', 'voice')),
  CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
  CONSTRAINT notifications_severity_check CHECK (severity IS NULL OR severity IN ('low', 'medium', 'high', 'critical'))
);
--> statement-breakpoint
CREATE INDEX notifications_due_idx ON notifications (not_before) WHERE status IN ('pending', 'sending');
--> statement-breakpoint
CREATE INDEX notifications_inbox_idx ON notifications (organization_id, user_id, created_at DESC, id DESC) WHERE channel = 'in_app';
--> statement-breakpoint
ALTER TABLE schedules ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE schedules FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON schedules USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE reminders ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE reminders FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON reminders USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE activity_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE activity_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON activity_events USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON alerts USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY tenant_scope ON notifications USING (tend_tenant_visible(organization_id)) WITH CHECK (tend_tenant_visible(organization_id));
--> statement-breakpoint
-- Who already heard about a subject (an alert's escalation skips them), and an event's rows.
CREATE INDEX notifications_subject_idx ON notifications (organization_id, subject_id, user_id) WHERE subject_id IS NOT NULL;
