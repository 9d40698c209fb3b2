package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
	"github.com/switchboardhq/switchboard/internal/testkit/s3test"
)

// png is the start of a PNG file: enough for the server to sniff image/png.
var png = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 4000)...)

// attachmentsWorld: a Support group with agent Ann, agent Cy outside it,
// two customers, and a ticket of the first customer in Support.
type attachmentsWorld struct {
	d                    *harness.Desk
	ann, cy, cust, other string // tokens
	ticket               string
	dataDir              string
}

func setupAttachments(t *testing.T, tg dbtest.Target, env map[string]string) *attachmentsWorld {
	t.Helper()
	d := harness.NewDesk(t, tg, env)
	w := &attachmentsWorld{d: d, dataDir: tg.DataDir}
	var annID string
	w.ann, annID = d.Staff(t, "ann@example.com", "Ann", "AGENT")
	w.cy, _ = d.Staff(t, "cy@example.com", "Cy", "AGENT")
	support := d.Group(t, "Support", annID)
	w.cust, _ = harness.Signup(t, d.S, "cust@example.com", "Cust")
	w.other, _ = harness.Signup(t, d.S, "other@example.com", "Other")
	w.ticket = d.Ticket(t, d.Admin, map[string]any{"subject": "Printer on fire", "body": "help", "groupID": support,
		"requesterID": harness.Str(d.S.Do(t, w.cust, `{ me { id } }`, nil).OK(t), "me", "id")})
	return w
}

const replyWithFiles = `mutation($t: ID!, $b: String!, $i: Boolean, $a: [ID!]) { addMessage(ticketID: $t, body: $b, internal: $i, attachmentIDs: $a) { id attachments { id filename size contentType url } } }`

// blobs counts the files of the attachments directory.
func blobs(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(dataDir, "attachments"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && len(e.Name()) == 64 {
			n++
		}
		return nil
	})
	return n
}

func spoolEmpty(t *testing.T, dataDir string) {
	t.Helper()
	for _, dir := range []string{filepath.Join(dataDir, "attachments", "tmp"), filepath.Join(dataDir, "spool")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			t.Errorf("left behind in %s: %s", dir, e.Name())
		}
	}
}

// storage is where a test server keeps its files, as the test sees it.
type storage struct {
	env map[string]string
	// blobs counts the stored files.
	blobs func(t *testing.T) int
	// cut makes the storage unreachable until the returned func.
	cut func(t *testing.T) (restore func())
}

// dirStorage is the default: the data directory's attachments.
func dirStorage(dataDir string) storage {
	return storage{
		blobs: func(t *testing.T) int { return blobs(t, dataDir) },
		cut: func(t *testing.T) func() {
			dir := filepath.Join(dataDir, "attachments")
			moved := dir + ".away"
			if err := os.Rename(dir, moved); err != nil {
				t.Fatal(err)
			}
			// A file where the directory was: every access fails, not
			// only as "missing".
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return func() {
				_ = os.Remove(dir)
				if err := os.Rename(moved, dir); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

// s3Storage is a bucket of its own on TEST_S3_URL's server, reached
// through a TCP relay the test can cut (a network failure, not a fake).
func s3Storage(t *testing.T) storage {
	raw := s3test.URL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	endpoint, _ := url.Parse(q.Get("endpoint"))
	relay := harness.StartRelay(t, endpoint.Host)
	endpoint.Host = relay.Addr()
	q.Set("endpoint", endpoint.String())
	u.RawQuery = q.Encode()
	store, err := attachments.NewS3(u.String())
	if err != nil {
		t.Fatal(err)
	}
	return storage{
		env: map[string]string{"SWITCHBOARD_ATTACHMENTS_URL": u.String()},
		blobs: func(t *testing.T) int {
			n := 0
			if err := store.Walk(context.Background(), func(attachments.BlobInfo) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			return n
		},
		cut: func(*testing.T) func() { relay.Cut(); return relay.Restore },
	}
}

func TestAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Run("Directory", func(t *testing.T) { testAttachments(t, tg, dirStorage(tg.DataDir)) })
		t.Run("S3", func(t *testing.T) { testAttachments(t, dbtest.NewTarget(t, tg.Dialect), s3Storage(t)) })
	})
}

func testAttachments(t *testing.T, tg dbtest.Target, store storage) {
	{
		w := setupAttachments(t, tg, harness.MergeEnv(map[string]string{"SWITCHBOARD_ATTACHMENTS_MAX_FILE_BYTES": "100000", "SWITCHBOARD_ATTACHMENTS_MAX_FILES": "3",
			"SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES": "250000"}, store.env))
		s := w.d.S

		t.Run("CustomerUploadsAndAttachesAnAgentDownloads", func(t *testing.T) {
			r := s.Upload(t, w.cust, "screenshot.png", png).OK(t)
			id, url := harness.Str(r, "uploadAttachment", "id"), harness.Str(r, "uploadAttachment", "url")
			if ct := harness.Str(r, "uploadAttachment", "contentType"); ct != "image/png" {
				t.Fatalf("contentType = %q, want image/png", ct)
			}
			if n := harness.Num(r, "uploadAttachment", "size"); n != len(png) {
				t.Fatalf("size = %d, want %d", n, len(png))
			}
			msg := s.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "see the screenshot", "a": []string{id}}).OK(t)
			if got := harness.Str(msg, "addMessage", "attachments", 0, "id"); got != id {
				t.Fatalf("the reply's attachments = %v", harness.Path(msg, "addMessage", "attachments"))
			}
			res, body := s.Download(t, w.ann, url, nil)
			if res.StatusCode != 200 || !bytes.Equal(body, png) {
				t.Fatalf("agent download: %d, %d bytes", res.StatusCode, len(body))
			}
			sum := sha256.Sum256(png)
			for h, want := range map[string]string{
				"Content-Type": "image/png", "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline; filename=screenshot.png",
				"ETag": `"` + hex.EncodeToString(sum[:]) + `"`,
			} {
				if got := res.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
				t.Errorf("CSP %q does not sandbox", csp)
			}
			t.Run("Range", func(t *testing.T) {
				res, body := s.Download(t, w.ann, url, map[string]string{"Range": "bytes=0-7"})
				if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, png[:8]) {
					t.Fatalf("range: %d %q", res.StatusCode, body)
				}
			})
			t.Run("IfNoneMatch", func(t *testing.T) {
				res, _ := s.Download(t, w.ann, url, map[string]string{"If-None-Match": res.Header.Get("ETag")})
				if res.StatusCode != http.StatusNotModified {
					t.Fatalf("If-None-Match: %d, want 304", res.StatusCode)
				}
			})
			t.Run("ErrOthersGetNotFoundLikeAMissingFile", func(t *testing.T) {
				_, missing := s.Download(t, w.ann, "/attachments/AF01M8YGYE1EHSK8XV37ZRY8EMGP/screenshot.png", nil)
				for who, token := range map[string]string{"other customer": w.other, "agent outside the group": w.cy, "anonymous": ""} {
					res, body := s.Download(t, token, url, nil)
					if res.StatusCode != http.StatusNotFound || !bytes.Equal(body, missing) {
						t.Errorf("%s: %d %s, want 404 %s", who, res.StatusCode, body, missing)
					}
				}
				res, _ := s.Download(t, w.ann, strings.TrimSuffix(url, "screenshot.png")+"other.png", nil)
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("another filename: %d, want 404", res.StatusCode)
				}
			})
			t.Run("ErrAttachedTwice", func(t *testing.T) {
				r := s.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "again", "a": []string{id}})
				if r.Code(t) != "BAD_USER_INPUT" {
					t.Fatalf("attaching an attached file again: %s", r.Raw)
				}
			})
		})

		t.Run("NotesFilesStayWithStaff", func(t *testing.T) {
			id, url := s.Uploaded(t, w.ann, "internal.log", []byte("stack trace of the printer driver"))
			s.Do(t, w.ann, replyWithFiles, map[string]any{"t": w.ticket, "b": "driver bug, see log", "i": true, "a": []string{id}}).OK(t)
			if res, _ := s.Download(t, w.cust, url, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("the customer downloads a note's file: %d", res.StatusCode)
			}
			if res, body := s.Download(t, w.ann, url, nil); res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
				!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("agent: %d %s %q", res.StatusCode, res.Header, body)
			}
			if node := s.Do(t, w.cust, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); node.Code(t) != "NOT_FOUND" {
				t.Errorf("the customer reads the note's file by node(id:): %s", node.Raw)
			}
			msgs := s.Do(t, w.cust, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { edges { node { attachments { id } } } } } } }`, map[string]any{"id": w.ticket}).OK(t)
			if strings.Contains(string(harness.JSON(t, msgs)), id) {
				t.Errorf("the note's file is in the customer's messages: %v", msgs)
			}
		})

		t.Run("TicketOpensWithFiles", func(t *testing.T) {
			id, _ := s.Uploaded(t, w.cust, "invoice.pdf", []byte("%PDF-1.4 an invoice"))
			r := s.Do(t, w.cust, `mutation($in: CreateTicketInput!) { createTicket(input: $in) { messages { edges { node { attachments { id contentType } } } } } }`,
				map[string]any{"in": map[string]any{"subject": "Invoice", "body": "wrong amount", "attachmentIDs": []string{id}}}).OK(t)
			if harness.Str(r, "createTicket", "messages", "edges", 0, "node", "attachments", 0, "contentType") != "application/pdf" {
				t.Fatalf("createTicket with a file: %v", r)
			}
		})

		t.Run("ErrSomeoneElsesUpload", func(t *testing.T) {
			id, _ := s.Uploaded(t, w.other, "mine.txt", []byte("not yours"))
			r := s.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "stealing", "a": []string{id}})
			if r.Code(t) != "BAD_USER_INPUT" || !strings.Contains(r.Raw, "attachmentIDs") {
				t.Fatalf("attaching another's upload: %s", r.Raw)
			}
			if n := s.Do(t, w.cust, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); n.Code(t) != "NOT_FOUND" {
				t.Fatalf("another's pending upload is readable: %s", n.Raw)
			}
			// The reply was not written.
			got := s.Do(t, w.cust, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { edges { node { body } } } } } }`, map[string]any{"id": w.ticket}).OK(t)
			if strings.Contains(string(harness.JSON(t, got)), "stealing") {
				t.Fatal("the refused reply was written")
			}
		})

		t.Run("IdenticalContentIsStoredOnce", func(t *testing.T) {
			before := store.blobs(t)
			content := []byte("the same bytes, uploaded twice")
			a, _ := s.Uploaded(t, w.cust, "a.txt", content)
			b, _ := s.Uploaded(t, w.other, "b.txt", content)
			if a == b {
				t.Fatal("two uploads share one attachment")
			}
			if after := store.blobs(t); after != before+1 {
				t.Fatalf("blobs %d → %d, want one more", before, after)
			}
		})

		t.Run("ContentTypeIsSniffedNotBelieved", func(t *testing.T) {
			body, ct := harness.MultipartBody(harness.UploadMutation, nil, []string{"file"}, []harness.File{{Name: "cat.png", ContentType: "image/png", Content: []byte("<html><script>alert(1)</script></html>")}})
			r := s.PostMultipart(t, body, ct, map[string]string{"Authorization": "Bearer " + w.cust}).OK(t)
			if got := harness.Str(r, "uploadAttachment", "contentType"); got != "text/html; charset=utf-8" {
				t.Fatalf("contentType = %q", got)
			}
		})

		t.Run("FilenamesAreSanitised", func(t *testing.T) {
			for name, want := range map[string]string{
				"../../etc/passwd":                "passwd",
				`C:\Users\me\report.pdf`:          "report.pdf",
				"bad\x01name\x7f.txt":             "badname.txt",
				"evil\u202etxt.exe":               "eviltxt.exe",
				"...":                             "file",
				strings.Repeat("x", 300) + ".pdf": strings.Repeat("x", 251) + ".pdf",
			} {
				r := s.Upload(t, w.cust, name, []byte("content")).OK(t)
				if got := harness.Str(r, "uploadAttachment", "filename"); got != want {
					t.Errorf("filename %q stored as %q, want %q", name, got, want)
				}
			}
		})

		t.Run("Limits", func(t *testing.T) {
			t.Run("ErrFileTooLarge", func(t *testing.T) {
				r := s.Upload(t, w.cust, "big.bin", make([]byte, 100001))
				if r.Status != http.StatusRequestEntityTooLarge || r.Code(t) != "PAYLOAD_TOO_LARGE" {
					t.Fatalf("file over the limit: %d %s", r.Status, r.Raw)
				}
			})
			t.Run("ErrRequestTooLarge", func(t *testing.T) {
				files := []harness.File{{Name: "1", Content: make([]byte, 90000)}, {Name: "2", Content: make([]byte, 90000)}, {Name: "3", Content: make([]byte, 90000)}}
				body, ct := harness.MultipartBody(`mutation($a: Upload!, $b: Upload!, $c: Upload!) { a: uploadAttachment(file: $a) { id } b: uploadAttachment(file: $b) { id } c: uploadAttachment(file: $c) { id } }`, nil, []string{"a", "b", "c"}, files)
				r := s.PostMultipart(t, body, ct, map[string]string{"Authorization": "Bearer " + w.cust})
				if r.Status != http.StatusRequestEntityTooLarge || r.Code(t) != "PAYLOAD_TOO_LARGE" {
					t.Fatalf("request over the limit: %d %s", r.Status, r.Raw)
				}
			})
			t.Run("ErrTooManyFiles", func(t *testing.T) {
				var files []harness.File
				var names []string
				q := "mutation("
				for _, n := range []string{"a", "b", "c", "d"} {
					files, names = append(files, harness.File{Name: n, Content: []byte(n)}), append(names, n)
					q += "$" + n + ": Upload!,"
				}
				q += ") { a: uploadAttachment(file: $a) { id } }"
				body, ct := harness.MultipartBody(q, nil, names, files)
				r := s.PostMultipart(t, body, ct, map[string]string{"Authorization": "Bearer " + w.cust})
				if r.Code(t) != "BAD_USER_INPUT" {
					t.Fatalf("4 files over a limit of 3: %s", r.Raw)
				}
				var ids []string
				for i := 0; i < 4; i++ {
					id, _ := s.Uploaded(t, w.cust, "f.txt", []byte{byte(i)})
					ids = append(ids, id)
				}
				if r := s.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "four files", "a": ids}); r.Code(t) != "BAD_USER_INPUT" {
					t.Fatalf("a message with 4 files over a limit of 3: %s", r.Raw)
				}
			})
			t.Run("ErrMalformedMultipart", func(t *testing.T) {
				for name, body := range map[string]string{
					"NoOperations":      "--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--b--\r\n",
					"OperationsNotJSON": "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{not json\r\n--b--\r\n",
					"CutOff":            "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"mutation($f: Upload!){uploadAttachment(file:$f){id}}\",\"variables\":{\"f\":null}}\r\n--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n--b\r\nContent-Disposition: form-data; name=\"0\"; filename=\"x\"\r\n\r\nhalf a fi",
					"FileNotInMap":      "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"mutation($f: Upload!){uploadAttachment(file:$f){id}}\",\"variables\":{\"f\":null}}\r\n--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n--b\r\nContent-Disposition: form-data; name=\"9\"; filename=\"x\"\r\n\r\nx\r\n--b--\r\n",
					"MapToNowhere":      "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"mutation($f: Upload!){uploadAttachment(file:$f){id}}\",\"variables\":{\"f\":null}}\r\n--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.nope.deeper\"]}\r\n--b\r\nContent-Disposition: form-data; name=\"0\"; filename=\"x\"\r\n\r\nx\r\n--b--\r\n",
				} {
					t.Run(name, func(t *testing.T) {
						r := s.PostMultipart(t, []byte(body), "multipart/form-data; boundary=b", map[string]string{"Authorization": "Bearer " + w.cust})
						if r.Status != http.StatusBadRequest || r.Code(t) != "BAD_USER_INPUT" {
							t.Fatalf("%d %s, want 400 BAD_USER_INPUT", r.Status, r.Raw)
						}
					})
				}
			})
			t.Run("ErrUploadIsNotAString", func(t *testing.T) {
				r := s.Do(t, w.cust, harness.UploadMutation, map[string]any{"file": "not a file"})
				if r.Code(t) != "BAD_USER_INPUT" {
					t.Fatalf("a string for Upload: %s", r.Raw)
				}
			})
			spoolEmpty(t, w.dataDir)
		})

		t.Run("ErrCookieMultipartNeedsTheCSRFHeader", func(t *testing.T) {
			res, _ := s.Post(t, `mutation { login(email: "cust@example.com", password: "`+harness.SignupPassword+`", cookie: true) { token } }`, nil, nil)
			cookie := harness.SessionCookie(res)
			body, ct := harness.MultipartBody(harness.UploadMutation, nil, []string{"file"}, []harness.File{{Name: "a.txt", Content: []byte("a")}})
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value}) // #nosec G124 -- a request cookie
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("cookie multipart without the CSRF header: %d, want 415", resp.StatusCode)
			}
			r := s.PostMultipart(t, body, ct, map[string]string{"X-Switchboard-CSRF": "1", "Cookie": cookie.Name + "=" + cookie.Value})
			r.OK(t)
		})

		t.Run("ErrStorageUnavailableWritesNoMessage", func(t *testing.T) {
			id, _ := s.Uploaded(t, w.cust, "late.txt", []byte("uploaded before the disk went away"))
			restore := store.cut(t)
			r := s.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "while storage is down", "a": []string{id}})
			up := s.Upload(t, w.cust, "new.txt", []byte("new"))
			restore()
			if r.Code(t) != "UNAVAILABLE" {
				t.Fatalf("reply while storage is down: %s", r.Raw)
			}
			if up.Code(t) != "UNAVAILABLE" {
				t.Fatalf("upload while storage is down: %s", up.Raw)
			}
			got := s.Do(t, w.cust, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { edges { node { body } } } } } }`, map[string]any{"id": w.ticket}).OK(t)
			if strings.Contains(string(harness.JSON(t, got)), "while storage is down") {
				t.Fatal("the message was written while storage was down")
			}
			// Back up: the same upload attaches.
			s.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "storage is back", "a": []string{id}}).OK(t)
		})
	}
}

// TestLargeUpload: a file of many times the ordinary body limit (1 MiB)
// streams through with the default limits, and comes back byte for byte;
// one over the default file limit (25 MiB) is refused with 413.
func TestLargeUpload(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	w := setupAttachments(t, tg, nil)
	content := bytes.Repeat([]byte("0123456789abcdef"), 20<<20/16) // 20 MiB
	id, url := w.d.S.Uploaded(t, w.cust, "big.bin", content)
	w.d.S.Do(t, w.cust, replyWithFiles, map[string]any{"t": w.ticket, "b": "a big log", "a": []string{id}}).OK(t)
	res, body := w.d.S.Download(t, w.ann, url, nil)
	if res.StatusCode != 200 || !bytes.Equal(body, content) {
		t.Fatalf("download: %d, %d bytes of %d", res.StatusCode, len(body), len(content))
	}
	r := w.d.S.Upload(t, w.cust, "huge.bin", make([]byte, 25<<20+1))
	if r.Status != http.StatusRequestEntityTooLarge || r.Code(t) != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("over 25 MiB: %d %s", r.Status, r.Raw)
	}
	spoolEmpty(t, w.dataDir)
}
