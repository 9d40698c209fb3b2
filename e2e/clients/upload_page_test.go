package clients_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// uploadPageFile is the file the page uploads: a PNG signature (so the
// server sniffs image/png), then every byte value, CRLFs and something
// that looks like a multipart boundary, so that a client or server that
// treats the body as text, or splits it, shows.
func uploadPageFile() []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	for i := range 256 {
		b = append(b, byte(i))
	}
	b = append(b, "\r\n--boundary\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n"...)
	return append(b, bytes.Repeat([]byte{0, 0xff}, 2048)...)
}

// uploadPageRequest is what clients/upload-page.mjs saw the page send to
// /query for a step, and the status it got.
type uploadPageRequest struct {
	ContentType string  `json:"contentType"`
	CSRF        *string `json:"csrf"`
	Cookie      bool    `json:"cookie"`
	Status      int     `json:"status"`
}

type uploadPageAttachment struct {
	ID          string  `json:"id"`
	Filename    string  `json:"filename"`
	Size        int     `json:"size"`
	ContentType string  `json:"contentType"`
	URL         string  `json:"url"`
	MessageID   *string `json:"messageID"`
}

// uploadPageError is an Apollo Client 4 error, as the page described it.
type uploadPageError struct {
	Name       string   `json:"name"`
	Message    string   `json:"message"`
	StatusCode int      `json:"statusCode"`
	Codes      []string `json:"codes"`
	BodyText   string   `json:"bodyText"`
}

// TestUploadPage uploads a file the way a browser app does, in headless
// Chromium: clients/upload-page.mjs signs a customer in with
// login(cookie: true) through Apollo Client, picks the file in an
// <input type=file>, uploads it with apollo-upload-client's
// UploadHttpLink (the GraphQL multipart request spec, with the session
// cookie and the X-Switchboard-CSRF header) and attaches it to a reply
// with addMessage(attachmentIDs:). Then, outside the browser, an agent of
// the ticket's group downloads the same bytes, while another customer and
// an agent outside the group get the 404 of a file that does not exist.
// The same upload from the same page without the CSRF header is refused
// with 415 UNSUPPORTED_MEDIA_TYPE, as any POST that is not JSON without it.
func TestUploadPage(t *testing.T) {
	wallboardPageAvailable(t) // the same needs: node, playwright-core, Chromium
	if _, err := os.Stat(harness.RepoFile(t, "clients", "node_modules", "apollo-upload-client", "package.json")); err != nil {
		t.Skip("upload page test skipped: clients/node_modules/apollo-upload-client is missing; install with `npm ci --prefix clients`")
	}
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "ADMIN", "correct horse battery staple 1")
	s := harness.Start(t, tg, nil)
	admin := harness.Login(t, s, "admin@example.com", "correct horse battery staple 1")
	agents := map[string]string{}
	for _, email := range []string{"in.agent@example.com", "out.agent@example.com"} {
		id := harness.Str(s.Do(t, admin, `mutation($email: String!) { inviteUser(input: {email: $email, name: "Agent", role: AGENT, password: "copper fox meadow 77"}) { id } }`,
			map[string]any{"email": email}).OK(t), "inviteUser", "id")
		agents[email] = id
	}
	agentIn := harness.Login(t, s, "in.agent@example.com", "copper fox meadow 77")
	agentOut := harness.Login(t, s, "out.agent@example.com", "copper fox meadow 77")
	group := harness.Str(s.Do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Support", memberIDs: $m}) { id } }`,
		map[string]any{"m": []string{agents["in.agent@example.com"]}}).OK(t), "createGroup", "id")
	_, cara := harness.Signup(t, s, "cara@example.com", "Cara")
	otherCustomer, _ := harness.Signup(t, s, "bob@example.com", "Bob")
	ticket := harness.Str(s.Do(t, admin, `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`, map[string]any{"input": map[string]any{
		"subject": "Printer on fire", "body": "see the diagram", "requesterID": cara, "groupID": group,
	}}).OK(t), "createTicket", "id")

	content := uploadPageFile()
	path := filepath.Join(t.TempDir(), "diagram.png")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	// Chromium under -race on a loaded machine: a minute for the run.
	p := startRefClientWith(t, time.Minute, "upload-page.mjs", s.URL, "cara@example.com", harness.SignupPassword, ticket, path)

	var login struct {
		Login struct {
			User          struct{ Email, Role string }
			CookieVisible bool `json:"cookieVisible"`
			SessionCookie bool `json:"sessionCookie"`
		} `json:"login"`
	}
	uploadPageLine(t, p, "the login", &login)
	if login.Login.User.Email != "cara@example.com" || login.Login.User.Role != "CUSTOMER" || !login.Login.SessionCookie || login.Login.CookieVisible {
		t.Fatalf("login in the page: %+v (want Cara, an HttpOnly session cookie the page cannot read)", login.Login)
	}

	var up struct {
		Upload struct {
			Attachment *uploadPageAttachment `json:"attachment"`
			Error      *uploadPageError      `json:"error"`
			Request    uploadPageRequest     `json:"request"`
		} `json:"upload"`
	}
	uploadPageLine(t, p, "the upload", &up)
	a, req := up.Upload.Attachment, up.Upload.Request
	t.Run("MultipartWithCookieAndCSRF", func(t *testing.T) {
		if !strings.HasPrefix(req.ContentType, "multipart/form-data; boundary=") || req.CSRF == nil || !req.Cookie || req.Status != http.StatusOK {
			t.Fatalf("the page sent %+v: want a multipart/form-data POST with the cookie and the CSRF header, answered 200", req)
		}
	})
	if a == nil {
		t.Fatalf("the upload failed: %+v", up.Upload.Error)
	}
	t.Run("PendingUpload", func(t *testing.T) {
		if a.Filename != "diagram.png" || a.Size != len(content) || a.ContentType != "image/png" || a.MessageID != nil || a.URL != "/attachments/"+a.ID+"/diagram.png" {
			t.Fatalf("uploadAttachment = %+v (want diagram.png, %d bytes, image/png, pending)", a, len(content))
		}
	})

	var msg struct {
		Message struct {
			ID          string                 `json:"id"`
			Internal    bool                   `json:"internal"`
			Attachments []uploadPageAttachment `json:"attachments"`
		} `json:"message"`
	}
	uploadPageLine(t, p, "the reply", &msg)
	t.Run("AttachedToTheReply", func(t *testing.T) {
		m := msg.Message
		if m.Internal || len(m.Attachments) != 1 || m.Attachments[0].ID != a.ID || m.Attachments[0].MessageID == nil || *m.Attachments[0].MessageID != m.ID {
			t.Fatalf("addMessage = %+v, want a public reply with the upload %s attached", m, a.ID)
		}
	})

	var dl struct {
		Download struct {
			Status      int    `json:"status"`
			ContentType string `json:"contentType"`
			Base64      string `json:"base64"`
		} `json:"download"`
	}
	uploadPageLine(t, p, "the download in the page", &dl)
	t.Run("PageDownloadsWithTheCookie", func(t *testing.T) {
		got, err := base64.StdEncoding.DecodeString(dl.Download.Base64)
		if dl.Download.Status != http.StatusOK || err != nil || !bytes.Equal(got, content) {
			t.Fatalf("the page's GET %s: status %d, %d bytes (%v), want 200 and the %d bytes uploaded", a.URL, dl.Download.Status, len(got), err, len(content))
		}
	})

	var refused struct {
		Refused struct {
			Attachment *uploadPageAttachment `json:"attachment"`
			Error      *uploadPageError      `json:"error"`
			Request    uploadPageRequest     `json:"request"`
		} `json:"refused"`
	}
	uploadPageLine(t, p, "the upload without the CSRF header", &refused)
	if code := p.Wait(t); code != 0 {
		t.Fatalf("upload-page.mjs exited %d\nstderr:\n%s", code, p.stderr)
	}
	t.Run("ErrNoCSRFHeader", func(t *testing.T) {
		r, e := refused.Refused.Request, refused.Refused.Error
		if !strings.HasPrefix(r.ContentType, "multipart/form-data") || r.CSRF != nil || !r.Cookie {
			t.Fatalf("the page sent %+v: want a multipart POST with the cookie and no CSRF header", r)
		}
		if r.Status != http.StatusUnsupportedMediaType || refused.Refused.Attachment != nil || e == nil || e.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("upload without the CSRF header: status %d, attachment %+v, Apollo error %+v; want 415", r.Status, refused.Refused.Attachment, e)
		}
		// Apollo reports a 415 as a ServerError with the body as text.
		var body harness.Response
		if err := json.Unmarshal([]byte(e.BodyText), &body); err != nil || body.Data != nil || body.FirstCode() != "UNSUPPORTED_MEDIA_TYPE" || !strings.Contains(body.Errors[0].Message, "X-Switchboard-CSRF") {
			t.Fatalf("the 415's body %q: want one UNSUPPORTED_MEDIA_TYPE error that names the X-Switchboard-CSRF header", e.BodyText)
		}
	})

	// Outside the browser, as the other users.
	missing := "/attachments/" + string(globalid.New(globalid.ID(a.ID).Prefix())) + "/diagram.png"
	t.Run("AgentInGroupDownloadsTheSameBytes", func(t *testing.T) {
		res, body := s.Download(t, agentIn, a.URL, nil)
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
			t.Fatalf("GET %s as the agent of the group: %d, %d bytes; want 200 and the %d bytes uploaded", a.URL, res.StatusCode, len(body), len(content))
		}
		if ct := res.Header.Get("Content-Type"); ct != "image/png" {
			t.Fatalf("Content-Type %q, want image/png", ct)
		}
		listed := s.Do(t, agentIn, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { edges { node { id attachments { id url } } } } } } }`, map[string]any{"id": ticket}).OK(t)
		found := false
		for _, e := range harness.Path(listed, "node", "messages", "edges").([]any) {
			for _, at := range harness.Path(e, "node", "attachments").([]any) {
				found = found || (harness.Str(e, "node", "id") == msg.Message.ID && harness.Str(at, "id") == a.ID && harness.Str(at, "url") == a.URL)
			}
		}
		if !found {
			t.Fatalf("the agent does not see the attachment on the reply: %s", harness.JSON(t, listed))
		}
	})
	for name, token := range map[string]string{"ErrOtherCustomer404": otherCustomer, "ErrAgentOutsideGroup404": agentOut, "ErrAnonymous404": ""} {
		t.Run(name, func(t *testing.T) {
			res, body := s.Download(t, token, a.URL, nil)
			gone, goneBody := s.Download(t, token, missing, nil)
			if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"NOT_FOUND"`) {
				t.Fatalf("GET %s: %d %s, want 404 NOT_FOUND", a.URL, res.StatusCode, body)
			}
			if gone.StatusCode != res.StatusCode || !bytes.Equal(goneBody, body) || gone.Header.Get("Content-Type") != res.Header.Get("Content-Type") {
				t.Fatalf("a file one may not read answers %d %s; a missing one %d %s", res.StatusCode, body, gone.StatusCode, goneBody)
			}
		})
	}
}

// uploadPageLine decodes the script's next line into v.
func uploadPageLine(t *testing.T, p *refClient, what string, v any) {
	t.Helper()
	l := p.Next(t, time.Minute, what)
	if err := json.Unmarshal([]byte(l), v); err != nil {
		t.Fatalf("upload-page.mjs printed %q for %s: %v", l, what, err)
	}
}
