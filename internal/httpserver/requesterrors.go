package httpserver

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// requestErrors wraps gqlgen's single-result transports (POST, GET) so
// that request errors (the document does not parse or validate, or the
// operation is refused before it runs) are answered as the
// GraphQL-over-HTTP spec says: without a data member (gqlgen writes
// "data": null, which means execution ran and failed), and with
// application/json in 200 (the spec's SHOULD; gqlgen uses 422), while
// application/graphql-response+json keeps its 4xx.
type requestErrors struct{ graphql.Transport }

func (t requestErrors) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	rw := &requestErrorWriter{ResponseWriter: w}
	t.Transport.Do(rw, r, requestErrorExec{GraphExecutor: exec, w: rw})
}

// requestErrorExec tells the writer when the operation failed before it
// ran: gqlgen writes the status right after CreateOperationContext.
type requestErrorExec struct {
	graphql.GraphExecutor
	w *requestErrorWriter
}

func (e requestErrorExec) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	rc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	if errs != nil {
		e.w.failed = true
	}
	return rc, errs
}

func (e requestErrorExec) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	e.w.failed = true
	return e.GraphExecutor.DispatchError(ctx, list)
}

type requestErrorWriter struct {
	http.ResponseWriter
	failed bool
	// written is set once the response is written (response.go): what
	// gqlgen writes after is dropped.
	written bool
}

func (w *requestErrorWriter) WriteHeader(status int) {
	if mediaType, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type")); w.failed &&
		status == http.StatusUnprocessableEntity && mediaType == "application/json" {
		status = http.StatusOK
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write drops the data member of a request error's response (one write:
// gqlgen encodes a response whole).
func (w *requestErrorWriter) Write(b []byte) (int, error) {
	if w.written {
		return len(b), nil
	}
	if !w.failed {
		return w.ResponseWriter.Write(b)
	}
	var resp struct {
		Errors     json.RawMessage `json:"errors"`
		Extensions json.RawMessage `json:"extensions,omitempty"`
	}
	out, err := b, json.Unmarshal(b, &resp)
	if err == nil && resp.Errors != nil {
		out, _ = json.Marshal(resp)
	}
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (w *requestErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
