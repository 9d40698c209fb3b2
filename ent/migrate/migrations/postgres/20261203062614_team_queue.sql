-- Modify "events" table
ALTER TABLE "events" ADD COLUMN "notified" jsonb NULL;
-- Modify "groups" table
ALTER TABLE "groups" ADD COLUMN "is_default" boolean NOT NULL DEFAULT false, ADD COLUMN "auto_assign" character varying NOT NULL DEFAULT 'OFF', ADD COLUMN "notify_unassigned" boolean NOT NULL DEFAULT true;
-- Create "routing_rules" table
CREATE TABLE "routing_rules" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "position" bigint NOT NULL DEFAULT 0, "enabled" boolean NOT NULL DEFAULT true, "channels" jsonb NULL, "words" jsonb NULL, "email_domains" jsonb NULL, "priorities" jsonb NULL, "tags" jsonb NULL, "set_priority" bigint NULL, "add_tags" jsonb NULL, "round_robin" boolean NOT NULL DEFAULT false, "group_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "routing_rules_groups_routing_rules" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "routingrule_created_at" to table: "routing_rules"
CREATE INDEX "routingrule_created_at" ON "routing_rules" ("created_at");
-- Create index "routingrule_position" to table: "routing_rules"
CREATE INDEX "routingrule_position" ON "routing_rules" ("position");
-- Create index "routingrule_updated_at" to table: "routing_rules"
CREATE INDEX "routingrule_updated_at" ON "routing_rules" ("updated_at");
-- Modify "tickets" table
ALTER TABLE "tickets" ADD COLUMN "routing_rule_id" character varying NULL, ADD CONSTRAINT "tickets_routing_rules_tickets" FOREIGN KEY ("routing_rule_id") REFERENCES "routing_rules" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "ticket_first_response_due_at" to table: "tickets"
CREATE INDEX "ticket_first_response_due_at" ON "tickets" ("first_response_due_at");
-- Create index "ticket_resolution_due_at" to table: "tickets"
CREATE INDEX "ticket_resolution_due_at" ON "tickets" ("resolution_due_at");
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "away" boolean NOT NULL DEFAULT false, ADD COLUMN "muted_notifications" jsonb NULL;
-- Create "follows" table
CREATE TABLE "follows" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "ticket_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "follows_tickets_follows" FOREIGN KEY ("ticket_id") REFERENCES "tickets" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "follows_users_follows" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "follow_ticket_id_user_id" to table: "follows"
CREATE UNIQUE INDEX "follow_ticket_id_user_id" ON "follows" ("ticket_id", "user_id");
-- Create index "follow_user_id" to table: "follows"
CREATE INDEX "follow_user_id" ON "follows" ("user_id");
-- Create "macros" table
CREATE TABLE "macros" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "body" text NULL, "internal" boolean NOT NULL DEFAULT false, "set_status" character varying NULL, "set_priority" bigint NULL, "add_tags" jsonb NULL, "remove_tags" jsonb NULL, "group_id" character varying NULL, "move_to_group_id" character varying NULL, "assign_to_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "macros_groups_macros" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "macros_groups_macros_moving_here" FOREIGN KEY ("move_to_group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "macros_users_macros_assigning" FOREIGN KEY ("assign_to_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "macro_created_at" to table: "macros"
CREATE INDEX "macro_created_at" ON "macros" ("created_at");
-- Create index "macro_updated_at" to table: "macros"
CREATE INDEX "macro_updated_at" ON "macros" ("updated_at");
-- Create index "macros_name_key" to table: "macros"
CREATE UNIQUE INDEX "macros_name_key" ON "macros" ("name");
-- Create "mentions" table
CREATE TABLE "mentions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "message_id" character varying NOT NULL, "ticket_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "mentions_messages_mentions" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "mentions_tickets_mentions" FOREIGN KEY ("ticket_id") REFERENCES "tickets" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "mentions_users_mentions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "mention_message_id_user_id" to table: "mentions"
CREATE UNIQUE INDEX "mention_message_id_user_id" ON "mentions" ("message_id", "user_id");
-- Create index "mention_user_id" to table: "mentions"
CREATE INDEX "mention_user_id" ON "mentions" ("user_id");
-- Create "notifications" table
CREATE TABLE "notifications" ("id" character varying NOT NULL, "kind" character varying NOT NULL, "event_cursor" bigint NOT NULL, "read_at" timestamptz NULL, "created_at" timestamptz NOT NULL, "message_id" character varying NULL, "ticket_id" character varying NOT NULL, "recipient_id" character varying NOT NULL, "actor_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "notifications_messages_notifications" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "notifications_tickets_notifications" FOREIGN KEY ("ticket_id") REFERENCES "tickets" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "notifications_users_caused_notifications" FOREIGN KEY ("actor_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "notifications_users_notifications" FOREIGN KEY ("recipient_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "notification_recipient_id_event_cursor" to table: "notifications"
CREATE UNIQUE INDEX "notification_recipient_id_event_cursor" ON "notifications" ("recipient_id", "event_cursor");
-- Create index "notification_recipient_id_read_at" to table: "notifications"
CREATE INDEX "notification_recipient_id_read_at" ON "notifications" ("recipient_id", "read_at");
-- Create index "notification_ticket_id" to table: "notifications"
CREATE INDEX "notification_ticket_id" ON "notifications" ("ticket_id");
-- Create "saved_views" table
CREATE TABLE "saved_views" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "ticket_filter" jsonb NULL, "ticket_order" jsonb NULL, "group_id" character varying NULL, "owner_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "saved_views_groups_saved_views" FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "saved_views_users_saved_views" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "savedview_created_at" to table: "saved_views"
CREATE INDEX "savedview_created_at" ON "saved_views" ("created_at");
-- Create index "savedview_group_id" to table: "saved_views"
CREATE INDEX "savedview_group_id" ON "saved_views" ("group_id");
-- Create index "savedview_owner_id" to table: "saved_views"
CREATE INDEX "savedview_owner_id" ON "saved_views" ("owner_id");
-- Create index "savedview_updated_at" to table: "saved_views"
CREATE INDEX "savedview_updated_at" ON "saved_views" ("updated_at");
