-- Add column "notified" to table: "events"
ALTER TABLE `events` ADD COLUMN `notified` json NULL;
-- Add the team's settings to "groups" (columns, not a rebuilt table: a
-- rebuild inside the migration's transaction would drop the rows other
-- tables reference)
ALTER TABLE `groups` ADD COLUMN `is_default` bool NOT NULL DEFAULT (false);
ALTER TABLE `groups` ADD COLUMN `auto_assign` text NOT NULL DEFAULT ('OFF');
ALTER TABLE `groups` ADD COLUMN `notify_unassigned` bool NOT NULL DEFAULT (true);
-- Add "away" and "muted_notifications" to "users"
ALTER TABLE `users` ADD COLUMN `away` bool NOT NULL DEFAULT (false);
ALTER TABLE `users` ADD COLUMN `muted_notifications` json NULL;
-- Add "routing_rule_id" to "tickets"
ALTER TABLE `tickets` ADD COLUMN `routing_rule_id` text NULL CONSTRAINT `tickets_routing_rules_tickets` REFERENCES `routing_rules` (`id`) ON DELETE SET NULL;
-- Create index "ticket_first_response_due_at" to table: "tickets"
CREATE INDEX `ticket_first_response_due_at` ON `tickets` (`first_response_due_at`);
-- Create index "ticket_resolution_due_at" to table: "tickets"
CREATE INDEX `ticket_resolution_due_at` ON `tickets` (`resolution_due_at`);
-- Create "follows" table
CREATE TABLE `follows` (`id` text NOT NULL, `created_at` datetime NOT NULL, `ticket_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `follows_tickets_follows` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE NO ACTION, CONSTRAINT `follows_users_follows` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "follow_ticket_id_user_id" to table: "follows"
CREATE UNIQUE INDEX `follow_ticket_id_user_id` ON `follows` (`ticket_id`, `user_id`);
-- Create index "follow_user_id" to table: "follows"
CREATE INDEX `follow_user_id` ON `follows` (`user_id`);
-- Create "macros" table
CREATE TABLE `macros` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `body` text NULL, `internal` bool NOT NULL DEFAULT (false), `set_status` text NULL, `set_priority` integer NULL, `add_tags` json NULL, `remove_tags` json NULL, `group_id` text NULL, `move_to_group_id` text NULL, `assign_to_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `macros_groups_macros` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE SET NULL, CONSTRAINT `macros_groups_macros_moving_here` FOREIGN KEY (`move_to_group_id`) REFERENCES `groups` (`id`) ON DELETE SET NULL, CONSTRAINT `macros_users_macros_assigning` FOREIGN KEY (`assign_to_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "macros_name_key" to table: "macros"
CREATE UNIQUE INDEX `macros_name_key` ON `macros` (`name`);
-- Create index "macro_created_at" to table: "macros"
CREATE INDEX `macro_created_at` ON `macros` (`created_at`);
-- Create index "macro_updated_at" to table: "macros"
CREATE INDEX `macro_updated_at` ON `macros` (`updated_at`);
-- Create "mentions" table
CREATE TABLE `mentions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `message_id` text NOT NULL, `ticket_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `mentions_messages_mentions` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE NO ACTION, CONSTRAINT `mentions_tickets_mentions` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE NO ACTION, CONSTRAINT `mentions_users_mentions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "mention_message_id_user_id" to table: "mentions"
CREATE UNIQUE INDEX `mention_message_id_user_id` ON `mentions` (`message_id`, `user_id`);
-- Create index "mention_user_id" to table: "mentions"
CREATE INDEX `mention_user_id` ON `mentions` (`user_id`);
-- Create "notifications" table
CREATE TABLE `notifications` (`id` text NOT NULL, `kind` text NOT NULL, `event_cursor` integer NOT NULL, `read_at` datetime NULL, `created_at` datetime NOT NULL, `message_id` text NULL, `ticket_id` text NOT NULL, `recipient_id` text NOT NULL, `actor_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `notifications_messages_notifications` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE SET NULL, CONSTRAINT `notifications_tickets_notifications` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE NO ACTION, CONSTRAINT `notifications_users_notifications` FOREIGN KEY (`recipient_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `notifications_users_caused_notifications` FOREIGN KEY (`actor_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "notification_recipient_id_event_cursor" to table: "notifications"
CREATE UNIQUE INDEX `notification_recipient_id_event_cursor` ON `notifications` (`recipient_id`, `event_cursor`);
-- Create index "notification_recipient_id_read_at" to table: "notifications"
CREATE INDEX `notification_recipient_id_read_at` ON `notifications` (`recipient_id`, `read_at`);
-- Create index "notification_ticket_id" to table: "notifications"
CREATE INDEX `notification_ticket_id` ON `notifications` (`ticket_id`);
-- Create "routing_rules" table
CREATE TABLE `routing_rules` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `enabled` bool NOT NULL DEFAULT (true), `channels` json NULL, `words` json NULL, `email_domains` json NULL, `priorities` json NULL, `tags` json NULL, `set_priority` integer NULL, `add_tags` json NULL, `round_robin` bool NOT NULL DEFAULT (false), `group_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `routing_rules_groups_routing_rules` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE SET NULL);
-- Create index "routingrule_created_at" to table: "routing_rules"
CREATE INDEX `routingrule_created_at` ON `routing_rules` (`created_at`);
-- Create index "routingrule_updated_at" to table: "routing_rules"
CREATE INDEX `routingrule_updated_at` ON `routing_rules` (`updated_at`);
-- Create index "routingrule_position" to table: "routing_rules"
CREATE INDEX `routingrule_position` ON `routing_rules` (`position`);
-- Create "saved_views" table
CREATE TABLE `saved_views` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `ticket_filter` json NULL, `ticket_order` json NULL, `group_id` text NULL, `owner_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `saved_views_groups_saved_views` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE SET NULL, CONSTRAINT `saved_views_users_saved_views` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "savedview_created_at" to table: "saved_views"
CREATE INDEX `savedview_created_at` ON `saved_views` (`created_at`);
-- Create index "savedview_updated_at" to table: "saved_views"
CREATE INDEX `savedview_updated_at` ON `saved_views` (`updated_at`);
-- Create index "savedview_owner_id" to table: "saved_views"
CREATE INDEX `savedview_owner_id` ON `saved_views` (`owner_id`);
-- Create index "savedview_group_id" to table: "saved_views"
CREATE INDEX `savedview_group_id` ON `saved_views` (`group_id`);
