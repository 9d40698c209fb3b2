-- Create "events" table
CREATE TABLE "events" ("id" character varying NOT NULL, "cursor" bigint NOT NULL, "type" character varying NOT NULL, "ticket_id" character varying NULL, "group_id" character varying NULL, "requester_id" character varying NULL, "assignee_id" character varying NULL, "message_id" character varying NULL, "actor_id" character varying NULL, "internal" boolean NOT NULL DEFAULT false, "changes" jsonb NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "event_created_at" to table: "events"
CREATE INDEX "event_created_at" ON "events" ("created_at");
-- Create index "event_requester_id_cursor" to table: "events"
CREATE INDEX "event_requester_id_cursor" ON "events" ("requester_id", "cursor");
-- Create index "event_ticket_id_cursor" to table: "events"
CREATE INDEX "event_ticket_id_cursor" ON "events" ("ticket_id", "cursor");
-- Create index "events_cursor_key" to table: "events"
CREATE UNIQUE INDEX "events_cursor_key" ON "events" ("cursor");
-- Create "sla_policies" table
CREATE TABLE "sla_policies" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "priority" bigint NOT NULL, "first_response_minutes" bigint NOT NULL, "resolution_minutes" bigint NOT NULL, PRIMARY KEY ("id"));
-- Create index "sla_policies_priority_key" to table: "sla_policies"
CREATE UNIQUE INDEX "sla_policies_priority_key" ON "sla_policies" ("priority");
-- Create index "slapolicy_created_at" to table: "sla_policies"
CREATE INDEX "slapolicy_created_at" ON "sla_policies" ("created_at");
-- Create index "slapolicy_updated_at" to table: "sla_policies"
CREATE INDEX "slapolicy_updated_at" ON "sla_policies" ("updated_at");
-- Create "sequences" table
CREATE TABLE "sequences" ("id" character varying NOT NULL, "name" character varying NOT NULL, "value" bigint NOT NULL, PRIMARY KEY ("id"));
-- Create index "sequences_name_key" to table: "sequences"
CREATE UNIQUE INDEX "sequences_name_key" ON "sequences" ("name");
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL, "role" character varying NOT NULL DEFAULT 'CUSTOMER', "password_hash" character varying NULL, "phone" character varying NULL, "active" boolean NOT NULL DEFAULT true, "last_seen_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "user_created_at" to table: "users"
CREATE INDEX "user_created_at" ON "users" ("created_at");
-- Create index "user_name" to table: "users"
CREATE INDEX "user_name" ON "users" ("name");
-- Create index "user_role" to table: "users"
CREATE INDEX "user_role" ON "users" ("role");
-- Create index "user_updated_at" to table: "users"
CREATE INDEX "user_updated_at" ON "users" ("updated_at");
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
-- Create "api_tokens" table
CREATE TABLE "api_tokens" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "token_hash" bytea NOT NULL, "scope" character varying NOT NULL DEFAULT 'READ', "expires_at" timestamptz NULL, "last_used_at" timestamptz NULL, "revoked_at" timestamptz NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "api_tokens_users_api_tokens" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "api_tokens_token_hash_key" to table: "api_tokens"
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens" ("token_hash");
-- Create index "apitoken_created_at" to table: "api_tokens"
CREATE INDEX "apitoken_created_at" ON "api_tokens" ("created_at");
-- Create index "apitoken_updated_at" to table: "api_tokens"
CREATE INDEX "apitoken_updated_at" ON "api_tokens" ("updated_at");
-- Create index "apitoken_user_id" to table: "api_tokens"
CREATE INDEX "apitoken_user_id" ON "api_tokens" ("user_id");
-- Create "groups" table
CREATE TABLE "groups" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NULL, PRIMARY KEY ("id"));
-- Create index "group_created_at" to table: "groups"
CREATE INDEX "group_created_at" ON "groups" ("created_at");
-- Create index "group_updated_at" to table: "groups"
CREATE INDEX "group_updated_at" ON "groups" ("updated_at");
-- Create index "groups_name_key" to table: "groups"
CREATE UNIQUE INDEX "groups_name_key" ON "groups" ("name");
-- Create "group_members" table
CREATE TABLE "group_members" ("group_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("group_id", "user_id"), CONSTRAINT "group_members_group_id" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "group_members_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create "tickets" table
CREATE TABLE "tickets" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "number" bigint NOT NULL, "subject" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'NEW', "priority" bigint NOT NULL, "channel" character varying NOT NULL DEFAULT 'WEB', "tags" jsonb NULL, "first_response_due_at" timestamptz NULL, "resolution_due_at" timestamptz NULL, "first_responded_at" timestamptz NULL, "solved_at" timestamptz NULL, "group_id" character varying NULL, "requester_id" character varying NOT NULL, "assignee_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "tickets_groups_tickets" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "tickets_users_assigned_tickets" FOREIGN KEY ("assignee_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "tickets_users_requested_tickets" FOREIGN KEY ("requester_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "ticket_assignee_id_status" to table: "tickets"
CREATE INDEX "ticket_assignee_id_status" ON "tickets" ("assignee_id", "status");
-- Create index "ticket_created_at" to table: "tickets"
CREATE INDEX "ticket_created_at" ON "tickets" ("created_at");
-- Create index "ticket_group_id_status" to table: "tickets"
CREATE INDEX "ticket_group_id_status" ON "tickets" ("group_id", "status");
-- Create index "ticket_priority" to table: "tickets"
CREATE INDEX "ticket_priority" ON "tickets" ("priority");
-- Create index "ticket_requester_id_created_at" to table: "tickets"
CREATE INDEX "ticket_requester_id_created_at" ON "tickets" ("requester_id", "created_at");
-- Create index "ticket_status" to table: "tickets"
CREATE INDEX "ticket_status" ON "tickets" ("status");
-- Create index "ticket_updated_at" to table: "tickets"
CREATE INDEX "ticket_updated_at" ON "tickets" ("updated_at");
-- Create index "tickets_number_key" to table: "tickets"
CREATE UNIQUE INDEX "tickets_number_key" ON "tickets" ("number");
-- Create "messages" table
CREATE TABLE "messages" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "body" text NOT NULL, "internal" boolean NOT NULL DEFAULT false, "ticket_id" character varying NOT NULL, "author_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "messages_tickets_messages" FOREIGN KEY ("ticket_id") REFERENCES "tickets" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "messages_users_messages" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "message_author_id" to table: "messages"
CREATE INDEX "message_author_id" ON "messages" ("author_id");
-- Create index "message_created_at" to table: "messages"
CREATE INDEX "message_created_at" ON "messages" ("created_at");
-- Create index "message_ticket_id_created_at" to table: "messages"
CREATE INDEX "message_ticket_id_created_at" ON "messages" ("ticket_id", "created_at");
-- Create index "message_updated_at" to table: "messages"
CREATE INDEX "message_updated_at" ON "messages" ("updated_at");
-- Create "sessions" table
CREATE TABLE "sessions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "token_hash" bytea NOT NULL, "expires_at" timestamptz NOT NULL, "last_used_at" timestamptz NOT NULL, "revoked_at" timestamptz NULL, "user_agent" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "session_created_at" to table: "sessions"
CREATE INDEX "session_created_at" ON "sessions" ("created_at");
-- Create index "session_updated_at" to table: "sessions"
CREATE INDEX "session_updated_at" ON "sessions" ("updated_at");
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX "session_user_id" ON "sessions" ("user_id");
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" ("token_hash");
