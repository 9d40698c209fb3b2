-- Create index "message_ticket_id_id" to table: "messages"
CREATE INDEX "message_ticket_id_id" ON "messages" ("ticket_id", "id");
