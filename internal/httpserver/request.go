package httpserver

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// The media types a POST to /query may declare. Browsers cannot send
// these cross-site without a CORS preflight, which is what makes them a
// CSRF defence.
var postMediaTypes = map[string]bool{"application/json": true, "application/graphql-response+json": true}

// checkRequest refuses what /query does not serve before anything is
// executed: methods other than GET, POST and OPTIONS (405); POST bodies
// that are not declared JSON (415) unless they carry the CSRF header,
// which browsers cannot add cross-site; bodies that are not one JSON
// request object (400: batches as JSON arrays are not accepted, nor
// invalid UTF-8 or malformed JSON). GET requests are marked so that
// mutations over GET are refused (405).
// Multipart uploads (when uploads is set) are checked by the CSRF rule of
// multipart requests; their parts are checked as they are read.
func checkRequest(uploads bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch r.Method {
		case http.MethodOptions:
		case http.MethodGet:
			if !isWebsocket(r) {
				ctx = graph.WithSafeMethod(ctx)
				if e := checkQueryParams(r); e != nil {
					writeError(w, e)
					return
				}
			}
		case http.MethodPost:
			if uploads && isMultipart(r) {
				if err := multipartAllowed(r); err != nil {
					writeError(w, err)
					return
				}
				break
			}
			mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			switch {
			case err == nil && postMediaTypes[mediaType]:
			case r.Header.Get(auth.CSRFHeader) != "":
				// Not a browser's cross-site form: read the body as JSON.
			default:
				writeError(w, apierr.Errorf(apierr.UnsupportedMediaType,
					"POST /query takes Content-Type application/json (or send the %s header)", auth.CSRFHeader))
				return
			}
			body, err := bodyOf(r)
			if err != nil {
				writeError(w, apierr.Wrap(apierr.BadUserInput, err, "reading the request body: %v", err))
				return
			}
			if e := checkBody(body); e != nil {
				writeError(w, e)
				return
			}
			r.Header.Set("Content-Type", "application/json")
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, apierr.Errorf(apierr.MethodNotAllowed, "/query takes GET and POST, not %s", r.Method))
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requestMembers are the members of a POST body that checkBody checks,
// with the first byte of the JSON kind each must have.
var requestMembers = map[string]struct {
	first byte
	kind  string
}{"query": {'"', "a string"}, "operationName": {'"', "a string"}, "variables": {'{', "an object"}, "extensions": {'{', "an object"}}

// checkBody checks that body is one GraphQL request: valid UTF-8, one JSON
// object (not a batch), with a string query and operationName and object
// variables and extensions when present. It looks at the members' kinds
// only (variables are decoded once, by the transport). Its errors are
// BAD_USER_INPUT and say what is wrong.
func checkBody(body []byte) *apierr.Error {
	if !utf8.Valid(body) {
		return apierr.Errorf(apierr.BadUserInput, "the request body is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return apierr.Errorf(apierr.BadUserInput, "batched requests (a JSON array) are not supported: send one operation per request")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return apierr.Errorf(apierr.BadUserInput, "the request body must be a JSON object such as {\"query\": \"…\", \"variables\": {…}}")
	}
	// The transport decodes member names case-insensitively (encoding/json),
	// so "QUERY" would reach it unchecked: only the exact names pass.
	for name := range fields {
		if _, known := requestMembers[name]; known {
			continue
		}
		for member := range requestMembers {
			if strings.EqualFold(name, member) {
				return apierr.Invalid(member, "unknown member %q: did you mean %q? (member names are case-sensitive)", name, member)
			}
		}
	}
	for name, m := range requestMembers {
		// Raw values are valid JSON without surrounding space.
		if raw, ok := fields[name]; ok && !isNull(raw) && raw[0] != m.first {
			return apierr.Invalid(name, "%s must be %s", name, m.kind)
		}
	}
	if q := fields["query"]; isNull(q) || string(q) == `""` {
		var ext map[string]json.RawMessage
		_ = json.Unmarshal(fields["extensions"], &ext) // an object, null or absent
		if isNull(ext["persistedQuery"]) {
			return apierr.Invalid("query", "the request has no query")
		}
	}
	return nil
}

// isNull reports an absent member or a JSON null.
func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// checkQueryParams checks the JSON parameters of a GET request: variables
// and extensions must be JSON objects when given.
func checkQueryParams(r *http.Request) *apierr.Error {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return apierr.Errorf(apierr.BadUserInput, "the query string is malformed")
	}
	for _, name := range []string{"variables", "extensions"} {
		raw := params.Get(name)
		if raw == "" {
			continue
		}
		var obj map[string]any
		if !utf8.ValidString(raw) || json.Unmarshal([]byte(raw), &obj) != nil {
			return apierr.Invalid(name, "%s must be a JSON object", name)
		}
	}
	return nil
}
