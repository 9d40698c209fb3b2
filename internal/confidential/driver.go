// The ent driver that carries a client's keyring: it seals the
// confidential values of every statement on the way out and opens them in
// every row on the way in.

package confidential

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Driver returns next with confidential fields sealed and opened with
// keys. database.Open wraps every client's driver with it, so the keyring
// travels with the client that was given it: two clients in one process
// may hold different keys, and a client given nil fails with ErrNoKeyring
// on the first confidential value it meets.
//
// The driver, not an ent hook or interceptor, does the work because it
// sits where the value scanner did its cryptography: after the validators
// and every hook (which therefore see plaintext), and under every read,
// eager loads and updates' returned rows included.
func Driver(next dialect.Driver, keys *Keyring) dialect.Driver {
	return &sealingDriver{sealing: sealing{next: next, keys: keys}, drv: next}
}

// sealing is what the driver and its transactions share: statements.
type sealing struct {
	next dialect.ExecQuerier
	keys *Keyring
}

// sealArgs returns args with the requests of confidential fields replaced
// by their ciphertexts. The caller's slice is left as it is: ent.Debug and
// error messages print it.
func (s sealing) sealArgs(args any) (any, error) {
	argv, ok := args.([]any)
	if !ok {
		return args, nil
	}
	var sealed []any
	for i, a := range argv {
		if _, ok := a.(sealRequest); !ok {
			continue
		}
		if sealed == nil {
			sealed = slices.Clone(argv)
		}
		v, err := s.keys.seal(a)
		if err != nil {
			return nil, err
		}
		sealed[i] = v
	}
	if sealed == nil {
		return args, nil
	}
	return sealed, nil
}

// Exec implements dialect.ExecQuerier.
func (s sealing) Exec(ctx context.Context, query string, args, v any) error {
	args, err := s.sealArgs(args)
	if err != nil {
		return err
	}
	return s.next.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier; the rows open their cells as they
// are scanned.
func (s sealing) Query(ctx context.Context, query string, args, v any) error {
	args, err := s.sealArgs(args)
	if err != nil {
		return err
	}
	if err := s.next.Query(ctx, query, args, v); err != nil {
		return err
	}
	if rows, ok := v.(*entsql.Rows); ok && s.keys != nil {
		rows.ColumnScanner = openingRows{ColumnScanner: rows.ColumnScanner, keys: s.keys}
	}
	return nil
}

// ExecContext serves ent's Client.ExecContext (raw statements, which
// hold no confidential values unless a caller passes a scanner's).
func (s sealing) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ex, ok := s.next.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errors.New("confidential: the underlying driver has no ExecContext")
	}
	sealed, err := s.sealArgs(args)
	if err != nil {
		return nil, err
	}
	return ex.ExecContext(ctx, query, sealed.([]any)...)
}

// QueryContext serves ent's Client.QueryContext. Its rows are
// database/sql's, which this driver cannot open: raw queries read
// confidential columns as ciphertext.
func (s sealing) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, ok := s.next.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, errors.New("confidential: the underlying driver has no QueryContext")
	}
	sealed, err := s.sealArgs(args)
	if err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, query, sealed.([]any)...)
}

type sealingDriver struct {
	sealing
	drv dialect.Driver
}

// Tx implements dialect.Driver: the transaction seals with the same keys.
func (d *sealingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.drv.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &sealingTx{sealing: sealing{next: tx, keys: d.keys}, tx: tx}, nil
}

// BeginTx serves ent's Client.BeginTx.
func (d *sealingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.drv.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, errors.New("confidential: the underlying driver has no BeginTx")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sealingTx{sealing: sealing{next: tx, keys: d.keys}, tx: tx}, nil
}

// Close implements dialect.Driver.
func (d *sealingDriver) Close() error { return d.drv.Close() }

// Dialect implements dialect.Driver.
func (d *sealingDriver) Dialect() string { return d.drv.Dialect() }

type sealingTx struct {
	sealing
	tx dialect.Tx
}

// Commit implements dialect.Tx.
func (t *sealingTx) Commit() error { return t.tx.Commit() }

// Rollback implements dialect.Tx.
func (t *sealingTx) Rollback() error { return t.tx.Rollback() }

// openingRows opens the cells of confidential columns as each row is
// scanned.
type openingRows struct {
	entsql.ColumnScanner
	keys *Keyring
}

// Scan implements entsql.ColumnScanner.
func (r openingRows) Scan(dest ...any) error {
	if err := r.ColumnScanner.Scan(dest...); err != nil {
		return err
	}
	for _, d := range dest {
		if c, ok := d.(*cell); ok {
			c.open(r.keys)
		}
	}
	return nil
}
