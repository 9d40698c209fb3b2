package search

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent"
)

// The search index lives outside ent's schema: one row per ticket in
// search_documents, kept current by triggers on tickets and messages (so
// rows written with raw SQL or COPY, bypassing ent's hooks, are indexed
// too) in the same transaction as the change. Schema lists the statements
// per dialect; every one is idempotent. search_settings remembers the
// language the index was built with, so that Install rebuilds it when the
// setting changes.

// languagePattern is what a language setting may look like: a PostgreSQL
// text search configuration name (it is written into SQL as a literal).
var languagePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidLanguage checks the form of a language setting (whether PostgreSQL
// knows it is checked by Install).
func ValidLanguage(language string) error {
	if !languagePattern.MatchString(language) {
		return fmt.Errorf("%q is not a text search configuration name such as english, simple or german", language)
	}
	return nil
}

// Schema returns the statements that create the search index for the
// dialect and language, in order. Each is idempotent.
func Schema(d, language string) ([]string, error) {
	if err := ValidLanguage(language); err != nil {
		return nil, err
	}
	if d == dialect.Postgres {
		return postgresSchema(language), nil
	}
	return sqliteSchema(language), nil
}

func postgresSchema(language string) []string {
	cfg := "'" + language + "'::regconfig"
	return []string{
		`CREATE TABLE IF NOT EXISTS search_settings (name varchar PRIMARY KEY, value varchar NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS search_documents (
			ticket_id varchar PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
			requester_id varchar NOT NULL,
			tsv tsvector NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS search_documents_tsv ON search_documents USING gin (tsv)`,
		`CREATE INDEX IF NOT EXISTS search_documents_requester ON search_documents (requester_id)`,
		// A message's lexemes: weight B for replies, D for internal notes
		// (customers' searches see only A and B).
		`CREATE OR REPLACE FUNCTION search_message_tsv(body text, internal boolean) RETURNS tsvector
		LANGUAGE sql IMMUTABLE AS $$
			SELECT setweight(to_tsvector(` + cfg + `, body), CASE WHEN internal THEN 'D' ELSE 'B' END::"char")
		$$`,
		// A ticket's whole document: the subject (A), then its messages in
		// order. A tsvector holds at most 1 MB: text past that is left out.
		`CREATE OR REPLACE FUNCTION search_ticket_tsv(tid varchar) RETURNS tsvector
		LANGUAGE plpgsql STABLE AS $$
		DECLARE
			doc tsvector;
			m record;
		BEGIN
			SELECT setweight(to_tsvector(` + cfg + `, subject), 'A') INTO doc FROM tickets WHERE id = tid;
			IF doc IS NULL THEN
				RETURN NULL;
			END IF;
			FOR m IN SELECT body, internal FROM messages WHERE ticket_id = tid ORDER BY created_at, id LOOP
				BEGIN
					doc := doc || search_message_tsv(m.body, m.internal);
				EXCEPTION WHEN program_limit_exceeded THEN
					RETURN doc;
				END;
			END LOOP;
			RETURN doc;
		END $$`,
		// Concatenates tsvectors in order (the || operator as an aggregate).
		`CREATE OR REPLACE AGGREGATE search_tsvector_agg(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '')`,
		// Inserts are indexed once per statement, from its transition
		// table: a batched INSERT or COPY of many rows updates each
		// ticket's document once, not once per message.
		`CREATE OR REPLACE FUNCTION search_tickets_inserted() RETURNS trigger
		LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO search_documents (ticket_id, requester_id, tsv)
			SELECT id, requester_id, setweight(to_tsvector(` + cfg + `, subject), 'A') FROM search_new_tickets
			ON CONFLICT (ticket_id) DO UPDATE SET tsv = EXCLUDED.tsv;
			RETURN NULL;
		END $$`,
		`CREATE OR REPLACE FUNCTION search_subject_changed() RETURNS trigger
		LANGUAGE plpgsql AS $$
		BEGIN
			UPDATE search_documents SET tsv = search_ticket_tsv(NEW.id) WHERE ticket_id = NEW.id;
			RETURN NULL;
		END $$`,
		`CREATE OR REPLACE FUNCTION search_messages_inserted() RETURNS trigger
		LANGUAGE plpgsql AS $$
		DECLARE
			added record;
		BEGIN
			BEGIN
				FOR added IN
					SELECT ticket_id, search_tsvector_agg(search_message_tsv(body, internal) ORDER BY created_at, id) AS tsv
					FROM search_new_messages GROUP BY ticket_id
				LOOP
					BEGIN
						UPDATE search_documents SET tsv = tsv || added.tsv WHERE ticket_id = added.ticket_id;
					EXCEPTION WHEN program_limit_exceeded THEN
						NULL; -- the ticket's document is full (1 MB)
					END;
				END LOOP;
			EXCEPTION WHEN program_limit_exceeded THEN
				-- One ticket's new messages alone outgrow a document: add
				-- them one by one, as many as fit.
				FOR added IN SELECT ticket_id, body, internal FROM search_new_messages ORDER BY created_at, id LOOP
					BEGIN
						UPDATE search_documents SET tsv = tsv || search_message_tsv(added.body, added.internal)
						WHERE ticket_id = added.ticket_id;
					EXCEPTION WHEN program_limit_exceeded THEN
						NULL;
					END;
				END LOOP;
			END;
			RETURN NULL;
		END $$`,
		`CREATE OR REPLACE FUNCTION search_messages_changed() RETURNS trigger
		LANGUAGE plpgsql AS $$
		BEGIN
			UPDATE search_documents SET tsv = search_ticket_tsv(OLD.ticket_id) WHERE ticket_id = OLD.ticket_id;
			IF TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id THEN
				UPDATE search_documents SET tsv = search_ticket_tsv(NEW.ticket_id) WHERE ticket_id = NEW.ticket_id;
			END IF;
			RETURN NULL;
		END $$`,
		`DROP TRIGGER IF EXISTS search_tickets_insert ON tickets`,
		`CREATE TRIGGER search_tickets_insert AFTER INSERT ON tickets
			REFERENCING NEW TABLE AS search_new_tickets FOR EACH STATEMENT EXECUTE FUNCTION search_tickets_inserted()`,
		`DROP TRIGGER IF EXISTS search_tickets_subject ON tickets`,
		`CREATE TRIGGER search_tickets_subject AFTER UPDATE OF subject ON tickets
			FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject) EXECUTE FUNCTION search_subject_changed()`,
		// The API never changes a requester; an import may. The copy in
		// search_documents decides which customer finds the ticket.
		`CREATE OR REPLACE FUNCTION search_requester_changed() RETURNS trigger
		LANGUAGE plpgsql AS $$
		BEGIN
			UPDATE search_documents SET requester_id = NEW.requester_id WHERE ticket_id = NEW.id;
			RETURN NULL;
		END $$`,
		`DROP TRIGGER IF EXISTS search_tickets_requester ON tickets`,
		`CREATE TRIGGER search_tickets_requester AFTER UPDATE OF requester_id ON tickets
			FOR EACH ROW WHEN (OLD.requester_id IS DISTINCT FROM NEW.requester_id) EXECUTE FUNCTION search_requester_changed()`,
		`DROP TRIGGER IF EXISTS search_messages_insert ON messages`,
		`CREATE TRIGGER search_messages_insert AFTER INSERT ON messages
			REFERENCING NEW TABLE AS search_new_messages FOR EACH STATEMENT EXECUTE FUNCTION search_messages_inserted()`,
		`DROP TRIGGER IF EXISTS search_messages_change ON messages`,
		`CREATE TRIGGER search_messages_change AFTER UPDATE OF body, internal, ticket_id OR DELETE ON messages
			FOR EACH ROW EXECUTE FUNCTION search_messages_changed()`,
	}
}

// sqliteTokenizer is the FTS5 tokenizer for a language: Porter stemming
// for English, otherwise words folded to lower case without accents.
func sqliteTokenizer(language string) string {
	if language == "english" {
		return "porter unicode61 remove_diacritics 2"
	}
	return "unicode61 remove_diacritics 2"
}

// sqliteRecompute rebuilds the message text of the ticket whose id the
// expression ref names.
func sqliteRecompute(ref string) string {
	return `UPDATE search_documents SET
		public_text = coalesce((SELECT group_concat(body, char(10)) FROM
			(SELECT body FROM messages WHERE ticket_id = ` + ref + ` AND NOT internal ORDER BY created_at, id)), ''),
		internal_text = coalesce((SELECT group_concat(body, char(10)) FROM
			(SELECT body FROM messages WHERE ticket_id = ` + ref + ` AND internal ORDER BY created_at, id)), '')
		WHERE ticket_id = ` + ref + `;`
}

// sqliteIndexTable is the FTS5 table over search_documents.
func sqliteIndexTable(language string) string {
	return `CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5(subject, public_text, internal_text,
		content='search_documents', content_rowid='doc_id', tokenize='` + sqliteTokenizer(language) + `')`
}

// sqliteRebuild rebuilds the FTS5 index from search_documents.
const sqliteRebuild = `INSERT INTO search_index (search_index) VALUES ('rebuild')`

func sqliteSchema(language string) []string {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS search_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS search_documents (
			doc_id INTEGER PRIMARY KEY,
			ticket_id TEXT NOT NULL UNIQUE REFERENCES tickets (id) ON DELETE CASCADE,
			requester_id TEXT NOT NULL,
			subject TEXT NOT NULL DEFAULT '',
			public_text TEXT NOT NULL DEFAULT '',
			internal_text TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS search_documents_requester ON search_documents (requester_id)`,
		sqliteIndexTable(language),
	}
	// Triggers are dropped and created anew rather than created IF NOT
	// EXISTS: Install runs these statements when they changed, and a
	// trigger whose body changed must then be replaced.
	for _, tr := range []struct{ name, def string }{
		{"search_documents_ai", `AFTER INSERT ON search_documents BEGIN
			INSERT INTO search_index (rowid, subject, public_text, internal_text)
			VALUES (new.doc_id, new.subject, new.public_text, new.internal_text);
		END`},
		{"search_documents_ad", `AFTER DELETE ON search_documents BEGIN
			INSERT INTO search_index (search_index, rowid, subject, public_text, internal_text)
			VALUES ('delete', old.doc_id, old.subject, old.public_text, old.internal_text);
		END`},
		{"search_documents_au", `AFTER UPDATE ON search_documents BEGIN
			INSERT INTO search_index (search_index, rowid, subject, public_text, internal_text)
			VALUES ('delete', old.doc_id, old.subject, old.public_text, old.internal_text);
			INSERT INTO search_index (rowid, subject, public_text, internal_text)
			VALUES (new.doc_id, new.subject, new.public_text, new.internal_text);
		END`},
		{"search_tickets_insert", `AFTER INSERT ON tickets BEGIN
			INSERT OR IGNORE INTO search_documents (ticket_id, requester_id, subject)
			VALUES (new.id, new.requester_id, new.subject);
		END`},
		{"search_tickets_subject", `AFTER UPDATE OF subject ON tickets
			WHEN old.subject IS NOT new.subject BEGIN
			UPDATE search_documents SET subject = new.subject WHERE ticket_id = new.id;
		END`},
		// The API never changes a requester; an import may.
		{"search_tickets_requester", `AFTER UPDATE OF requester_id ON tickets
			WHEN old.requester_id IS NOT new.requester_id BEGIN
			UPDATE search_documents SET requester_id = new.requester_id WHERE ticket_id = new.id;
		END`},
		{"search_messages_insert", `AFTER INSERT ON messages BEGIN
			UPDATE search_documents SET
				public_text = CASE WHEN new.internal THEN public_text ELSE public_text || char(10) || new.body END,
				internal_text = CASE WHEN new.internal THEN internal_text || char(10) || new.body ELSE internal_text END
			WHERE ticket_id = new.ticket_id;
		END`},
		{"search_messages_update", `AFTER UPDATE OF body, internal, ticket_id ON messages BEGIN
			` + sqliteRecompute("old.ticket_id") + `
			` + sqliteRecompute("new.ticket_id") + `
		END`},
		{"search_messages_delete", `AFTER DELETE ON messages BEGIN
			` + sqliteRecompute("old.ticket_id") + `
		END`},
	} {
		stmts = append(stmts, "DROP TRIGGER IF EXISTS "+tr.name, "CREATE TRIGGER "+tr.name+" "+tr.def)
	}
	return stmts
}

// search_settings' rows: the language the index was built with, and the
// version (a hash) of the statements that made it.
const (
	languageSetting = "language"
	schemaSetting   = "schema"
)

func schemaVersion(stmts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(stmts, "\n;\n")))
	return hex.EncodeToString(sum[:8])
}

// Install creates the search index if needed (idempotent; database.Migrate
// runs it on every start) and rebuilds it when it is new on a database
// that has tickets or the language changed. On PostgreSQL the language
// must be a configuration the server knows.
func Install(ctx context.Context, client *ent.Client, language string) error {
	d, err := Dialect(ctx, client)
	if err != nil {
		return fmt.Errorf("search index: detecting the database: %w", err)
	}
	stmts, err := Schema(d, language)
	if err != nil {
		return fmt.Errorf("search language: %w", err)
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d == dialect.Postgres {
		// One installer at a time when several instances start together.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7365827046)`); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		var known bool
		if err := scanOne(ctx, tx, &known, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_ts_config WHERE cfgname = $1)`, language); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		if !known {
			return fmt.Errorf("search language: PostgreSQL has no text search configuration %q (see SELECT cfgname FROM pg_ts_config)", language)
		}
	}
	installed, err := installedSettings(ctx, tx, d)
	if err != nil {
		return err
	}
	previous := installed[languageSetting]
	version := schemaVersion(stmts)
	if previous == language && installed[schemaSetting] == version {
		// Up to date: no DDL, so no table locks while other instances serve.
		return tx.Commit()
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("search index: %w\n%s", err, stmt)
		}
	}
	if previous != language {
		if err := reindex(ctx, tx, d); err != nil {
			return err
		}
		if d == dialect.SQLite && previous != "" {
			// The tokenizer is part of the FTS5 table: make it anew, after
			// the content is current (its triggers need the old index).
			for _, stmt := range []string{`DROP TABLE search_index`, sqliteIndexTable(language), sqliteRebuild} {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("search index: %w", err)
				}
			}
		}
	}
	for name, value := range map[string]string{languageSetting: language, schemaSetting: version} {
		if _, err := tx.ExecContext(ctx, upsertSetting(d), name, value); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return tx.Commit()
}

func upsertSetting(d string) string {
	if d == dialect.Postgres {
		return `INSERT INTO search_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`
	}
	return `INSERT INTO search_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`
}

// installedSettings reads search_settings (empty when there is no index yet).
func installedSettings(ctx context.Context, tx *ent.Tx, d string) (map[string]string, error) {
	out := map[string]string{}
	var exists bool
	q := `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'search_settings' AND table_schema = current_schema())`
	if d == dialect.SQLite {
		q = `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_settings')`
	}
	if err := scanOne(ctx, tx, &exists, q); err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	if !exists {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, value FROM search_settings`)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		out[name] = value
	}
	return out, rows.Err()
}

// Reindex rebuilds every ticket's search document from its subject and
// messages, e.g. after rows were written with the triggers disabled.
// (Install already does this when the language changes.)
func Reindex(ctx context.Context, client *ent.Client) error {
	d, err := Dialect(ctx, client)
	if err != nil {
		return err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := reindex(ctx, tx, d); err != nil {
		return err
	}
	return tx.Commit()
}

func reindex(ctx context.Context, tx *ent.Tx, d string) error {
	var stmts []string
	if d == dialect.Postgres {
		stmts = []string{
			`DELETE FROM search_documents d WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = d.ticket_id)`,
			`INSERT INTO search_documents (ticket_id, requester_id) SELECT id, requester_id FROM tickets ON CONFLICT (ticket_id) DO NOTHING`,
			`UPDATE search_documents SET tsv = coalesce(search_ticket_tsv(ticket_id), '')`,
		}
	} else {
		stmts = []string{
			`DELETE FROM search_documents WHERE ticket_id NOT IN (SELECT id FROM tickets)`,
			`INSERT OR IGNORE INTO search_documents (ticket_id, requester_id, subject) SELECT id, requester_id, subject FROM tickets`,
			`UPDATE search_documents SET subject = (SELECT subject FROM tickets WHERE tickets.id = search_documents.ticket_id)`,
			strings.TrimSuffix(sqliteRecompute("search_documents.ticket_id"), ";"),
			sqliteRebuild,
		}
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("rebuilding the search index: %w (%.60s)", err, stmt)
		}
	}
	return nil
}

func scanOne(ctx context.Context, tx *ent.Tx, dst any, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dst); err != nil {
		return err
	}
	return rows.Close()
}
