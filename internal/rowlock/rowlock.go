// Package rowlock owns the one rule of row locks: they are taken on
// PostgreSQL only, since SQLite's write transaction (BEGIN IMMEDIATE)
// already holds the whole database. Queries pass these as predicates:
// tx.Ticket.Query().Where(ticket.ID(id), rowlock.ForUpdate).
package rowlock

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// ForUpdate locks the rows the query reads until the transaction ends.
func ForUpdate(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

// ForNoKeyUpdate is ForUpdate that still lets other transactions take the
// foreign-key lock on the rows (insert rows referring to them).
func ForNoKeyUpdate(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.For(sql.LockNoKeyUpdate)
	}
}

// ForUpdateSkipLocked locks the selected rows for an update and leaves
// out rows another transaction holds (PostgreSQL), so that workers
// claiming a queue's rows never wait on, or take, each other's: the
// outbox's claim.
func ForUpdateSkipLocked(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate(sql.WithLockAction(sql.SkipLocked))
	}
}
