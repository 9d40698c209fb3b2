-- Create "api_tokens" table
CREATE TABLE `api_tokens` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `token_hash` blob NOT NULL, `scope` text NOT NULL DEFAULT ('READ'), `expires_at` datetime NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `api_tokens_users_api_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "api_tokens_token_hash_key" to table: "api_tokens"
CREATE UNIQUE INDEX `api_tokens_token_hash_key` ON `api_tokens` (`token_hash`);
-- Create index "apitoken_created_at" to table: "api_tokens"
CREATE INDEX `apitoken_created_at` ON `api_tokens` (`created_at`);
-- Create index "apitoken_updated_at" to table: "api_tokens"
CREATE INDEX `apitoken_updated_at` ON `api_tokens` (`updated_at`);
-- Create index "apitoken_user_id" to table: "api_tokens"
CREATE INDEX `apitoken_user_id` ON `api_tokens` (`user_id`);
-- Create "events" table
CREATE TABLE `events` (`id` text NOT NULL, `cursor` integer NOT NULL, `type` text NOT NULL, `ticket_id` text NULL, `group_id` text NULL, `requester_id` text NULL, `assignee_id` text NULL, `message_id` text NULL, `actor_id` text NULL, `internal` bool NOT NULL DEFAULT (false), `changes` json NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "events_cursor_key" to table: "events"
CREATE UNIQUE INDEX `events_cursor_key` ON `events` (`cursor`);
-- Create index "event_created_at" to table: "events"
CREATE INDEX `event_created_at` ON `events` (`created_at`);
-- Create index "event_ticket_id_cursor" to table: "events"
CREATE INDEX `event_ticket_id_cursor` ON `events` (`ticket_id`, `cursor`);
-- Create index "event_requester_id_cursor" to table: "events"
CREATE INDEX `event_requester_id_cursor` ON `events` (`requester_id`, `cursor`);
-- Create "groups" table
CREATE TABLE `groups` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `description` text NULL, PRIMARY KEY (`id`));
-- Create index "groups_name_key" to table: "groups"
CREATE UNIQUE INDEX `groups_name_key` ON `groups` (`name`);
-- Create index "group_created_at" to table: "groups"
CREATE INDEX `group_created_at` ON `groups` (`created_at`);
-- Create index "group_updated_at" to table: "groups"
CREATE INDEX `group_updated_at` ON `groups` (`updated_at`);
-- Create "messages" table
CREATE TABLE `messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `body` text NOT NULL, `internal` bool NOT NULL DEFAULT (false), `ticket_id` text NOT NULL, `author_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `messages_tickets_messages` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE NO ACTION, CONSTRAINT `messages_users_messages` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "message_created_at" to table: "messages"
CREATE INDEX `message_created_at` ON `messages` (`created_at`);
-- Create index "message_updated_at" to table: "messages"
CREATE INDEX `message_updated_at` ON `messages` (`updated_at`);
-- Create index "message_ticket_id_created_at" to table: "messages"
CREATE INDEX `message_ticket_id_created_at` ON `messages` (`ticket_id`, `created_at`);
-- Create index "message_author_id" to table: "messages"
CREATE INDEX `message_author_id` ON `messages` (`author_id`);
-- Create "sla_policies" table
CREATE TABLE `sla_policies` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `priority` integer NOT NULL, `first_response_minutes` integer NOT NULL, `resolution_minutes` integer NOT NULL, PRIMARY KEY (`id`));
-- Create index "sla_policies_priority_key" to table: "sla_policies"
CREATE UNIQUE INDEX `sla_policies_priority_key` ON `sla_policies` (`priority`);
-- Create index "slapolicy_created_at" to table: "sla_policies"
CREATE INDEX `slapolicy_created_at` ON `sla_policies` (`created_at`);
-- Create index "slapolicy_updated_at" to table: "sla_policies"
CREATE INDEX `slapolicy_updated_at` ON `sla_policies` (`updated_at`);
-- Create "sequences" table
CREATE TABLE `sequences` (`id` text NOT NULL, `name` text NOT NULL, `value` integer NOT NULL, PRIMARY KEY (`id`));
-- Create index "sequences_name_key" to table: "sequences"
CREATE UNIQUE INDEX `sequences_name_key` ON `sequences` (`name`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` blob NOT NULL, `expires_at` datetime NOT NULL, `last_used_at` datetime NOT NULL, `revoked_at` datetime NULL, `user_agent` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create index "session_created_at" to table: "sessions"
CREATE INDEX `session_created_at` ON `sessions` (`created_at`);
-- Create index "session_updated_at" to table: "sessions"
CREATE INDEX `session_updated_at` ON `sessions` (`updated_at`);
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- Create "tickets" table
CREATE TABLE `tickets` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` integer NOT NULL, `subject` text NOT NULL, `status` text NOT NULL DEFAULT ('NEW'), `priority` integer NOT NULL, `channel` text NOT NULL DEFAULT ('WEB'), `tags` json NULL, `first_response_due_at` datetime NULL, `resolution_due_at` datetime NULL, `first_responded_at` datetime NULL, `solved_at` datetime NULL, `group_id` text NULL, `requester_id` text NOT NULL, `assignee_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `tickets_groups_tickets` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE SET NULL, CONSTRAINT `tickets_users_requested_tickets` FOREIGN KEY (`requester_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `tickets_users_assigned_tickets` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "tickets_number_key" to table: "tickets"
CREATE UNIQUE INDEX `tickets_number_key` ON `tickets` (`number`);
-- Create index "ticket_created_at" to table: "tickets"
CREATE INDEX `ticket_created_at` ON `tickets` (`created_at`);
-- Create index "ticket_updated_at" to table: "tickets"
CREATE INDEX `ticket_updated_at` ON `tickets` (`updated_at`);
-- Create index "ticket_status" to table: "tickets"
CREATE INDEX `ticket_status` ON `tickets` (`status`);
-- Create index "ticket_priority" to table: "tickets"
CREATE INDEX `ticket_priority` ON `tickets` (`priority`);
-- Create index "ticket_requester_id_created_at" to table: "tickets"
CREATE INDEX `ticket_requester_id_created_at` ON `tickets` (`requester_id`, `created_at`);
-- Create index "ticket_assignee_id_status" to table: "tickets"
CREATE INDEX `ticket_assignee_id_status` ON `tickets` (`assignee_id`, `status`);
-- Create index "ticket_group_id_status" to table: "tickets"
CREATE INDEX `ticket_group_id_status` ON `tickets` (`group_id`, `status`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL, `role` text NOT NULL DEFAULT ('CUSTOMER'), `password_hash` text NULL, `phone` text NULL, `active` bool NOT NULL DEFAULT (true), `last_seen_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create index "user_created_at" to table: "users"
CREATE INDEX `user_created_at` ON `users` (`created_at`);
-- Create index "user_updated_at" to table: "users"
CREATE INDEX `user_updated_at` ON `users` (`updated_at`);
-- Create index "user_role" to table: "users"
CREATE INDEX `user_role` ON `users` (`role`);
-- Create index "user_name" to table: "users"
CREATE INDEX `user_name` ON `users` (`name`);
-- Create "group_members" table
CREATE TABLE `group_members` (`group_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`group_id`, `user_id`), CONSTRAINT `group_members_group_id` FOREIGN KEY (`group_id`) REFERENCES `groups` (`id`) ON DELETE CASCADE, CONSTRAINT `group_members_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
