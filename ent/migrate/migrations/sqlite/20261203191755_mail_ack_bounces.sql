-- Add column "email_bounced_at" to table: "users"
ALTER TABLE `users` ADD COLUMN `email_bounced_at` datetime NULL;
