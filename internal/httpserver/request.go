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
// only (variables are decoded once, by the transport), scanning the body
// in place: every request passes here, and a decoded copy would be thrown
// away. Its errors are BAD_USER_INPUT and say what is wrong.
func checkBody(body []byte) *apierr.Error {
	if !utf8.Valid(body) {
		return apierr.Errorf(apierr.BadUserInput, "the request body is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return apierr.Errorf(apierr.BadUserInput, "batched requests (a JSON array) are not supported: send one operation per request")
	}
	if !json.Valid(body) {
		return errNotObject()
	}
	var buf [8]member
	members, ok := topLevelMembers(body, buf[:0])
	if !ok {
		// Not an object, or a member name with escapes (which the scan
		// does not decode).
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
			return errNotObject()
		}
		members = members[:0]
		for name, raw := range fields {
			members = append(members, member{[]byte(name), raw})
		}
	}
	var query, extensions json.RawMessage
	for _, m := range members {
		kind, known := requestMembers[string(m.name)]
		if !known {
			// The transport decodes member names case-insensitively
			// (encoding/json), so "QUERY" would reach it unchecked: only
			// the exact names pass.
			for member := range requestMembers {
				if strings.EqualFold(string(m.name), member) {
					return apierr.Invalid(member, "unknown member %q: did you mean %q? (member names are case-sensitive)", m.name, member)
				}
			}
			continue
		}
		// Raw values are valid JSON without surrounding space.
		if !isNull(m.raw) && m.raw[0] != kind.first {
			return apierr.Invalid(string(m.name), "%s must be %s", m.name, kind.kind)
		}
		// A repeated member counts as its last (as the transport reads it).
		switch string(m.name) {
		case "query":
			query = m.raw
		case "extensions":
			extensions = m.raw
		}
	}
	if isNull(query) || string(query) == `""` {
		var ext map[string]json.RawMessage
		_ = json.Unmarshal(extensions, &ext) // an object, null or absent
		if isNull(ext["persistedQuery"]) {
			return apierr.Invalid("query", "the request has no query")
		}
	}
	return nil
}

func errNotObject() *apierr.Error {
	return apierr.Errorf(apierr.BadUserInput, "the request body must be a JSON object such as {\"query\": \"…\", \"variables\": {…}}")
}

// member is one member of a JSON object: its name as written, and its
// value's JSON.
type member struct{ name, raw []byte }

// topLevelMembers appends the members of the JSON object body, which must
// be valid JSON, to out. It reports false when body is not an object, or
// when a member's name has escapes.
func topLevelMembers(body []byte, out []member) ([]member, bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return out, false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return out, true
	}
	for i < len(body) && body[i] == '"' {
		j := i + 1
		for j < len(body) && body[j] != '"' {
			if body[j] == '\\' {
				return out, false
			}
			j++
		}
		name := body[i+1 : min(j, len(body))]
		i = skipSpace(body, j+1) // the colon
		i = skipSpace(body, i+1)
		end := skipValue(body, i)
		if end <= i {
			return out, false
		}
		out = append(out, member{name, body[i:end]})
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ',' {
			return out, i < len(body) && body[i] == '}'
		}
		i = skipSpace(body, i+1)
	}
	return out, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for ; i < len(b); i++ { // a number, true, false or null
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}

// skipString returns the end of the JSON string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
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
