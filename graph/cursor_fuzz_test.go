package graph

import (
	"bytes"
	"strconv"
	"testing"

	"entgo.io/contrib/entgql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/switchboardhq/switchboard/graph/model"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// FuzzConnectionCursor: a connection's after:/before: cursor from a
// client either fails to decode, and is then answered BAD_USER_INPUT naming
// the argument (never INTERNAL or UNAVAILABLE), or decodes to a cursor that
// encodes and decodes to the same position.
func FuzzConnectionCursor(f *testing.F) {
	var buf bytes.Buffer
	entgql.Cursor[globalid.ID]{ID: globalid.New("TK")}.MarshalGQL(&buf)
	valid, _ := strconv.Unquote(buf.String())
	for _, seed := range []string{valid, "", "gqFp", "!!!", "gaFp2gAcVEswMUFSWjNOREVLVFNWNFJSRkZRNjlHNUZBVg", "kqFpAQ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := model.UnmarshalCursor(s)
		if err != nil {
			got, _ := present(t, gqlerror.WrapPath(ast.Path{ast.PathName("tickets"), ast.PathName("after")}, err))
			if got.Extensions["code"] != "BAD_USER_INPUT" || got.Extensions["field"] != "after" {
				t.Fatalf("%q presented as %+v", s, got)
			}
			return
		}
		var out bytes.Buffer
		c.MarshalGQL(&out)
		again, err := strconv.Unquote(out.String())
		if err != nil {
			t.Fatalf("%q re-encodes as %s", s, out.String())
		}
		var d entgql.Cursor[globalid.ID]
		if err := d.UnmarshalGQL(again); err != nil || d.ID != c.ID {
			t.Fatalf("%q: cursor %+v does not round-trip: %+v %v", s, c, d, err)
		}
	})
}
