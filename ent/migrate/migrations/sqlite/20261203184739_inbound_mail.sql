-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_messages" table
CREATE TABLE `new_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `body` text NOT NULL, `internal` bool NOT NULL DEFAULT (false), `email_message_id` text NULL, `email_original` text NULL, `ticket_id` text NOT NULL, `author_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `messages_tickets_messages` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE NO ACTION, CONSTRAINT `messages_users_messages` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "messages" to new temporary table "new_messages"
INSERT INTO `new_messages` (`id`, `created_at`, `updated_at`, `body`, `internal`, `ticket_id`, `author_id`) SELECT `id`, `created_at`, `updated_at`, `body`, `internal`, `ticket_id`, `author_id` FROM `messages`;
-- Drop "messages" table after copying rows
DROP TABLE `messages`;
-- Rename temporary table "new_messages" to "messages"
ALTER TABLE `new_messages` RENAME TO `messages`;
-- Create index "message_created_at" to table: "messages"
CREATE INDEX `message_created_at` ON `messages` (`created_at`);
-- Create index "message_updated_at" to table: "messages"
CREATE INDEX `message_updated_at` ON `messages` (`updated_at`);
-- Create index "message_ticket_id_created_at" to table: "messages"
CREATE INDEX `message_ticket_id_created_at` ON `messages` (`ticket_id`, `created_at`);
-- Create index "message_author_id" to table: "messages"
CREATE INDEX `message_author_id` ON `messages` (`author_id`);
-- Create index "message_email_message_id" to table: "messages"
CREATE INDEX `message_email_message_id` ON `messages` (`email_message_id`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
