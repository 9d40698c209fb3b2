-- Create index "apitoken_created_at_id" to table: "api_tokens"
CREATE INDEX `apitoken_created_at_id` ON `api_tokens` (`created_at` DESC, `id`);
-- Create index "apitoken_updated_at_id" to table: "api_tokens"
CREATE INDEX `apitoken_updated_at_id` ON `api_tokens` (`updated_at` DESC, `id`);
-- Create index "group_created_at_id" to table: "groups"
CREATE INDEX `group_created_at_id` ON `groups` (`created_at` DESC, `id`);
-- Create index "group_updated_at_id" to table: "groups"
CREATE INDEX `group_updated_at_id` ON `groups` (`updated_at` DESC, `id`);
-- Create index "slapolicy_created_at_id" to table: "sla_policies"
CREATE INDEX `slapolicy_created_at_id` ON `sla_policies` (`created_at` DESC, `id`);
-- Create index "slapolicy_updated_at_id" to table: "sla_policies"
CREATE INDEX `slapolicy_updated_at_id` ON `sla_policies` (`updated_at` DESC, `id`);
-- Create index "session_created_at_id" to table: "sessions"
CREATE INDEX `session_created_at_id` ON `sessions` (`created_at` DESC, `id`);
-- Create index "session_updated_at_id" to table: "sessions"
CREATE INDEX `session_updated_at_id` ON `sessions` (`updated_at` DESC, `id`);
-- Create index "ticket_created_at_id" to table: "tickets"
CREATE INDEX `ticket_created_at_id` ON `tickets` (`created_at` DESC, `id`);
-- Create index "ticket_updated_at_id" to table: "tickets"
CREATE INDEX `ticket_updated_at_id` ON `tickets` (`updated_at` DESC, `id`);
-- Create index "user_created_at_id" to table: "users"
CREATE INDEX `user_created_at_id` ON `users` (`created_at` DESC, `id`);
-- Create index "user_updated_at_id" to table: "users"
CREATE INDEX `user_updated_at_id` ON `users` (`updated_at` DESC, `id`);
-- Create index "macro_created_at_id" to table: "macros"
CREATE INDEX `macro_created_at_id` ON `macros` (`created_at` DESC, `id`);
-- Create index "macro_updated_at_id" to table: "macros"
CREATE INDEX `macro_updated_at_id` ON `macros` (`updated_at` DESC, `id`);
-- Create index "routingrule_created_at_id" to table: "routing_rules"
CREATE INDEX `routingrule_created_at_id` ON `routing_rules` (`created_at` DESC, `id`);
-- Create index "routingrule_updated_at_id" to table: "routing_rules"
CREATE INDEX `routingrule_updated_at_id` ON `routing_rules` (`updated_at` DESC, `id`);
-- Create index "savedview_created_at_id" to table: "saved_views"
CREATE INDEX `savedview_created_at_id` ON `saved_views` (`created_at` DESC, `id`);
-- Create index "savedview_updated_at_id" to table: "saved_views"
CREATE INDEX `savedview_updated_at_id` ON `saved_views` (`updated_at` DESC, `id`);
-- Create index "message_created_at_id" to table: "messages"
CREATE INDEX `message_created_at_id` ON `messages` (`created_at` DESC, `id`);
-- Create index "message_updated_at_id" to table: "messages"
CREATE INDEX `message_updated_at_id` ON `messages` (`updated_at` DESC, `id`);
-- Drop index "apitoken_created_at": "apitoken_created_at_id" orders as it does, and exactly
DROP INDEX `apitoken_created_at`;
-- Drop index "apitoken_updated_at": "apitoken_updated_at_id" orders as it does, and exactly
DROP INDEX `apitoken_updated_at`;
-- Drop index "group_created_at": "group_created_at_id" orders as it does, and exactly
DROP INDEX `group_created_at`;
-- Drop index "group_updated_at": "group_updated_at_id" orders as it does, and exactly
DROP INDEX `group_updated_at`;
-- Drop index "macro_created_at": "macro_created_at_id" orders as it does, and exactly
DROP INDEX `macro_created_at`;
-- Drop index "macro_updated_at": "macro_updated_at_id" orders as it does, and exactly
DROP INDEX `macro_updated_at`;
-- Drop index "message_created_at": "message_created_at_id" orders as it does, and exactly
DROP INDEX `message_created_at`;
-- Drop index "message_updated_at": "message_updated_at_id" orders as it does, and exactly
DROP INDEX `message_updated_at`;
-- Drop index "routingrule_created_at": "routingrule_created_at_id" orders as it does, and exactly
DROP INDEX `routingrule_created_at`;
-- Drop index "routingrule_updated_at": "routingrule_updated_at_id" orders as it does, and exactly
DROP INDEX `routingrule_updated_at`;
-- Drop index "savedview_created_at": "savedview_created_at_id" orders as it does, and exactly
DROP INDEX `savedview_created_at`;
-- Drop index "savedview_updated_at": "savedview_updated_at_id" orders as it does, and exactly
DROP INDEX `savedview_updated_at`;
-- Drop index "session_created_at": "session_created_at_id" orders as it does, and exactly
DROP INDEX `session_created_at`;
-- Drop index "session_updated_at": "session_updated_at_id" orders as it does, and exactly
DROP INDEX `session_updated_at`;
-- Drop index "slapolicy_created_at": "slapolicy_created_at_id" orders as it does, and exactly
DROP INDEX `slapolicy_created_at`;
-- Drop index "slapolicy_updated_at": "slapolicy_updated_at_id" orders as it does, and exactly
DROP INDEX `slapolicy_updated_at`;
-- Drop index "ticket_created_at": "ticket_created_at_id" orders as it does, and exactly
DROP INDEX `ticket_created_at`;
-- Drop index "ticket_updated_at": "ticket_updated_at_id" orders as it does, and exactly
DROP INDEX `ticket_updated_at`;
-- Drop index "user_created_at": "user_created_at_id" orders as it does, and exactly
DROP INDEX `user_created_at`;
-- Drop index "user_updated_at": "user_updated_at_id" orders as it does, and exactly
DROP INDEX `user_updated_at`;
