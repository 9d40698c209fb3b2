package ent

// Hand-written (not generated): the PostgreSQL form of a nested page, such
// as each ticket's messages(last: 3) in a list of tickets. ent/entc.go
// points the generated code here (limitPerRow instead of
// entgql.LimitPerRow, whereIn instead of the eager loaders' IN predicate).
//
// entgql's form numbers every row of every parent with ROW_NUMBER() and
// keeps the first n, so it reads all the messages of the 50 tickets of a
// page (1,355 rows with their bodies in BenchmarkPages) to return 200. On
// PostgreSQL a LATERAL join reads each parent's first n rows from an index
// and no more; SQLite has no LATERAL and keeps entgql's form.

import (
	"context"
	"database/sql/driver"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// partitionKeys are the parents' keys an eager loader asked for: a LATERAL
// join starts from them.
type partitionKeys struct {
	column string
	keys   []driver.Value
	// joined is set when the keys are joined LATERAL: the join condition
	// then selects each parent's rows, and the IN list is left out.
	joined bool
}

type partitionKeysKey struct{}

// whereIn is the eager loaders' predicate (column IN keys), which also
// leaves the keys with the selector for limitPerRow. Inside a LATERAL join
// the IN list would only repeat the join condition, and PostgreSQL would
// still match every row's key against the whole list (for 50 tickets,
// 51 x 51 comparisons in the index scan, a quarter of the statement's time):
// it is written out as TRUE there.
func whereIn(s *sql.Selector, column string, keys []driver.Value) {
	pk := &partitionKeys{column: column, keys: keys}
	in := sql.InValues(column, keys...)
	s.Where(sql.P(func(b *sql.Builder) {
		if pk.joined {
			b.WriteString("TRUE")
			return
		}
		b.Join(in)
	}))
	s.WithContext(context.WithValue(s.Context(), partitionKeysKey{}, pk))
}

// limitPerRow keeps the first limit rows of each partitionBy value, in the
// order of orderBy: entgql.LimitPerRow, as a LATERAL join on PostgreSQL.
func limitPerRow(partitionBy string, limit int, orderBy ...sql.Querier) func(*sql.Selector) {
	numbered := entgql.LimitPerRow(partitionBy, limit, orderBy...)
	return func(s *sql.Selector) {
		pk, _ := s.Context().Value(partitionKeysKey{}).(*partitionKeys)
		if s.Dialect() != dialect.Postgres || pk == nil || pk.column != s.C(partitionBy) || len(pk.keys) == 0 {
			numbered(s)
			return
		}
		d := sql.Dialect(s.Dialect())
		table := s.TableName()
		// The inner query keeps every predicate of the selector but the
		// IN list (see whereIn), so privacy rules and filters apply as
		// they did.
		pk.joined = true
		inner := s.Clone()
		inner.SetDistinct(false)
		inner.Where(sql.ExprP(s.C(partitionBy) + ` = "partition_keys"."partition_key"`))
		inner.OrderExpr(orderBy...)
		inner.Limit(limit)
		from := sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("(VALUES ")
			for i, k := range pk.keys {
				if i > 0 {
					b.Comma()
				}
				b.WriteByte('(').Arg(k).WriteByte(')')
			}
			b.WriteString(`) AS "partition_keys"("partition_key") CROSS JOIN LATERAL (`)
			b.Join(inner)
			b.WriteString(") AS ").Ident(table)
		})
		*s = *d.Select(s.UnqualifiedColumns()...).FromExpr(from).WithContext(s.Context())
	}
}
