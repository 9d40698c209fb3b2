package httpserver

import "testing"

// BenchmarkCheckBody checks the body of a node(id:) read, as every POST
// to /query is checked.
func BenchmarkCheckBody(b *testing.B) {
	body := []byte(`{"query": "query($id: ID!) { node(id: $id) { id ... on User { name email } } }", "variables": {"id": "US01M98HH9ZCN5F0B3BK2G3SA85Y"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if e := checkBody(body); e != nil {
			b.Fatal(e)
		}
	}
}
