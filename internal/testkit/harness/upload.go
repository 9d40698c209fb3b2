package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// UploadMutation stores $file as a pending attachment.
const UploadMutation = `mutation($file: Upload!) { uploadAttachment(file: $file) { id filename size contentType url } }`

// File is one file of a multipart upload.
type File struct {
	Name    string
	Content []byte
	// ContentType is what the client claims (the server sniffs instead).
	ContentType string
}

// MultipartBody is a GraphQL multipart request (the spec's operations,
// map, then files) of query with files bound to the variables named by
// vars' keys in order: files[i] goes to variables.<names[i]>.
func MultipartBody(query string, vars map[string]any, names []string, files []File) (body []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if vars == nil {
		vars = map[string]any{}
	}
	m := map[string][]string{}
	for i, n := range names {
		vars[n] = nil
		m[fmt.Sprint(i)] = []string{"variables." + n}
	}
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = w.WriteField("operations", string(ops))
	mj, _ := json.Marshal(m)
	_ = w.WriteField("map", string(mj))
	for i, f := range files {
		h := make(map[string][]string)
		// As browsers write it: the name as is, quotes and backslashes
		// escaped (not Go's %q, which would escape control bytes too).
		name := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(f.Name)
		disposition := fmt.Sprintf(`form-data; name="%d"; filename="%s"`, i, name)
		if strings.ContainsFunc(f.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			// Header lines cannot carry control bytes: RFC 5987's form.
			disposition = fmt.Sprintf(`form-data; name="%d"; filename*=UTF-8''%s`, i, url.PathEscape(f.Name))
		}
		h["Content-Disposition"] = []string{disposition}
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h["Content-Type"] = []string{ct}
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.Content)
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// PostMultipart sends a multipart body to /query with the headers and
// returns the response, failing the test if the answer is not JSON.
func (s *Server) PostMultipart(t testing.TB, body []byte, contentType string, headers map[string]string) Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query (multipart): %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
	}
	return r
}

// Upload uploads one file as token (bearer) and returns the response.
func (s *Server) Upload(t testing.TB, token, name string, content []byte) Response {
	t.Helper()
	body, ct := MultipartBody(UploadMutation, nil, []string{"file"}, []File{{Name: name, Content: content}})
	return s.PostMultipart(t, body, ct, map[string]string{"Authorization": "Bearer " + token})
}

// Uploaded uploads one file as token and returns the attachment's ID and
// download URL, failing the test on an error.
func (s *Server) Uploaded(t testing.TB, token, name string, content []byte) (id, url string) {
	t.Helper()
	r := s.Upload(t, token, name, content).OK(t)
	return Str(r, "uploadAttachment", "id"), Str(r, "uploadAttachment", "url")
}

// Download GETs path (an attachment's url) as token ("" for none) with
// the extra headers, and returns the response with its body read.
func (s *Server) Download(t testing.TB, token, path string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}
