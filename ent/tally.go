package ent

// Hand-written (not generated): the number of tickets on PostgreSQL,
// exact and without counting them. ent/entc.go makes TicketQuery.sqlCount
// ask tallied first.
//
// COUNT(*) of every ticket reads every entry of an index (100,000 tickets:
// about 5 ms of PostgreSQL's CPU, the most expensive part of an admin's
// first page with totalCount). Instead, statement-level triggers on tickets
// add a row of +n or -n to ticket_tally in the transaction that inserts or
// deletes n tickets, so SUM(delta) under any snapshot is exactly COUNT(*)
// under it: no estimate, and a transaction sees its own changes. Writers
// only insert rows, so they never wait for each other on a counter; the
// rows are folded into one now and then (compactTally), which is exact
// too: it deletes what its snapshot sees and writes back their sum, while
// rows of transactions still open stay as they are.
//
// Only a count of all tickets is answered this way (an admin without a
// filter); any predicate (a filter, an agent's reach, a traversal) counts
// as before. SQLite counts as before.

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// tallyCompactAt is how many rows the tally may hold before a read folds
// them: summing them stays far cheaper than counting.
const tallyCompactAt = 256

var tallyCompacting atomic.Bool

// tallySchema creates the tally and its triggers (PostgreSQL 14 or later).
var tallySchema = []string{
	`CREATE TABLE IF NOT EXISTS ticket_tally (id bigserial PRIMARY KEY, delta bigint NOT NULL)`,
	`CREATE OR REPLACE FUNCTION ticket_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO ticket_tally (delta) SELECT count(*) FROM ticket_tally_new HAVING count(*) > 0;
		RETURN NULL;
	END $$`,
	`CREATE OR REPLACE FUNCTION ticket_tally_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO ticket_tally (delta) SELECT -count(*) FROM ticket_tally_old HAVING count(*) > 0;
		RETURN NULL;
	END $$`,
	`CREATE OR REPLACE FUNCTION ticket_tally_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		DELETE FROM ticket_tally;
		RETURN NULL;
	END $$`,
	`CREATE OR REPLACE TRIGGER ticket_tally_insert AFTER INSERT ON tickets
		REFERENCING NEW TABLE AS ticket_tally_new FOR EACH STATEMENT EXECUTE FUNCTION ticket_tally_inserted()`,
	`CREATE OR REPLACE TRIGGER ticket_tally_delete AFTER DELETE ON tickets
		REFERENCING OLD TABLE AS ticket_tally_old FOR EACH STATEMENT EXECUTE FUNCTION ticket_tally_deleted()`,
	`CREATE OR REPLACE TRIGGER ticket_tally_truncate AFTER TRUNCATE ON tickets
		FOR EACH STATEMENT EXECUTE FUNCTION ticket_tally_truncated()`,
}

// InstallTally creates the ticket tally on PostgreSQL, once: the first
// time it counts the tickets there are, with writes to tickets held off
// meanwhile so that none is missed or counted twice. It is a no-op on
// SQLite and once installed.
func (c *Client) InstallTally(ctx context.Context) error {
	if c.driver.Dialect() != dialect.Postgres {
		return nil
	}
	installed := func(q interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}) (bool, error) {
		rows, err := q.QueryContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgname = 'ticket_tally_truncate' AND tgrelid = 'tickets'::regclass)`)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		var ok bool
		if rows.Next() {
			err = rows.Scan(&ok)
		}
		return ok, err
	}
	if ok, err := installed(c); err != nil || ok {
		return err
	}
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("ticket tally: %w", err)
	}
	if ok, err := installed(tx); err != nil || ok {
		return err // another instance installed it meanwhile
	}
	for _, s := range tallySchema {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("ticket tally: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_tally`); err != nil {
		return fmt.Errorf("ticket tally: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_tally (delta) SELECT count(*) FROM tickets`); err != nil {
		return fmt.Errorf("ticket tally: %w", err)
	}
	return tx.Commit()
}

// tallied answers the count of a query from the tally when the query is
// of all tickets: no predicate, modifier, traversal, field or window.
func (_q *TicketQuery) tallied(ctx context.Context) (int, bool, error) {
	if _q.driver.Dialect() != dialect.Postgres || len(_q.predicates) > 0 || len(_q.modifiers) > 0 ||
		_q.sql != nil || _q.path != nil || len(_q.ctx.Fields) > 0 || _q.ctx.Limit != nil || _q.ctx.Offset != nil {
		return 0, false, nil
	}
	rows := &sql.Rows{}
	if err := _q.driver.Query(ctx, `SELECT COALESCE(SUM(delta), 0), COUNT(*) FROM ticket_tally`, []any{}, rows); err != nil {
		return 0, false, err
	}
	defer rows.Close()
	var total, parts int64
	if rows.Next() {
		if err := rows.Scan(&total, &parts); err != nil {
			return 0, false, err
		}
	}
	if err := rows.Close(); err != nil {
		return 0, false, err
	}
	if parts == 0 {
		return 0, false, nil // emptied by TRUNCATE: counting is cheap then
	}
	// Not from within a transaction: it ends with its caller.
	if _, inTx := _q.driver.(*txDriver); !inTx && parts > tallyCompactAt && tallyCompacting.CompareAndSwap(false, true) {
		go func() {
			defer tallyCompacting.Store(false)
			_ = compactTally(context.WithoutCancel(ctx), _q.driver)
		}()
	}
	return int(total), true, nil
}

// compactTally folds the tally's rows into one.
func compactTally(ctx context.Context, drv dialect.Driver) error {
	return drv.Exec(ctx, `WITH gone AS (DELETE FROM ticket_tally RETURNING delta)
		INSERT INTO ticket_tally (delta) SELECT COALESCE(SUM(delta), 0) FROM gone`, []any{}, nil)
}
