package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/attachment"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/bulk"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/filetest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// exportFiles exports with the attachments' files, to a new directory.
func exportFiles(t *testing.T, s store, f filetest.Files, opts bulk.ExportOptions) (out []byte, dir string, counts bulk.ExportCounts) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "export.jsonl.files")
	opts.Files, opts.Attachments = dir, f.Svc
	var b bytes.Buffer
	counts, err := bulk.Export(context.Background(), s.client, &b, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), dir, counts
}

// filesIn are the files of an export's directory, by name.
func filesIn(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[e.Name()] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// attachmentLines are the lines of the attachments, by ID, with their
// line numbers.
func attachmentLines(b []byte) (recs map[string]map[string]any, lineOf map[string]int) {
	recs, lineOf = map[string]map[string]any{}, map[string]int{}
	for i, l := range lines(b) {
		if l["type"] == bulk.TypeAttachment {
			recs[l["id"].(string)] = l
			lineOf[l["id"].(string)] = i + 1
		}
	}
	return recs, lineOf
}

// replaceLine returns file with line n (1-based) replaced by the record.
func replaceLine(t *testing.T, file []byte, n int, rec map[string]any) []byte {
	t.Helper()
	all := bytes.SplitAfter(file, []byte("\n"))
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	all[n-1] = append(b, '\n')
	return bytes.Join(all, nil)
}

func clone(m map[string]any) map[string]any { return maps.Clone(m) }

const png = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR a screenshot"

// TestExportImportAttachments exports a helpdesk with files, imports it
// into a new one, and checks what import refuses.
func TestExportImportAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		sys := viewer.SystemContext(ctx)
		src, res := seeded(t, tg)
		srcFiles := filetest.New(t, src.client)
		customer := src.client.User.Query().Where(user.EmailEQ(res.Customer)).OnlyX(sys)
		agent := src.client.User.Query().Where(user.EmailEQ(res.Agent)).OnlyX(sys)
		tk := src.client.Ticket.Query().Where(ticket.RequesterID(customer.ID)).FirstX(sys)
		quiet := entschema.SkipHooks(sys, entschema.SkipEvents)
		public := src.client.Message.Create().SetTicketID(tk.ID).SetAuthorID(customer.ID).SetBody("Screenshots attached").SaveX(quiet)
		note := src.client.Message.Create().SetTicketID(tk.ID).SetAuthorID(agent.ID).SetBody("Their logs").SetInternal(true).SaveX(quiet)
		// Two attachments share one content: one file.
		shot := srcFiles.Attach(t, srcFiles.Upload(t, customer, "screenshot.png", png), public)
		text := srcFiles.Attach(t, srcFiles.Upload(t, customer, "notes.txt", "the same notes twice"), public)
		srcFiles.Attach(t, srcFiles.Upload(t, agent, "notes.txt", "the same notes twice"), note)
		logs := srcFiles.Attach(t, srcFiles.Upload(t, agent, "server.log", "only on the internal note"), note)
		pending := srcFiles.Upload(t, customer, "draft.txt", "never attached")
		content := map[string]string{shot.Sha256: png, text.Sha256: "the same notes twice", logs.Sha256: "only on the internal note"}

		first, dir, counts := exportFiles(t, src, srcFiles, bulk.ExportOptions{})
		recs, lineOf := attachmentLines(first)
		t.Run("ExportWritesTheLinesAndEachFileOnce", func(t *testing.T) {
			if counts.Attachments != 4 || counts.Files != 3 || len(recs) != 4 {
				t.Fatalf("counts %+v, %d attachment lines; want 4 attachments (not the pending upload) and 3 files", counts, len(recs))
			}
			if _, ok := recs[string(pending.ID)]; ok {
				t.Fatal("a pending upload was exported")
			}
			want := map[string]any{"type": "attachment", "id": string(shot.ID), "created_at": shot.CreatedAt.UTC().Format(time.RFC3339Nano),
				"filename": "screenshot.png", "size": float64(len(png)), "content_type": "image/png", "sha256": shot.Sha256,
				"uploader": string(customer.ID), "message": string(public.ID), "ticket": string(tk.ID)}
			if got := recs[string(shot.ID)]; !maps.Equal(got, want) {
				t.Fatalf("line\n  %v\nwant\n  %v", got, want)
			}
			files := filesIn(t, dir)
			if len(files) != 3 {
				t.Fatalf("%d files exported, want 3", len(files))
			}
			for key, c := range content {
				if string(files[key]) != c {
					t.Fatalf("file %s holds %q, want %q", key, files[key], c)
				}
				if st, err := os.Stat(bulk.FilePath(dir, key)); err != nil || st.Mode().Perm() != 0o600 {
					t.Fatalf("file %s: %v, %v; want mode 0600", key, st, err)
				}
			}
		})

		t.Run("ErrFilesRequired", func(t *testing.T) {
			var out bytes.Buffer
			_, err := bulk.Export(ctx, src.client, &out, bulk.ExportOptions{})
			if !errors.Is(err, bulk.ErrFilesRequired) || !strings.Contains(err.Error(), "4 attachments") || out.Len() != 0 {
				t.Fatalf("error = %v, %d bytes written", err, out.Len())
			}
		})

		t.Run("DataSubjectExportLeavesOutTheNotesFiles", func(t *testing.T) {
			out, dir, counts := exportFiles(t, src, srcFiles, bulk.ExportOptions{User: res.Customer})
			recs, _ := attachmentLines(out)
			if len(recs) != 2 || recs[string(shot.ID)] == nil || recs[string(text.ID)] == nil || counts.Files != 2 {
				t.Fatalf("attachments %v, counts %+v; want the two of the public message", recs, counts)
			}
			files := filesIn(t, dir)
			if _, ok := files[logs.Sha256]; ok || len(files) != 2 {
				t.Fatalf("files %v: the note's file was exported", slices.Collect(maps.Keys(files)))
			}
		})

		dst := open(t, dbtest.NewTarget(t, tg.Dialect))
		dstFiles := filetest.New(t, dst.client)
		imported, err := bulk.Import(ctx, dst.client, bytes.NewReader(first), bulk.ImportOptions{Batch: 70, Files: dir, Attachments: dstFiles.Svc})
		if err != nil {
			t.Fatal(err)
		}
		t.Run("ImportRestoresRowsAndFiles", func(t *testing.T) {
			if imported.Attachments != 4 || imported.Files != 3 {
				t.Fatalf("imported %+v, want 4 attachments and 3 files", imported)
			}
			second, dir2, _ := exportFiles(t, dst, dstFiles, bulk.ExportOptions{})
			if !bytes.Equal(first, second) {
				t.Fatalf("export after import differs:\n%s", firstDifference(first, second))
			}
			if a, b := filesIn(t, dir), filesIn(t, dir2); !maps.EqualFunc(a, b, bytes.Equal) {
				t.Fatal("the files exported after the import differ")
			}
			blobs := dstFiles.Blobs(t)
			if len(blobs) != 3 {
				t.Fatalf("%d blobs stored, want 3", len(blobs))
			}
			for key, c := range content {
				if b, err := os.ReadFile(dstFiles.Path(key)); err != nil || string(b) != c {
					t.Fatalf("blob %s holds %q (%v)", key, b, err)
				}
			}
		})

		t.Run("ReImportStoresNothingTwice", func(t *testing.T) {
			// A time no write would give them.
			hourAgo := time.Now().Add(-time.Hour).Truncate(time.Second)
			for key := range content {
				dstFiles.SetTime(t, key, hourAgo)
			}
			before := dstFiles.Blobs(t)
			again, err := bulk.Import(ctx, dst.client, bytes.NewReader(first), bulk.ImportOptions{Files: dir, Attachments: dstFiles.Svc})
			if err != nil || again.Files != 0 || again.Attachments != 4 {
				t.Fatalf("re-import: %+v, %v; want 0 files stored", again, err)
			}
			if after := dstFiles.Blobs(t); !maps.EqualFunc(before, after, time.Time.Equal) {
				t.Fatalf("blobs %v before, %v after", before, after)
			}
			if n := dst.client.Attachment.Query().CountX(sys); n != 4 {
				t.Fatalf("%d attachments after the re-import", n)
			}
		})

		t.Run("ImportOverAStoreThatHasTheFiles", func(t *testing.T) {
			// Another database over the same store: recent blobs are
			// taken as they are, one written long ago is written again,
			// so that the sweeper cannot take it before the rows commit.
			other := open(t, dbtest.NewTarget(t, tg.Dialect))
			shared := filetest.NewIn(t, other.client, dstFiles.Dir.Root())
			dstFiles.SetTime(t, logs.Sha256, time.Now().Add(-20*time.Hour))
			before := dstFiles.Blobs(t)
			got, err := bulk.Import(ctx, other.client, bytes.NewReader(first), bulk.ImportOptions{Files: dir, Attachments: shared.Svc})
			if err != nil || got.Attachments != 4 || got.Files != 1 {
				t.Fatalf("%+v, %v; want the one old file written", got, err)
			}
			after := dstFiles.Blobs(t)
			if !after[logs.Sha256].After(before[logs.Sha256]) || !after[text.Sha256].Equal(before[text.Sha256]) || !after[shot.Sha256].Equal(before[shot.Sha256]) {
				t.Fatalf("blob times %v before, %v after", before, after)
			}
			t.Run("WithoutTheDirectory", func(t *testing.T) {
				// Every file is in the store, and recent: none is read.
				third := open(t, dbtest.NewTarget(t, tg.Dialect))
				got, err := bulk.Import(ctx, third.client, bytes.NewReader(first), bulk.ImportOptions{Attachments: filetest.NewIn(t, third.client, dstFiles.Dir.Root()).Svc})
				if err != nil || got.Attachments != 4 || got.Files != 0 {
					t.Fatalf("%+v, %v", got, err)
				}
			})
		})

		// fresh imports file into an empty database with a store of its
		// own and returns the error, the database and the store.
		fresh := func(t *testing.T, file []byte, files string) (store, filetest.Files, error) {
			s := open(t, dbtest.NewTarget(t, tg.Dialect))
			f := filetest.New(t, s.client)
			_, err := bulk.Import(ctx, s.client, bytes.NewReader(file), bulk.ImportOptions{Files: files, Attachments: f.Svc})
			return s, f, err
		}
		// tampered copies the export's files with fn applied to the file
		// of key.
		tampered := func(t *testing.T, key string, fn func(path string)) string {
			copied := filepath.Join(t.TempDir(), "files")
			if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			fn(bulk.FilePath(copied, key))
			return copied
		}
		n := lineOf[string(logs.ID)]
		for name, tc := range map[string]struct {
			change func(path string)
			want   string
		}{
			"ErrChangedBytes": {func(p string) { os.WriteFile(p, []byte("only on the internal NOTE"), 0o600) },
				"its SHA-256 is "},
			"ErrTruncated": {func(p string) { os.WriteFile(p, []byte("only on"), 0o600) },
				"it has 7 bytes, not 25"},
			"ErrLonger": {func(p string) { os.WriteFile(p, []byte("only on the internal note, and more"), 0o600) },
				"it is longer than 25 bytes"},
		} {
			t.Run(name, func(t *testing.T) {
				files := tampered(t, logs.Sha256, tc.change)
				s, f, err := fresh(t, first, files)
				var le *bulk.LineErrors
				want := "line " + strconv.Itoa(n) + ": attachment: its file " + bulk.FilePath(files, logs.Sha256) + " does not match the line: " + tc.want
				if !errors.As(err, &le) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing was stored for it") {
					t.Fatalf("error = %v\nwant %s", err, want)
				}
				if f.Stored(t, logs.Sha256) {
					t.Fatal("the tampered file was stored")
				}
				if got := s.client.Attachment.Query().CountX(sys); got != 0 || le.Committed != 0 {
					t.Fatalf("%d attachments, %d lines committed: the batch with the bad line was written", got, le.Committed)
				}
			})
		}
		t.Run("ErrMissingFile", func(t *testing.T) {
			files := tampered(t, logs.Sha256, func(p string) { os.Remove(p) })
			_, _, err := fresh(t, first, files)
			want := "line " + strconv.Itoa(n) + ": attachment: its file " + bulk.FilePath(files, logs.Sha256) + " is missing"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want %s", err, want)
			}
		})
		t.Run("ErrNoDirectory", func(t *testing.T) {
			_, _, err := fresh(t, first, "")
			if err == nil || !strings.Contains(err.Error(), "is not in the attachments store, and no directory of files was given") {
				t.Fatalf("error = %v", err)
			}
		})

		t.Run("ErrInvalidLines", func(t *testing.T) {
			line := recs[string(shot.ID)]
			n := lineOf[string(shot.ID)]
			otherTicket := src.client.Ticket.Query().Where(ticket.IDNEQ(tk.ID)).FirstX(sys)
			unknown := globalid.New(globalid.PrefixMessage)
			for name, tc := range map[string]struct {
				field string
				value any
				want  string
			}{
				"BadSha256":      {"sha256", strings.ToUpper(shot.Sha256), "attachment: sha256 \"" + strings.ToUpper(shot.Sha256) + "\" is not a SHA-256"},
				"NegativeSize":   {"size", -1, "attachment: size is required"},
				"NoSize":         {"size", nil, "attachment: size is required"},
				"NoFilename":     {"filename", "", "attachment: filename is required"},
				"BadType":        {"content_type", "not a type", "attachment: content_type \"not a type\" is not a media type"},
				"WrongIDPrefix":  {"id", string(public.ID), "attachment: id \"" + string(public.ID) + "\" is not an attachment ID"},
				"NoMessage":      {"message", nil, "attachment: message \"\" is not a message ID"},
				"UnknownMessage": {"message", string(unknown), "attachment: message \"" + string(unknown) + "\" not found"},
				"OtherTicket": {"ticket", string(otherTicket.ID),
					"attachment: ticket \"" + string(otherTicket.ID) + "\" is not that of message \"" + string(public.ID) + "\", which is on ticket \"" + string(tk.ID) + "\""},
			} {
				t.Run(name, func(t *testing.T) {
					rec := clone(line)
					if tc.value == nil {
						delete(rec, tc.field)
					} else {
						rec[tc.field] = tc.value
					}
					want := tc.want
					// Into the database that has everything: the lines
					// are checked before anything is written.
					_, err := bulk.Import(ctx, dst.client, bytes.NewReader(replaceLine(t, first, n, rec)), bulk.ImportOptions{Files: dir, Attachments: dstFiles.Svc})
					if err == nil || !strings.Contains(err.Error(), "line "+strconv.Itoa(n)+": "+want) {
						t.Fatalf("error = %v, want line %d: %s", err, n, want)
					}
				})
			}
		})

		t.Run("FilenameSanitisedAndTypeSniffed", func(t *testing.T) {
			// A new attachment of the screenshot, whose line claims a
			// path for a name and HTML for a type.
			rec := clone(recs[string(shot.ID)])
			id := globalid.New(globalid.PrefixAttachment)
			rec["id"], rec["filename"], rec["content_type"] = string(id), "../../etc/\u202epasswd.png", "text/html"
			file := replaceLine(t, first, lineOf[string(shot.ID)], rec)
			if _, err := bulk.Import(ctx, dst.client, bytes.NewReader(file), bulk.ImportOptions{Files: dir, Attachments: dstFiles.Svc}); err != nil {
				t.Fatal(err)
			}
			a, err := dst.client.Attachment.Query().Where(attachment.ID(id)).Only(sys)
			if err != nil || a.Filename != "passwd.png" || a.ContentType != "image/png" {
				t.Fatalf("imported as %+v (%v); want passwd.png, image/png", a, err)
			}
		})
	})
}
