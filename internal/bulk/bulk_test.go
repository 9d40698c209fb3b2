package bulk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/bulk"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

type store struct {
	client *ent.Client
	db     *database.SQL
}

func open(t *testing.T, tg dbtest.Target) store {
	t.Helper()
	client := tg.Open(t)
	db, err := database.OpenSQL(tg.DatabaseURL, tg.DataDir, database.Pool{}, tg.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return store{client, db}
}

func seeded(t *testing.T, tg dbtest.Target) (store, *seed.Result) {
	t.Helper()
	s := open(t, tg)
	res, err := seed.Run(context.Background(), s.db, seed.Options{Tickets: 60, Messages: 400, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return s, res
}

func export(t *testing.T, s store, opts bulk.ExportOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := bulk.Export(context.Background(), s.client, &out, opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func lines(b []byte) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, bulk.MaxLine)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	return out
}

func ticketSequence(t *testing.T, s store) int {
	t.Helper()
	seq, err := s.client.Sequence.Query().Where(sequence.Name(entschema.TicketNumberSequence)).Only(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return seq.Value
}

func TestExportImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		src, res := seeded(t, tg)
		first := export(t, src, bulk.ExportOptions{})
		types := map[string]int{}
		for _, l := range lines(first) {
			types[l["type"].(string)]++
		}
		if types["group"] != 8 || types["user"] != res.Customers+res.Agents+res.Admins || types["ticket"] != 60 || types["message"] != 400 {
			t.Fatalf("export has %v", types)
		}
		if !bytes.Contains(first, []byte(`"phone":"+`)) {
			t.Fatal("phones are not exported in clear text")
		}

		t.Run("ImportIntoAnEmptyDatabaseReproducesTheData", func(t *testing.T) {
			dst := open(t, dbtest.NewTarget(t, tg.Dialect))
			counts, err := bulk.Import(ctx, dst.client, bytes.NewReader(first), bulk.ImportOptions{Batch: 70})
			if err != nil {
				t.Fatal(err)
			}
			if counts.Tickets != 60 || counts.Messages != 400 || counts.Users != res.Customers+res.Agents+res.Admins {
				t.Fatalf("imported %+v", counts)
			}
			if second := export(t, dst, bulk.ExportOptions{}); !bytes.Equal(first, second) {
				t.Fatalf("export after import differs:\n%s", firstDifference(first, second))
			}
			if n := ticketSequence(t, dst); n != 60 {
				t.Fatalf("ticket number sequence at %d after importing tickets 1–60", n)
			}
			// The imported accounts sign in with their passwords (hashes
			// travel), and their phones were encrypted again on the way in.
			u, err := dst.client.User.Query().Where(user.EmailEQ(res.Customer)).Only(viewer.SystemContext(ctx))
			if err != nil || u.PasswordHash == "" {
				t.Fatalf("imported customer %v, %v", u, err)
			}
			var raw string
			if err := dst.db.DB.QueryRow(dst.db.Rebind("SELECT COALESCE(phone, '') FROM users WHERE phone IS NOT NULL LIMIT 1")).Scan(&raw); err != nil || strings.HasPrefix(raw, "+") {
				t.Fatalf("phone stored as %q (%v), want ciphertext", raw, err)
			}

			t.Run("ReRunningChangesNothing", func(t *testing.T) {
				// Not even a write that changes nothing: no hook acts.
				var writes atomic.Int64
				dst.client.Use(func(next ent.Mutator) ent.Mutator {
					return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
						writes.Add(1)
						return next.Mutate(ctx, m)
					})
				})
				if _, err := bulk.Import(ctx, dst.client, bytes.NewReader(first), bulk.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				if n := writes.Load(); n != 0 {
					t.Fatalf("re-running the import wrote %d times", n)
				}
				if again := export(t, dst, bulk.ExportOptions{}); !bytes.Equal(first, again) {
					t.Fatalf("second import changed the data:\n%s", firstDifference(first, again))
				}
			})
		})

		t.Run("ErrBadLineNamesTheLineAndKeepsEarlierBatches", func(t *testing.T) {
			dst := open(t, dbtest.NewTarget(t, tg.Dialect))
			all := bytes.SplitAfter(first, []byte("\n"))
			// A ticket whose requester does not exist, on line 50 (the
			// lines after the 8 groups and 19 users are tickets).
			bad := lines(all[49])[0]
			if bad["type"] != "ticket" {
				t.Fatalf("line 50 is a %v", bad["type"])
			}
			bad["requester"] = "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7"
			badLine, _ := json.Marshal(bad)
			broken := bytes.Join(append(append(append([][]byte{}, all[:49]...), append(badLine, '\n')), all[50:]...), nil)
			_, err := bulk.Import(ctx, dst.client, bytes.NewReader(broken), bulk.ImportOptions{Batch: 20})
			var le *bulk.LineErrors
			if !errors.As(err, &le) || !strings.Contains(err.Error(), `line 50: ticket: requester "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7" not found`) {
				t.Fatalf("error = %v", err)
			}
			if le.Committed != 40 {
				t.Fatalf("%d lines committed before the bad batch, want 40", le.Committed)
			}
			// Lines 41–49 are in the failed batch: none of them landed.
			got := lines(export(t, dst, bulk.ExportOptions{}))
			if len(got) != 40 {
				t.Fatalf("%d lines in the database after the failed import, want the first two batches (40)", len(got))
			}
			t.Run("ReRunWithTheFixedFileCompletes", func(t *testing.T) {
				if _, err := bulk.Import(ctx, dst.client, bytes.NewReader(first), bulk.ImportOptions{Batch: 20}); err != nil {
					t.Fatal(err)
				}
				if again := export(t, dst, bulk.ExportOptions{}); !bytes.Equal(first, again) {
					t.Fatalf("resumed import differs:\n%s", firstDifference(first, again))
				}
			})
		})

		t.Run("ErrInvalidLines", func(t *testing.T) {
			dst := open(t, dbtest.NewTarget(t, tg.Dialect))
			group := `{"type":"group","id":"GR01J9Z3X8Q0W2E5R7T9Y1V3K5M7","name":"Billing","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`
			for name, tc := range map[string]struct{ file, want string }{
				"NotJSON":       {group + "\n{oops\n", "line 2: not a valid record"},
				"TwoValues":     {group + " " + group, "line 1: more than one JSON value on the line"},
				"UnknownType":   {`{"type":"invoice","id":"x"}`, `line 1: unknown type "invoice"`},
				"UnknownField":  {`{"type":"group","colour":"red"}`, `line 1: not a valid record: json: unknown field "colour"`},
				"WrongIDPrefix": {`{"type":"group","id":"US01J9Z3X8Q0W2E5R7T9Y1V3K5M7","name":"x","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`, `line 1: group: id "US01J9Z3X8Q0W2E5R7T9Y1V3K5M7" is not a group ID`},
				"BadEmail":      {`{"type":"user","id":"US01J9Z3X8Q0W2E5R7T9Y1V3K5M7","email":"nope","name":"x","role":"CUSTOMER","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`, `line 1: user: email "nope" is not a valid address`},
				// The schema's limit is 100 bytes: 60 two-byte characters are too many.
				"NameTooLong":   {strings.Replace(group, `"Billing"`, `"`+strings.Repeat("é", 60)+`"`, 1), "line 1: group: name is not valid"},
				"DuplicateName": {group + "\n" + strings.Replace(group, "GR01J9Z3X8Q0W2E5R7T9Y1V3K5M7", "GR01J9Z3X8Q0W2E5R7T9Y1V3K5M8", 1), "line 2: group: name Billing is also used on line 1"},
			} {
				t.Run(name, func(t *testing.T) {
					_, err := bulk.Import(ctx, dst.client, strings.NewReader(tc.file), bulk.ImportOptions{})
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("error = %v, want %q", err, tc.want)
					}
				})
			}
		})

		t.Run("DataSubjectExport", func(t *testing.T) {
			out := lines(export(t, src, bulk.ExportOptions{User: strings.ToUpper(res.Customer)}))
			u, err := src.client.User.Query().Where(user.EmailEQ(res.Customer)).Only(viewer.SystemContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			tickets := map[any]bool{}
			messages := 0
			for i, l := range out {
				switch l["type"] {
				case "user":
					if i != 0 || l["id"] != string(u.ID) || l["password_hash"] != nil || l["groups"] != nil {
						t.Fatalf("user line %d: %v", i, l)
					}
				case "ticket":
					if l["requester"] != string(u.ID) || l["assignee"] != nil {
						t.Fatalf("ticket line %v", l)
					}
					tickets[l["id"]] = true
				case "message":
					if !tickets[l["ticket"]] || l["internal"] == true {
						t.Fatalf("message line %v", l)
					}
					messages++
				default:
					t.Fatalf("line %v in a data-subject export", l)
				}
			}
			want, err := src.client.Message.Query().Where().Count(viewer.SystemContext(ctx))
			if err != nil || len(tickets) == 0 || messages == 0 || messages >= want {
				t.Fatalf("%d tickets and %d messages of %d exported", len(tickets), messages, want)
			}
		})

		t.Run("ErrUnknownUser", func(t *testing.T) {
			_, err := bulk.Export(ctx, src.client, &bytes.Buffer{}, bulk.ExportOptions{User: "nobody@example.com"})
			if err == nil || !strings.Contains(err.Error(), "nobody@example.com") {
				t.Fatalf("error = %v", err)
			}
		})
	})
}

// TestImportLargeBatch checks one batch with more values to look up than
// SQLite binds in one statement (32,766): the last address is taken.
func TestImportLargeBatch(t *testing.T) {
	ctx := context.Background()
	dst := open(t, dbtest.NewTarget(t, dbtest.SQLite))
	const n = 33_000
	holder, err := dst.client.User.Create().SetEmail(fmt.Sprintf("u%d@example.com", n-1)).SetName("Holder").Save(viewer.SystemContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	for i := range n {
		fmt.Fprintf(&file, `{"type":"user","id":"%s","email":"u%d@example.com","name":"U","role":"CUSTOMER","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`+"\n",
			globalid.New(globalid.PrefixUser), i)
	}
	_, err = bulk.Import(ctx, dst.client, &file, bulk.ImportOptions{Batch: 100_000})
	want := fmt.Sprintf("line %d: user: email u%d@example.com already belongs to user %q", n, n-1, holder.ID)
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func firstDifference(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return fmt.Sprintf("line %d:\n  before: %s\n  after:  %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines before, %d after", len(la), len(lb))
}
