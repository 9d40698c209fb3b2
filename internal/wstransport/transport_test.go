package wstransport

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://desk.example.com"}
	for _, c := range []struct {
		name, scheme, host, origin string
		want                       bool
	}{
		{"NoOriginIsNotABrowser", "http", "switchboard.test", "", true},
		{"SameOrigin", "http", "switchboard.test", "http://switchboard.test", true},
		{"SameOriginWithPort", "http", "switchboard.test:8080", "http://switchboard.test:8080", true},
		{"HostInOtherCase", "http", "Switchboard.TEST", "http://switchboard.test", true},
		{"DefaultPortInHost", "https", "switchboard.test:443", "https://switchboard.test", true},
		{"HTTPSServer", "https", "switchboard.test", "https://switchboard.test", true},
		{"ErrHTTPSOriginOnHTTPServer", "http", "switchboard.test:8080", "https://switchboard.test:8080", false},
		{"ErrHTTPOriginOnHTTPSServer", "https", "switchboard.test", "http://switchboard.test", false},
		{"ErrOtherPort", "http", "switchboard.test:8080", "http://switchboard.test:8081", false},
		{"ErrDefaultPortOfTheOtherScheme", "https", "switchboard.test:80", "https://switchboard.test", false},
		{"ListedOrigin", "http", "switchboard.test", "https://desk.example.com", true},
		{"ErrForeignOrigin", "http", "switchboard.test", "https://evil.example", false},
		{"ErrListedHostOtherScheme", "http", "switchboard.test", "http://desk.example.com", false},
		{"ErrNullOrigin", "http", "switchboard.test", "null", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+c.host+"/query", nil)
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if got := OriginAllowed(r, c.scheme, allowed); got != c.want {
				t.Fatalf("OriginAllowed(%q) on %s://%s = %v", c.origin, c.scheme, c.host, got)
			}
		})
	}
}

func TestTruncateReason(t *testing.T) {
	t.Run("ShortKept", func(t *testing.T) {
		if got := truncateReason("Forbidden"); got != "Forbidden" {
			t.Fatal(got)
		}
	})
	t.Run("LongCutToAControlFrameWithoutSplittingACharacter", func(t *testing.T) {
		got := truncateReason(strings.Repeat("é", 100))
		if len(got) > 123 || !utf8.ValidString(got) {
			t.Fatalf("%d bytes, valid %v", len(got), utf8.ValidString(got))
		}
	})
}

func TestSupports(t *testing.T) {
	tr := &Transport{}
	r := httptest.NewRequest("GET", "/query", nil)
	if tr.Supports(r) {
		t.Fatal("a plain GET is not a websocket")
	}
	r.Header.Set("Upgrade", "WebSocket")
	if !tr.Supports(r) {
		t.Fatal("an upgrade to websocket is")
	}
}

func TestResultFrames(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		head := resultHead(`a "quoted" id`, legacy)
		frame := append(append(head, `{"data":{"x":1}}`...), '}')
		var m message
		if err := json.Unmarshal(frame, &m); err != nil {
			t.Fatalf("frame %s is not JSON: %v", frame, err)
		}
		want := "next"
		if legacy {
			want = "data"
		}
		if m.ID != `a "quoted" id` || m.Type != want || string(m.Payload) != `{"data":{"x":1}}` {
			t.Fatalf("frame %s read as %+v", frame, m)
		}
	}
}
