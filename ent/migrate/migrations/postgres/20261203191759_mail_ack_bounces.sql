-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "email_bounced_at" timestamptz NULL;
