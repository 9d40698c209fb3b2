package harness

import (
	"context"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// EventLog reads a database's event log directly: the truth that tests
// compare what clients saw with.
type EventLog struct{ Client *ent.Client }

// OpenEventLog opens tg's database (closed when the test ends).
func OpenEventLog(t *testing.T, tg dbtest.Target) EventLog { return EventLog{tg.Open(t)} }

// Head is the newest cursor (0 for an empty log).
func (l EventLog) Head(t *testing.T) int64 {
	t.Helper()
	e, err := l.Client.Event.Query().Order(ent.Desc(event.FieldCursor)).First(viewer.SystemContext(context.Background()))
	if ent.IsNotFound(err) {
		return 0
	}
	if err != nil {
		t.Fatalf("reading the event log: %v", err)
	}
	return e.Cursor
}

// CountAfter counts the events after cursor.
func (l EventLog) CountAfter(t *testing.T, cursor int64) int {
	t.Helper()
	n, err := l.Client.Event.Query().Where(event.CursorGT(cursor)).Count(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("counting events: %v", err)
	}
	return n
}
