-- Add column "list_unsubscribe" to table: "outbox_messages"
ALTER TABLE `outbox_messages` ADD COLUMN `list_unsubscribe` text NULL;
