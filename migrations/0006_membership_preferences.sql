CREATE TABLE "membership_preferences" (
	"organization_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"preferences" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "membership_preferences_organization_id_user_id_pk" PRIMARY KEY("organization_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "membership_preferences" ADD CONSTRAINT "membership_preferences_organization_id_user_id_memberships_organization_id_user_id_fk" FOREIGN KEY ("organization_id","user_id") REFERENCES "public"."memberships"("organization_id","user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Each of a user's memberships starts from the notification preferences they had as a person;
-- from now on only the timezone stays per user.
INSERT INTO "membership_preferences" ("organization_id", "user_id", "preferences", "updated_at")
SELECT m."organization_id", m."user_id", p."preferences" - 'timezone', p."updated_at"
FROM "user_preferences" p JOIN "memberships" m ON m."user_id" = p."user_id"
WHERE p."preferences" - 'timezone' <> '{}'::jsonb;
--> statement-breakpoint
UPDATE "user_preferences" SET "preferences" = "preferences" - ARRAY['channels', 'alertThreshold', 'quietHours', 'dailySummaryTime'];
