-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "email_message_id" character varying NULL, ADD COLUMN "email_original" text NULL;
-- Create index "message_email_message_id" to table: "messages"
CREATE INDEX "message_email_message_id" ON "messages" ("email_message_id");
