-- Add column "before" to table: "events"
ALTER TABLE `events` ADD COLUMN `before` json NULL;
-- Add column "after" to table: "events"
ALTER TABLE `events` ADD COLUMN `after` json NULL;
-- Add column "members" to table: "events"
ALTER TABLE `events` ADD COLUMN `members` json NULL;
