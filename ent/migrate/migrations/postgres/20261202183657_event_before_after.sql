-- Modify "events" table
ALTER TABLE "events" ADD COLUMN "before" jsonb NULL, ADD COLUMN "after" jsonb NULL, ADD COLUMN "members" jsonb NULL;
