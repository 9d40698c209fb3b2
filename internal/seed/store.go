package seed

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboardhq/switchboard/internal/database"
)

// store is one transaction on either database, with the one fast way each
// has to load many rows: COPY on PostgreSQL, multi-row INSERTs on SQLite.
type store interface {
	exec(ctx context.Context, query string, args ...any) error
	query(ctx context.Context, query string, args []any, scan func(scan func(...any) error) error) error
	// load inserts the rows next returns until it returns false.
	load(ctx context.Context, table string, columns []string, next func() ([]any, bool, error)) error
}

// inTx runs fn in one transaction on db: everything it writes lands, or
// nothing does.
func inTx(ctx context.Context, db *database.SQL, fn func(store) error) error {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.Dialect == dialect.Postgres {
		return conn.Raw(func(driverConn any) error {
			pc, ok := driverConn.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("seed: unexpected PostgreSQL driver %T", driverConn)
			}
			return pgx.BeginFunc(ctx, pc.Conn(), func(tx pgx.Tx) error {
				// One long transaction: the pool's statement timeout is
				// for requests, not for loading a million rows; and a
				// seed lost to a crash is simply run again.
				if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
					return err
				}
				return fn(pgStore{tx})
			})
		})
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(sqlStore{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

type pgStore struct{ tx pgx.Tx }

func (s pgStore) exec(ctx context.Context, q string, args ...any) error {
	_, err := s.tx.Exec(ctx, database.Rebind(q), args...)
	return err
}

func (s pgStore) query(ctx context.Context, q string, args []any, scan func(func(...any) error) error) error {
	rows, err := s.tx.Query(ctx, database.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s pgStore) load(ctx context.Context, table string, columns []string, next func() ([]any, bool, error)) error {
	var row []any
	var err error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		var ok bool
		row, ok, err = next()
		if err != nil || !ok {
			return nil, err
		}
		return row, nil
	})
	if _, cerr := s.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src); cerr != nil {
		return fmt.Errorf("copying into %s: %w", table, cerr)
	}
	return err
}

type sqlStore struct{ tx *sql.Tx }

func (s sqlStore) exec(ctx context.Context, q string, args ...any) error {
	_, err := s.tx.ExecContext(ctx, q, args...)
	return err
}

func (s sqlStore) query(ctx context.Context, q string, args []any, scan func(func(...any) error) error) error {
	rows, err := s.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sqliteBatchParams keeps a multi-row INSERT under SQLite's limit of 32766
// bound parameters.
const sqliteBatchParams = 30000

func (s sqlStore) load(ctx context.Context, table string, columns []string, next func() ([]any, bool, error)) error {
	per := max(1, min(500, sqliteBatchParams/len(columns)))
	full, err := s.tx.PrepareContext(ctx, database.InsertSQL(table, columns, per))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, per*len(columns))
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		var err error
		if rows == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = s.tx.ExecContext(ctx, database.InsertSQL(table, columns, rows), args...)
		}
		args, rows = args[:0], 0
		if err != nil {
			return fmt.Errorf("inserting into %s: %w", table, err)
		}
		return nil
	}
	for {
		row, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			return flush()
		}
		args = append(args, row...)
		if rows++; rows == per {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}
