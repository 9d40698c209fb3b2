package graph

// A field of the elements of a list that is loaded from the database, such
// as Ticket.followers on a page of tickets, is loaded for the whole list at
// once (listBatch): the first element to resolve it loads it for every
// element of its list, which the field contexts gqlgen keeps lead to (the
// list field's Result holds the elements), and the others wait for and read
// their share. A page then costs the same statements whatever its size,
// whether gqlgen resolves the elements one after the other or concurrently.
// An object in no list (node(id:), a mutation's result), or in a list of a
// kind not known here, is loaded alone. A batch belongs to one list field
// context, so to one list of one response, and is dropped with it.

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/search"
)

// listBatch is a field of the users of each element of one list, by the
// element's ID.
type listBatch struct {
	once  sync.Once
	users map[globalid.ID][]*ent.User
	err   error
}

// listBatchKey names a batch: the list's field context (weak, so that the
// registry keeps no response alive) and the path from it to the field.
type listBatchKey struct {
	list  weak.Pointer[graphql.FieldContext]
	field string
}

// listBatches holds the batches of the lists being resolved.
var listBatches sync.Map // listBatchKey → *listBatch

// batchUsers returns the batch of the field of fc over list, loading it
// with load the first time.
func batchUsers(list, fc *graphql.FieldContext, load func() (map[globalid.ID][]*ent.User, error)) (map[globalid.ID][]*ent.User, error) {
	key := listBatchKey{list: weak.Make(list), field: fieldPath(list, fc)}
	b, ok := listBatches.Load(key)
	if !ok {
		var loaded bool
		if b, loaded = listBatches.LoadOrStore(key, &listBatch{}); !loaded {
			runtime.AddCleanup(list, func(k listBatchKey) { listBatches.Delete(k) }, key)
		}
	}
	batch := b.(*listBatch)
	batch.once.Do(func() { batch.users, batch.err = load() })
	return batch.users, batch.err
}

// fieldPath is the path from the list to the field of fc, elements
// standing for any element.
func fieldPath(list, fc *graphql.FieldContext) string {
	var path []string
	for p := fc; p != nil && p != list; p = p.Parent {
		if p.Index != nil {
			path = append(path, "[]")
		} else {
			path = append(path, p.Field.Alias)
		}
	}
	return strings.Join(path, "<")
}

// inList returns the field context of the list whose element is the object
// of obj (the field context the object was resolved in): directly, as in
// [Ticket!]!, or as an edge's node, as in a connection (viaNode); nil if
// it is in no list.
func inList(obj *graphql.FieldContext) (list *graphql.FieldContext, viaNode bool) {
	switch {
	case obj == nil:
		return nil, false
	case obj.Index != nil:
		return obj.Parent, false
	case obj.Field.Name == "node" && obj.Parent != nil && obj.Parent.Index != nil:
		return obj.Parent.Parent, true
	}
	return nil, false
}

// ticketsIn returns the tickets of a list of tickets, of nodes
// (nodes(ids:)) or of ticket edges.
func ticketsIn(list any, viaNode bool) []*ent.Ticket {
	switch l := list.(type) {
	case []*ent.Ticket:
		if !viaNode {
			return l
		}
	case []ent.Noder:
		if !viaNode {
			return ofType[*ent.Ticket](l)
		}
	case []*ent.TicketEdge:
		if viaNode {
			return nodesOf(l, func(e *ent.TicketEdge) *ent.Ticket { return e.Node })
		}
	case []*search.Edge:
		if viaNode {
			return nodesOf(l, func(e *search.Edge) *ent.Ticket { return e.Node })
		}
	}
	return nil
}

// messagesIn returns the messages of a list of messages, of nodes or of
// message edges.
func messagesIn(list any, viaNode bool) []*ent.Message {
	switch l := list.(type) {
	case []*ent.Message:
		if !viaNode {
			return l
		}
	case []ent.Noder:
		if !viaNode {
			return ofType[*ent.Message](l)
		}
	case []*ent.MessageEdge:
		if viaNode {
			return nodesOf(l, func(e *ent.MessageEdge) *ent.Message { return e.Node })
		}
	}
	return nil
}

// ofType returns the nodes that are T (non-nil).
func ofType[T interface {
	*ent.Ticket | *ent.Message
	ent.Noder
}](nodes []ent.Noder) []T {
	var out []T
	for _, n := range nodes {
		if t, ok := n.(T); ok && t != nil {
			out = append(out, t)
		}
	}
	return out
}

func nodesOf[E, N any](edges []E, node func(E) N) []N {
	out := make([]N, len(edges))
	for i, e := range edges {
		out[i] = node(e)
	}
	return out
}

func ticketIDs(tickets []*ent.Ticket) []globalid.ID {
	return nodesOf(tickets, func(t *ent.Ticket) globalid.ID { return t.ID })
}

func messageIDs(messages []*ent.Message) []globalid.ID {
	return nodesOf(messages, func(m *ent.Message) globalid.ID { return m.ID })
}

// followers resolves Ticket.followers, for all the tickets of t's list.
func (r *Resolver) followers(ctx context.Context, t *ent.Ticket) ([]*ent.User, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		if list, viaNode := inList(fc.Parent); list != nil {
			byTicket, err := batchUsers(list, fc, func() (map[globalid.ID][]*ent.User, error) {
				return r.follows().FollowersOf(ctx, ticketIDs(ticketsIn(list.Result, viaNode)))
			})
			if users, ok := byTicket[t.ID]; ok || err != nil {
				return users, err
			}
		}
	}
	return r.follows().Followers(ctx, t)
}

// mentions resolves Message.mentions, for all the messages of m's list;
// and when that list is a ticket's messages, the ticket being in a list
// too (a page of tickets, each with its latest messages), for the messages
// of all those tickets that the ticket list loaded with them.
func (r *Resolver) mentions(ctx context.Context, m *ent.Message) ([]*ent.User, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return r.follows().Mentions(ctx, m)
	}
	list, viaNode := inList(fc.Parent)
	if list == nil {
		return r.follows().Mentions(ctx, m)
	}
	if conn := list.Parent; viaNode && conn != nil && conn.Object == "Ticket" && conn.Field.Name == "messages" {
		if tickets, ticketsViaNode := inList(conn.Parent); tickets != nil {
			byMessage, err := batchUsers(tickets, fc, func() (map[globalid.ID][]*ent.User, error) {
				ids := messageIDs(messagesIn(list.Result, viaNode))
				for _, t := range ticketsIn(tickets.Result, ticketsViaNode) {
					if loaded, err := t.NamedMessages(conn.Field.Alias); err == nil {
						ids = append(ids, messageIDs(loaded)...)
					}
				}
				return r.follows().MentionsOf(ctx, ids)
			})
			if users, ok := byMessage[m.ID]; ok || err != nil {
				return users, err
			}
		}
	}
	byMessage, err := batchUsers(list, fc, func() (map[globalid.ID][]*ent.User, error) {
		return r.follows().MentionsOf(ctx, messageIDs(messagesIn(list.Result, viaNode)))
	})
	if users, ok := byMessage[m.ID]; ok || err != nil {
		return users, err
	}
	return r.follows().Mentions(ctx, m)
}
