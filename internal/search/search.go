// Package search is full-text search over tickets: the query language
// (status:open "printer fire" -refund sort:newest, see Parse), its
// compilation to ent predicates, and two engines behind one behaviour —
// PostgreSQL full-text search (a tsvector per ticket, GIN-indexed) and
// SQLite FTS5 (an external-content table) — whose index triggers keep
// current in the same transaction as every change (Schema, Install,
// Reindex). Results are loaded through the viewer's privacy-checked ent
// client, so a search returns exactly the tickets the viewer could list,
// and customers' text never matches internal notes.
package search

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Defaults of Options.
const (
	DefaultLanguage       = "english"
	DefaultMaxQueryLength = 500
	DefaultMaxCandidates  = 500
)

// Options tune the search.
type Options struct {
	// Language is the PostgreSQL text search configuration (stemming,
	// stop words); SQLite stems English with "english" and only folds
	// case and accents otherwise.
	Language string
	// MaxQueryLength bounds a query, in characters.
	MaxQueryLength int
	// MaxCandidates bounds how many matching tickets a relevance-ordered
	// search ranks; pages beyond them are not offered.
	MaxCandidates int
}

func (o Options) withDefaults() Options {
	if o.Language == "" {
		o.Language = DefaultLanguage
	}
	if o.MaxQueryLength <= 0 {
		o.MaxQueryLength = DefaultMaxQueryLength
	}
	if o.MaxCandidates <= 0 {
		o.MaxCandidates = DefaultMaxCandidates
	}
	return o
}

// Service runs searches.
type Service struct {
	client  *ent.Client
	engine  engine
	opts    Options
	dialect string
	// now is the clock of relative dates and is:breached.
	now func() time.Time
}

// New returns a search service on client, whose database is of dialect
// (dialect.Postgres or dialect.SQLite).
func New(client *ent.Client, d string, opts Options) *Service {
	opts = opts.withDefaults()
	return &Service{client: client, engine: engineFor(d, opts.Language), opts: opts, dialect: d, now: time.Now}
}

// Edge is one result: the ticket, its cursor and, ordered by relevance,
// its rank (higher is more relevant; comparable within one search only).
type Edge struct {
	Node   *ent.Ticket
	Cursor ent.Cursor
	Rank   *float64
}

// Connection is one page of results.
type Connection struct {
	Edges    []*Edge
	PageInfo ent.PageInfo
}

// Search returns the first tickets after the cursor that match query and
// that the viewer in ctx may read.
func (s *Service) Search(ctx context.Context, query string, after *ent.Cursor, first int) (*Connection, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	if first < 0 {
		return nil, apierr.Invalid("first", "first must not be negative")
	}
	if n := utf8.RuneCountInString(query); n > s.opts.MaxQueryLength {
		return nil, apierr.Invalid("query", "at %d: expected at most %d characters (SWITCHBOARD_SEARCH_MAX_QUERY_LENGTH)", s.opts.MaxQueryLength+1, s.opts.MaxQueryLength)
	}
	q, err := Parse(query)
	if err != nil {
		e := apierr.Wrap(apierr.BadUserInput, err, "%v", err)
		e.Field = "query"
		return nil, e
	}
	c, err := compile(q, v, s.now())
	if err != nil {
		return nil, err
	}
	if c.sort == SortRelevance && len(c.text.positive) == 0 {
		c.sort = SortNewest // nothing to rank by
	}
	k, err := decodeCursor(after, c.sort)
	if err != nil {
		return nil, err
	}
	preds := c.filters
	if !c.text.empty() {
		preds = append(preds, s.engine.match(c.text, string(v.UserID)))
	}
	if c.sort == SortRelevance {
		return s.byRelevance(ctx, c, preds, k, first)
	}
	return s.byCreation(ctx, c.sort, preds, k, first)
}

// key is a decoded cursor: the position after which the page starts.
type key struct {
	id     globalid.ID
	rank   float64
	number int
}

func cursorValue(sort Sort, rank float64, number int) string {
	if sort == SortRelevance {
		return string(sort) + ":" + strconv.FormatFloat(rank, 'g', -1, 64)
	}
	return string(sort) + ":" + strconv.Itoa(number)
}

func decodeCursor(c *ent.Cursor, sort Sort) (*key, error) {
	if c == nil {
		return nil, nil
	}
	bad := apierr.Invalid("after", "the cursor is not one of this search's (its sort: differs); start again without after")
	s, _ := c.Value.(string)
	kind, val, ok := strings.Cut(s, ":")
	if !ok || Sort(kind) != sort || c.ID == "" {
		return nil, bad
	}
	k := &key{id: c.ID}
	var err error
	if sort == SortRelevance {
		k.rank, err = strconv.ParseFloat(val, 64)
	} else {
		k.number, err = strconv.Atoi(val)
	}
	if err != nil {
		return nil, bad
	}
	return k, nil
}

// byCreation pages in creation order in the database. Ticket numbers are
// given in creation order, unique and indexed, so they are the key.
func (s *Service) byCreation(ctx context.Context, sort Sort, preds []predicate.Ticket, k *key, first int) (*Connection, error) {
	order := ent.Desc
	if sort == SortOldest {
		order = ent.Asc
	}
	if k != nil {
		if sort == SortOldest {
			preds = append(preds, ticket.NumberGT(k.number))
		} else {
			preds = append(preds, ticket.NumberLT(k.number))
		}
	}
	tickets, err := s.client.Ticket.Query().Where(preds...).
		Order(order(ticket.FieldNumber)).
		Limit(first + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("searching tickets: %w", err)
	}
	conn := &Connection{}
	conn.PageInfo.HasPreviousPage = k != nil
	if len(tickets) > first {
		conn.PageInfo.HasNextPage = true
		tickets = tickets[:first]
	}
	for _, t := range tickets {
		conn.Edges = append(conn.Edges, &Edge{Node: t, Cursor: ent.Cursor{ID: t.ID, Value: cursorValue(sort, 0, t.Number)}})
	}
	conn.finish()
	return conn, nil
}

// candidate is a matching ticket with its rank.
type candidate struct {
	ID   globalid.ID `json:"id"`
	Rank float64     `json:"rank"`
}

// byRelevance ranks at most MaxCandidates matching tickets (those the
// viewer may read and the filters keep) and pages through them by (rank,
// id), then loads the page's tickets.
func (s *Service) byRelevance(ctx context.Context, c *compiled, preds []predicate.Ticket, k *key, first int) (*Connection, error) {
	cands, err := s.candidates(ctx, c, preds)
	if err != nil {
		return nil, fmt.Errorf("ranking tickets: %w", err)
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].Rank != cands[j].Rank {
			return cands[i].Rank > cands[j].Rank
		}
		return cands[i].ID > cands[j].ID
	})
	if k != nil {
		i := sort.Search(len(cands), func(i int) bool {
			return cands[i].Rank < k.rank || cands[i].Rank == k.rank && cands[i].ID < k.id
		})
		cands = cands[i:]
	}
	conn := &Connection{}
	conn.PageInfo.HasPreviousPage = k != nil
	if len(cands) > first {
		conn.PageInfo.HasNextPage = true
		cands = cands[:first]
	}
	if len(cands) == 0 {
		conn.finish()
		return conn, nil
	}
	ids := make([]globalid.ID, len(cands))
	for i, cd := range cands {
		ids[i] = cd.ID
	}
	tickets, err := s.client.Ticket.Query().Where(ticket.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading tickets: %w", err)
	}
	byID := make(map[globalid.ID]*ent.Ticket, len(tickets))
	for _, t := range tickets {
		byID[t.ID] = t
	}
	for _, cd := range cands {
		t, ok := byID[cd.ID]
		if !ok {
			continue // changed out of reach between the two reads
		}
		r := cd.Rank
		conn.Edges = append(conn.Edges, &Edge{Node: t, Rank: &r, Cursor: ent.Cursor{ID: t.ID, Value: cursorValue(SortRelevance, r, 0)}})
	}
	conn.finish()
	return conn, nil
}

// candidates reads at most MaxCandidates matching tickets with their rank.
func (s *Service) candidates(ctx context.Context, c *compiled, preds []predicate.Ticket) ([]candidate, error) {
	rank := s.engine.rank(c.text)
	var cands []candidate
	query := func(client *ent.Client) error {
		return client.Ticket.Query().Where(preds...).
			Where(func(sel *entsql.Selector) { sel.AppendSelectExpr(rank) }).
			Limit(s.opts.MaxCandidates).
			Select(ticket.FieldID).Scan(ctx, &cands)
	}
	if s.dialect != dialect.Postgres {
		return cands, query(s.client)
	}
	// PostgreSQL's planner does not count the cost of reading the
	// out-of-line (TOASTed) documents a sequential scan tests one by one,
	// so with a LIMIT it prefers scanning the table to the GIN index even
	// for rare words (300 ms instead of 10 at a million messages). The
	// index is always the right start here: a word matching most tickets
	// fills the candidates from the first index pages too.
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		return nil, err
	}
	if err := query(tx.Client()); err != nil {
		return nil, err
	}
	return cands, tx.Commit()
}

func (c *Connection) finish() {
	if len(c.Edges) > 0 {
		c.PageInfo.StartCursor = &c.Edges[0].Cursor
		c.PageInfo.EndCursor = &c.Edges[len(c.Edges)-1].Cursor
	}
}

// Dialect reports the dialect of the database behind client.
func Dialect(ctx context.Context, client *ent.Client) (string, error) {
	// Each probe fails on the other database (without a transaction to spoil).
	rows, err := client.QueryContext(ctx, "SELECT current_setting('server_version')")
	if err == nil {
		_ = rows.Close()
		return dialect.Postgres, nil
	}
	rows, err2 := client.QueryContext(ctx, "SELECT sqlite_version()")
	if err2 != nil {
		return "", errors.Join(err, err2)
	}
	_ = rows.Close()
	return dialect.SQLite, nil
}
