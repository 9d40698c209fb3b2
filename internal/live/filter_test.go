package live_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// TestWhereAgreesWithSQL checks that live filters, evaluated in memory on
// each event, list exactly the tickets tickets(where:) lists: every
// predicate TicketWhereInput offers (read from the type, so a new field is
// covered), alone and combined under not/and/or, against the database of
// each engine.
func TestWhereAgreesWithSQL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		tg = dbtest.NewTarget(t, tg.Dialect)
		tg.Open(t)
		client, _, err := database.Open(tg.DatabaseURL, tg.DataDir, tg.Keyring(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		tickets := seedFilterTickets(t, client)
		seed := time.Now().UnixNano()
		t.Logf("seed %d (set LIVE_FILTER_SEED to replay)", seed)
		if s := envSeed(); s != 0 {
			seed = s
		}
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		g := &whereGen{rng: rng, tickets: tickets}
		sys := viewer.SystemContext(context.Background())

		check := func(t *testing.T, w *ent.TicketWhereInput) {
			t.Helper()
			match, err := live.CompileWhere(w, entDialect[tg.Dialect])
			if err != nil {
				t.Fatalf("compiling %s: %v", g.describe(w), err)
			}
			p, err := w.P()
			if err != nil {
				t.Fatalf("P of %s: %v", g.describe(w), err)
			}
			want, err := client.Ticket.Query().Where(p).IDs(sys)
			if err != nil {
				t.Fatalf("querying %s: %v", g.describe(w), err)
			}
			var got []globalid.ID
			for _, tk := range tickets {
				if match(tk) {
					got = append(got, tk.ID)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s:\n in memory %v\n SQL       %v", g.describe(w), got, want)
			}
		}

		fields := reflect.TypeOf(ent.TicketWhereInput{})
		t.Run("EveryPredicateAlone", func(t *testing.T) {
			n := 0
			for i := 0; i < fields.NumField(); i++ {
				f := fields.Field(i)
				if !g.simple(f) {
					continue
				}
				n++
				for range 12 {
					w := &ent.TicketWhereInput{}
					g.set(reflect.ValueOf(w).Elem().Field(i), f)
					check(t, w)
				}
			}
			if n < 100 {
				t.Fatalf("only %d predicates found: the where input changed shape", n)
			}
		})
		t.Run("CombinedUnderNotAndOr", func(t *testing.T) {
			for range 400 {
				check(t, g.where(3))
			}
		})
		t.Run("RelatedRowsAreRefusedNamingTheField", func(t *testing.T) {
			name := "x"
			for _, w := range []*ent.TicketWhereInput{
				{HasRequesterWith: []*ent.UserWhereInput{{Name: &name}}},
				{Not: &ent.TicketWhereInput{HasMessagesWith: []*ent.MessageWhereInput{{Body: &name}}}},
			} {
				_, err := live.CompileWhere(w, entDialect[tg.Dialect])
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Code != apierr.BadUserInput || !strings.Contains(ae.Field, "With") {
					t.Fatalf("%s: err %v, want BAD_USER_INPUT naming the field", g.describe(w), err)
				}
			}
		})
	})
}

// entDialect is ent's name of each engine tests run on.
var entDialect = map[dbtest.Dialect]string{dbtest.SQLite: dialect.SQLite, dbtest.Postgres: dialect.Postgres}

func envSeed() int64 {
	var s int64
	fmt.Sscan(os.Getenv("LIVE_FILTER_SEED"), &s)
	return s
}

// seedFilterTickets creates tickets with every field set and unset in
// turn, strings with LIKE's wildcards and mixed case, and returns them as
// the database reads them back.
func seedFilterTickets(t *testing.T, client *ent.Client) []*ent.Ticket {
	t.Helper()
	sys := viewer.SystemContext(context.Background())
	var customers, agents []globalid.ID
	for i, role := range []user.Role{user.RoleCUSTOMER, user.RoleCUSTOMER, user.RoleAGENT, user.RoleAGENT} {
		u, err := client.User.Create().SetEmail(fmt.Sprintf("u%d@example.com", i)).SetName(fmt.Sprint("User ", i)).SetRole(role).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		if role == user.RoleCUSTOMER {
			customers = append(customers, u.ID)
		} else {
			agents = append(agents, u.ID)
		}
	}
	var groups []globalid.ID
	for _, name := range []string{"Billing", "Support"} {
		g, err := client.Group.Create().SetName(name).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g.ID)
	}
	subjects := []string{"Printer on fire", "printer ON FIRE", "50% off_sale", "50x offXsale", "Refund", "refund please", "Ünïcode café", "a_b", "a%b", "Zebra"}
	statuses := []ticket.Status{ticket.StatusNEW, ticket.StatusOPEN, ticket.StatusPENDING, ticket.StatusSOLVED, ticket.StatusCLOSED}
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 30 {
		tx, err := client.Tx(sys)
		if err != nil {
			t.Fatal(err)
		}
		c := tx.Ticket.Create().
			SetSubject(subjects[i%len(subjects)]).
			SetStatus(statuses[i%len(statuses)]).
			SetPriority(priority.All()[i%4]).
			SetChannel([]ticket.Channel{ticket.ChannelWEB, ticket.ChannelEMAIL, ticket.ChannelAPI}[i%3]).
			SetRequesterID(customers[i%2]).
			SetCreatedAt(base.Add(time.Duration(i) * time.Hour)).
			SetUpdatedAt(base.Add(time.Duration(i*7%30) * time.Hour))
		if i%3 != 0 {
			c.SetAssigneeID(agents[i%2])
		}
		if i%4 != 0 {
			c.SetGroupID(groups[i%2])
		}
		if i%2 == 0 {
			c.SetFirstRespondedAt(base.Add(time.Duration(i) * time.Minute))
		}
		if i%5 == 0 {
			c.SetSolvedAt(base.Add(time.Duration(i) * 3 * time.Minute))
		}
		// Tags: a subset of filterTags by i's bits (none for some).
		var tagged []string
		for b, tag := range filterTags {
			if i>>b&1 == 1 {
				tagged = append(tagged, tag)
			}
		}
		c.SetTags(tagged)
		tk, err := c.Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		// Due times come from SLA policies; set some directly.
		u := tx.Ticket.UpdateOne(tk)
		if i%3 != 1 {
			u.SetFirstResponseDueAt(base.Add(time.Duration(i*5) * time.Minute))
		} else {
			u.ClearFirstResponseDueAt()
		}
		if i%4 != 1 {
			u.SetResolutionDueAt(base.Add(time.Duration(i*11) * time.Minute))
		} else {
			u.ClearResolutionDueAt()
		}
		if err := u.Exec(sys); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	all, err := client.Ticket.Query().All(sys)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// filterTags are the seeded tickets' tags: case and spaces differ, as
// tags are whole values, their case kept.
var filterTags = []string{"vip", "VIP", "printer", "a b", "50%_off"}

// tagArgs are what tag filters are given: the tags, others in case or
// padding, parts of them, and no tag at all.
var tagArgs = append(slices.Clone(filterTags), "Vip", " vip ", "vi", "a", "%", "nope")

// whereGen makes random TicketWhereInputs whose values come from the
// tickets (so that they match some), varied in case and by a little.
type whereGen struct {
	rng     *rand.Rand
	tickets []*ent.Ticket
}

var ticketGoType = reflect.TypeOf(ent.Ticket{})

// simple reports whether f is a field predicate (not not/and/or, an edge
// or the Go-only Predicates).
func (g *whereGen) simple(f reflect.StructField) bool {
	switch {
	case f.Name == "Not" || f.Name == "Or" || f.Name == "And" || f.Name == "Predicates":
		return false
	case f.Name == "HasMessages":
		return false // refused like hasMessagesWith: messages are rows of their own
	case strings.HasPrefix(f.Name, "Has"):
		return f.Type.Kind() == reflect.Pointer // hasAssignee: Boolean, not hasAssigneeWith
	}
	return true
}

func (g *whereGen) where(depth int) *ent.TicketWhereInput {
	w := &ent.TicketWhereInput{}
	v := reflect.ValueOf(w).Elem()
	for range 1 + g.rng.IntN(2) {
		i := g.rng.IntN(v.NumField())
		if f := v.Type().Field(i); g.simple(f) {
			g.set(v.Field(i), f)
		}
	}
	if depth > 0 {
		switch g.rng.IntN(4) {
		case 0:
			w.Not = g.where(depth - 1)
		case 1:
			w.Or = []*ent.TicketWhereInput{g.where(depth - 1), g.where(depth - 1)}
		case 2:
			w.And = []*ent.TicketWhereInput{g.where(depth - 1), g.where(depth - 1)}
		}
	}
	if reflect.ValueOf(w).Elem().IsZero() {
		id := g.tickets[g.rng.IntN(len(g.tickets))].ID
		w.IDNEQ = &id
	}
	return w
}

// set gives the predicate field v (of struct field f) a value.
func (g *whereGen) set(v reflect.Value, f reflect.StructField) {
	switch f.Name {
	case "HasTag":
		tag := tagArgs[g.rng.IntN(len(tagArgs))]
		v.Set(reflect.ValueOf(&tag))
		return
	case "HasAnyTag", "HasAllTags":
		list := []string{}
		for range g.rng.IntN(4) {
			list = append(list, tagArgs[g.rng.IntN(len(tagArgs))])
		}
		v.Set(reflect.ValueOf(&list))
		return
	}
	switch f.Type.Kind() {
	case reflect.Bool:
		v.SetBool(true)
		return
	case reflect.Pointer:
		if f.Type.Elem().Kind() == reflect.Bool {
			b := g.rng.IntN(2) == 0
			v.Set(reflect.ValueOf(&b))
			return
		}
		x := g.value(f.Name, f.Type.Elem())
		p := reflect.New(f.Type.Elem())
		p.Elem().Set(x)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(f.Type, 0, 3)
		for range 1 + g.rng.IntN(3) {
			s = reflect.Append(s, g.value(f.Name, f.Type.Elem()))
		}
		v.Set(s)
	}
}

// value is a value of type typ for the predicate named name.
func (g *whereGen) value(name string, typ reflect.Type) reflect.Value {
	base, op := name, ""
	for _, o := range []string{"ContainsFold", "EqualFold", "HasPrefix", "HasSuffix", "Contains", "NotIn", "NEQ", "GTE", "LTE", "GT", "LT", "In"} {
		if b := strings.TrimSuffix(name, o); b != name {
			if _, ok := ticketGoType.FieldByName(b); ok {
				base, op = b, o
				break
			}
		}
	}
	field, _ := ticketGoType.FieldByName(base)
	var samples []reflect.Value
	for _, tk := range g.tickets {
		x := reflect.ValueOf(tk).Elem().FieldByIndex(field.Index)
		if x.Kind() == reflect.Pointer {
			if x.IsNil() {
				continue
			}
			x = x.Elem()
		}
		samples = append(samples, x)
	}
	x := samples[g.rng.IntN(len(samples))]
	switch {
	case typ == reflect.TypeOf(time.Time{}):
		tm := x.Interface().(time.Time)
		tm = tm.Add(time.Duration(g.rng.IntN(3)-1) * time.Second).UTC()
		return reflect.ValueOf(tm)
	case typ.Kind() == reflect.String:
		s := x.String()
		switch op {
		case "Contains", "HasPrefix", "HasSuffix", "ContainsFold", "EqualFold":
			s = g.part(s, op)
			switch g.rng.IntN(3) {
			case 0:
				s = strings.ToUpper(s)
			case 1:
				s = strings.ToLower(s)
			}
		}
		return reflect.ValueOf(s).Convert(typ)
	case typ.Kind() == reflect.Int:
		return reflect.ValueOf(int(x.Int()) + g.rng.IntN(3) - 1).Convert(typ)
	}
	return x.Convert(typ)
}

// part is a piece of s as op looks for it.
func (g *whereGen) part(s, op string) string {
	r := []rune(s)
	n := 1 + g.rng.IntN(len(r))
	switch op {
	case "HasPrefix":
		return string(r[:n])
	case "HasSuffix":
		return string(r[len(r)-n:])
	case "EqualFold":
		return s
	}
	i := g.rng.IntN(len(r) - n + 1)
	return string(r[i : i+n])
}

func (g *whereGen) describe(w *ent.TicketWhereInput) string {
	return fmt.Sprintf("%+v", describeWhere(reflect.ValueOf(w).Elem()))
}

func describeWhere(v reflect.Value) map[string]any {
	out := map[string]any{}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		name := v.Type().Field(i).Name
		switch {
		case name == "Not":
			out[name] = describeWhere(f.Elem())
		case name == "Or" || name == "And":
			var subs []any
			for j := 0; j < f.Len(); j++ {
				subs = append(subs, describeWhere(f.Index(j).Elem()))
			}
			out[name] = subs
		case f.Kind() == reflect.Pointer:
			out[name] = f.Elem().Interface()
		default:
			out[name] = f.Interface()
		}
	}
	return out
}
