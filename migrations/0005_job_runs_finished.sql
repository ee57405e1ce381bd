ALTER TABLE "job_runs" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
-- Runs recorded before claims existed ran whole in the claim's own transaction: they finished.
UPDATE "job_runs" SET "finished_at" = "started_at";
