-- Create "outbox_messages" table
CREATE TABLE "outbox_messages" ("id" character varying NOT NULL, "kind" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'PENDING', "recipient" character varying NOT NULL, "message_id" character varying NOT NULL, "ticket_id" character varying NULL, "ticket_message_id" character varying NULL, "in_reply_to" character varying NULL, "references" text NULL, "reply_to" character varying NULL, "auto_submitted" character varying NULL, "subject" character varying NOT NULL, "text_body" text NOT NULL, "html_body" text NULL, "attempts" bigint NOT NULL DEFAULT 0, "next_attempt_at" timestamptz NOT NULL, "lease_owner" character varying NULL, "lease_until" timestamptz NULL, "sent_at" timestamptz NULL, "last_error" text NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "outbox_messages_message_id_key" to table: "outbox_messages"
CREATE UNIQUE INDEX "outbox_messages_message_id_key" ON "outbox_messages" ("message_id");
-- Create index "outboxmessage_status_next_attempt_at" to table: "outbox_messages"
CREATE INDEX "outboxmessage_status_next_attempt_at" ON "outbox_messages" ("status", "next_attempt_at");
-- Create index "outboxmessage_ticket_id_created_at" to table: "outbox_messages"
CREATE INDEX "outboxmessage_ticket_id_created_at" ON "outbox_messages" ("ticket_id", "created_at");
-- Create "password_resets" table
CREATE TABLE "password_resets" ("id" character varying NOT NULL, "token_hash" bytea NOT NULL, "user_id" character varying NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "password_resets_token_hash_key" to table: "password_resets"
CREATE UNIQUE INDEX "password_resets_token_hash_key" ON "password_resets" ("token_hash");
-- Create index "passwordreset_user_id_created_at" to table: "password_resets"
CREATE INDEX "passwordreset_user_id_created_at" ON "password_resets" ("user_id", "created_at");
