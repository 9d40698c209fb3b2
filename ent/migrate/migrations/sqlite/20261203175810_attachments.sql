-- Create "attachments" table
CREATE TABLE `attachments` (`id` text NOT NULL, `filename` text NOT NULL, `size` integer NOT NULL, `content_type` text NOT NULL, `sha256` text NOT NULL, `created_at` datetime NOT NULL, `message_id` text NULL, `ticket_id` text NULL, `uploader_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `attachments_messages_attachments` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON DELETE SET NULL, CONSTRAINT `attachments_tickets_attachments` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE SET NULL, CONSTRAINT `attachments_users_attachments` FOREIGN KEY (`uploader_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "attachment_message_id" to table: "attachments"
CREATE INDEX `attachment_message_id` ON `attachments` (`message_id`);
-- Create index "attachment_ticket_id" to table: "attachments"
CREATE INDEX `attachment_ticket_id` ON `attachments` (`ticket_id`);
-- Create index "attachment_sha256" to table: "attachments"
CREATE INDEX `attachment_sha256` ON `attachments` (`sha256`);
-- Create index "attachment_uploader_id_created_at" to table: "attachments"
CREATE INDEX `attachment_uploader_id_created_at` ON `attachments` (`uploader_id`, `created_at`);
