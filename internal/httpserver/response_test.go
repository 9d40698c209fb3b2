package httpserver

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestEncodeResponseIsJSONMarshal: the bytes are json.Marshal's.
func TestEncodeResponseIsJSONMarshal(t *testing.T) {
	for _, resp := range []*graphql.Response{
		{Data: json.RawMessage(`{"a":"x"}`)},
		{Data: json.RawMessage(`{"body":"<b>fish & chips</b> \u2028 \u2029 line\u2028sep","n":[1,2.5,null,true]}`)},
		{Data: json.RawMessage("{\"raw\":\"\u2028\u2029 \u00e9\u2027\u202a\"}")},
		{},
		{Errors: gqlerror.List{{Message: "no <way>", Extensions: map[string]any{"code": "FORBIDDEN"}}}, Data: json.RawMessage(`{"t":null}`)},
		{Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 3}},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if !encodeResponse(&buf, resp) {
			t.Fatalf("%+v not encoded", resp)
		}
		if buf.String() != string(want) {
			t.Errorf("encoded\n%s\nwant\n%s", buf.Bytes(), want)
		}
	}
	hasNext := true
	if encodeResponse(new(bytes.Buffer), &graphql.Response{HasNext: &hasNext}) {
		t.Error("an incremental part was encoded")
	}
}
