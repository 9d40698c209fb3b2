package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/switchboardhq/switchboard/internal/auth"
)

func TestHashToken(t *testing.T) {
	t.Run("DeterministicSHA256", func(t *testing.T) {
		a, b := auth.HashToken("sbs_abc"), auth.HashToken("sbs_abc")
		if len(a) != 32 {
			t.Fatalf("len(HashToken) = %d, want 32", len(a))
		}
		if !bytes.Equal(a, b) {
			t.Fatal("HashToken is not deterministic")
		}
		want := sha256.Sum256([]byte("sbs_abc"))
		if !bytes.Equal(a, want[:]) {
			t.Fatalf("HashToken = %x, want SHA-256 %x", a, want)
		}
	})
	t.Run("DifferentTokensDifferentHashes", func(t *testing.T) {
		if bytes.Equal(auth.HashToken("sbs_abc"), auth.HashToken("sbs_abd")) {
			t.Fatal("two tokens share a hash")
		}
	})
	t.Run("HashIsNotTheToken", func(t *testing.T) {
		tok := "sbs_0123456789abcdef0123456789abcdef"
		if bytes.Contains(auth.HashToken(tok), []byte(tok)) {
			t.Fatal("hash contains the token")
		}
	})
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct{ name, header, want string }{
		{"Bearer", "Bearer sbs_x", "sbs_x"},
		{"LowerCaseScheme", "bearer sbs_x", "sbs_x"},
		{"UpperCaseScheme", "BEARER sbs_x", "sbs_x"},
		{"TrailingSpaceTrimmed", "Bearer sbs_x  ", "sbs_x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := auth.BearerToken(tc.header)
			if !ok || got != tc.want {
				t.Fatalf("BearerToken(%q) = %q, %v; want %q, true", tc.header, got, ok, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, header string }{
		{"ErrBasic", "Basic dXNlcjpwYXNz"},
		{"ErrNoToken", "Bearer "},
		{"ErrOnlySpaces", "Bearer    "},
		{"ErrSchemeOnly", "Bearer"},
		{"ErrEmpty", ""},
		{"ErrNoSpace", "Bearersbs_x"},
		{"ErrTokenWithoutScheme", "sbs_x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := auth.BearerToken(tc.header); ok || got != "" {
				t.Fatalf("BearerToken(%q) = %q, %v; want \"\", false", tc.header, got, ok)
			}
		})
	}
}

func TestClientContext(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		want := auth.Client{UserAgent: "curl/8", IP: "192.0.2.1"}
		if got := auth.ClientFromContext(auth.WithClient(context.Background(), want)); got != want {
			t.Fatalf("ClientFromContext = %+v, want %+v", got, want)
		}
	})
	t.Run("ZeroWhenMissing", func(t *testing.T) {
		if got := auth.ClientFromContext(context.Background()); got != (auth.Client{}) {
			t.Fatalf("ClientFromContext(empty) = %+v, want zero", got)
		}
	})
}
