package httpserver

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
)

// FuzzMultipartLimits: whatever the body, the multipart reader answers
// with a request or a client error (BAD_USER_INPUT, PAYLOAD_TOO_LARGE),
// never more files or bytes than the limits allow, and leaves no spool
// file behind once the request is done.
func FuzzMultipartLimits(f *testing.F) {
	const ops = `{"query":"mutation($f: Upload!){uploadAttachment(file:$f){id}}","variables":{"f":null}}`
	part := func(name, filename, body string) string {
		d := `form-data; name="` + name + `"`
		if filename != "" {
			d += `; filename="` + filename + `"`
		}
		return "--b\r\nContent-Disposition: " + d + "\r\n\r\n" + body + "\r\n"
	}
	for _, seed := range []string{
		part("operations", "", ops) + part("map", "", `{"0":["variables.f"]}`) + part("0", "a.txt", "hello") + "--b--\r\n",
		part("operations", "", ops) + part("map", "", `{"0":["variables.f"],"1":["variables.f"]}`) + part("0", "a", "x") + part("1", "b", "y") + "--b--\r\n",
		part("operations", "", ops) + part("map", "", `{"0":["variables.f"]}`) + part("0", "big", string(make([]byte, 200))) + "--b--\r\n",
		part("map", "", `{}`) + "--b--\r\n",
		part("operations", "", ops) + "--b--\r\n",
		part("operations", "", ops) + part("map", "", `[1]`),
		"--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{",
		"", "--b--\r\n", "garbage",
	} {
		f.Add([]byte(seed))
	}
	limits := attachments.Limits{MaxFileBytes: 100, MaxFiles: 2, MaxRequestBytes: 1000, PendingTTL: time.Hour}
	f.Fuzz(func(t *testing.T, body []byte) {
		spoolDir := t.TempDir()
		store, err := attachments.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		svc, err := attachments.New(nil, store, spoolDir, limits, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := multipartUpload{svc: svc, maxOperations: 500}
		r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limits.MaxRequestBytes)
		var spooled []*attachments.Spooled
		params, err := tr.read(r, &spooled)
		var total int64
		for _, sp := range spooled {
			if sp.Size > limits.MaxFileBytes {
				t.Fatalf("spooled %d bytes, over the limit", sp.Size)
			}
			total += sp.Size
		}
		if len(spooled) > limits.MaxFiles || total > limits.MaxRequestBytes {
			t.Fatalf("%d files, %d bytes: over the limits", len(spooled), total)
		}
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || (e.Code != apierr.BadUserInput && e.Code != apierr.PayloadTooLarge) || e.Message == "" {
				t.Fatalf("refusal %v", err)
			}
		} else if params == nil {
			t.Fatal("no error and no request")
		}
		for _, sp := range spooled {
			sp.Remove()
		}
		for _, dir := range []string{spoolDir, store.SpoolDir()} {
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Fatalf("left in the spool: %v", left)
			}
		}
	})
}
