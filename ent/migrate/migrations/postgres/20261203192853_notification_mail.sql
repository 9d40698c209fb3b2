-- Modify "outbox_messages" table
ALTER TABLE "outbox_messages" ADD COLUMN "list_unsubscribe" character varying NULL;
