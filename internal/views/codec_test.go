package views

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// TestWhereRoundTrip: a filter comes back from storage as given, enum
// values (status, channel, priority) and times included, and is shown as
// GraphQL input (priorities by name).
func TestWhereRoundTrip(t *testing.T) {
	status, high, group := ticket.StatusOPEN, priority.High, globalid.ID("GR01")
	due := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	in := &ent.TicketWhereInput{
		Status: &status, PriorityGTE: &high, ChannelIn: []ticket.Channel{ticket.ChannelEMAIL},
		FirstResponseDueAtLT: &due, GroupID: &group,
		Or:  []*ent.TicketWhereInput{{PriorityIn: []priority.Priority{priority.Low, priority.Urgent}}, {AssigneeIDIsNil: true}},
		Not: &ent.TicketWhereInput{HasRequesterWith: []*ent.UserWhereInput{{NameContains: ptr("bot")}}},
	}
	where, err := checkWhere(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := encodeWhere(where)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeWhere(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !out.FirstResponseDueAtLT.Equal(due) {
		t.Fatalf("time came back as %v", out.FirstResponseDueAtLT)
	}
	out.FirstResponseDueAtLT = in.FirstResponseDueAtLT
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n in %+v\nout %+v", in, out)
	}
	shown, _ := Shown(raw)
	got, _ := json.Marshal(shown)
	want := `{"channelIn":["EMAIL"],"firstResponseDueAtLT":"2026-12-03T07:00:00Z","groupID":"GR01","not":{"hasRequesterWith":[{"nameContains":"bot"}]},"or":[{"priorityIn":["LOW","URGENT"]},{"assigneeIDIsNil":true}],"priorityGTE":"HIGH","status":"OPEN"}`
	if string(got) != want {
		t.Fatalf("shown as %s\nwant     %s", got, want)
	}
}

func TestOrderRoundTrip(t *testing.T) {
	in := []*ent.TicketOrder{
		{Field: ent.TicketOrderFieldFirstResponseDueAt, Direction: entgql.OrderDirectionAsc},
		{Field: ent.TicketOrderFieldPriority, Direction: entgql.OrderDirectionDesc},
	}
	raw, err := encodeOrder(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `[{"field":"FIRST_RESPONSE_DUE_AT","direction":"ASC"},{"field":"PRIORITY","direction":"DESC"}]` {
		t.Fatalf("stored as %s", raw)
	}
	out, err := decodeOrder(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if out[i].Field.String() != in[i].Field.String() || out[i].Direction != in[i].Direction {
			t.Fatalf("term %d came back as %v %v", i, out[i].Field, out[i].Direction)
		}
	}
}

func TestCheckRefusals(t *testing.T) {
	open := ticket.StatusOPEN
	for name, tc := range map[string]struct {
		where *ent.TicketWhereInput
		order []*ent.TicketOrder
		field string
	}{
		"EmptyNot":         {where: &ent.TicketWhereInput{Status: &open, Not: &ent.TicketWhereInput{}}, field: "where"},
		"EmptyOrMember":    {where: &ent.TicketWhereInput{Or: []*ent.TicketWhereInput{{}, {Status: &open}}}, field: "where"},
		"FieldTwice":       {order: []*ent.TicketOrder{{Field: ent.TicketOrderFieldStatus, Direction: "ASC"}, {Field: ent.TicketOrderFieldNumber, Direction: "ASC"}, {Field: ent.TicketOrderFieldStatus, Direction: "DESC"}}, field: "orderBy"},
		"UnknownDirection": {order: []*ent.TicketOrder{{Field: ent.TicketOrderFieldStatus, Direction: "UP"}}, field: "orderBy"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := encode(Input{Name: "x", Where: tc.where, OrderBy: tc.order})
			e, ok := err.(*apierr.Error)
			if !ok || e.Code != apierr.BadUserInput || e.Field != tc.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT naming %s", err, tc.field)
			}
		})
	}
	if s, err := encode(Input{Name: "x", Where: &ent.TicketWhereInput{}}); err != nil || s.filter != nil {
		t.Fatalf("where: {} = %s, %v; want no filter", s.filter, err)
	}
}

func ptr[T any](v T) *T { return &v }
