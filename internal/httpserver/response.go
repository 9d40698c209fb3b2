package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// gqlgen's POST and GET transports encode a response with json.Marshal,
// which, for the data the executor has already written as JSON, scans it
// through encoding/json's state machine to validate and compact it, then
// copies it: on a page of 50 tickets, a pass over ~30 KB twice, and a
// copy, per request. writeResponse writes the data as it is instead,
// escaping what json.Marshal escapes (<, >, & and U+2028/U+2029, which
// can only be within strings), so that the bytes are the same.

// responseBuffers keep the encoded responses' buffers between requests.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledResponse is the largest buffer kept for reuse: a rare huge
// response does not stay allocated.
const maxPooledResponse = 1 << 20

// encodeResponse appends the JSON of resp to buf as json.Marshal would
// write it. ok is false for the parts of incremental delivery, which are
// left to json.Marshal.
func encodeResponse(buf *bytes.Buffer, resp *graphql.Response) (ok bool) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		return false
	}
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return false
		}
		buf.WriteString(`"errors":`)
		buf.Write(errs)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		buf.WriteString("null")
	} else {
		appendEscaped(buf, resp.Data)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return false
		}
		buf.WriteString(`,"extensions":`)
		buf.Write(ext)
	}
	buf.WriteByte('}')
	return true
}

// appendEscaped appends the JSON data to buf with json.Marshal's HTML
// escaping.
func appendEscaped(buf *bytes.Buffer, data []byte) {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			buf.Write(data[start:i])
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[c>>4])
			buf.WriteByte(hex[c&0xf])
			start = i + 1
		case c == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && data[i+2]&^1 == 0xA8:
			buf.Write(data[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hex[data[i+2]&0xf])
			i += 2
			start = i + 1
		}
	}
	buf.Write(data[start:])
}

// DispatchOperation writes the operation's response itself (see above);
// what gqlgen then encodes is dropped by the writer.
func (e requestErrorExec) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil || e.w.failed {
			return resp
		}
		buf := responseBuffers.Get().(*bytes.Buffer)
		defer func() {
			if buf.Cap() <= maxPooledResponse {
				buf.Reset()
				responseBuffers.Put(buf)
			}
		}()
		if !encodeResponse(buf, resp) {
			return resp
		}
		_, _ = e.w.ResponseWriter.Write(buf.Bytes())
		e.w.written = true
		return &graphql.Response{}
	}, ctx
}
