-- Create "outbox_messages" table
CREATE TABLE `outbox_messages` (`id` text NOT NULL, `kind` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `recipient` text NOT NULL, `message_id` text NOT NULL, `ticket_id` text NULL, `ticket_message_id` text NULL, `in_reply_to` text NULL, `references` text NULL, `reply_to` text NULL, `auto_submitted` text NULL, `subject` text NOT NULL, `text_body` text NOT NULL, `html_body` text NULL, `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `lease_owner` text NULL, `lease_until` datetime NULL, `sent_at` datetime NULL, `last_error` text NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "outbox_messages_message_id_key" to table: "outbox_messages"
CREATE UNIQUE INDEX `outbox_messages_message_id_key` ON `outbox_messages` (`message_id`);
-- Create index "outboxmessage_status_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_status_next_attempt_at` ON `outbox_messages` (`status`, `next_attempt_at`);
-- Create index "outboxmessage_ticket_id_created_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_ticket_id_created_at` ON `outbox_messages` (`ticket_id`, `created_at`);
-- Create "password_resets" table
CREATE TABLE `password_resets` (`id` text NOT NULL, `token_hash` blob NOT NULL, `user_id` text NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "password_resets_token_hash_key" to table: "password_resets"
CREATE UNIQUE INDEX `password_resets_token_hash_key` ON `password_resets` (`token_hash`);
-- Create index "passwordreset_user_id_created_at" to table: "password_resets"
CREATE INDEX `passwordreset_user_id_created_at` ON `password_resets` (`user_id`, `created_at`);
