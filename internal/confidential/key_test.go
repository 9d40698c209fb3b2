package confidential_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/confidential"
)

func TestParseKey(t *testing.T) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(250 - i) // produces '+', '/', '-', '_' in encodings
	}
	encodings := map[string]string{
		"std":        base64.StdEncoding.EncodeToString(secret),
		"raw std":    base64.RawStdEncoding.EncodeToString(secret),
		"url":        base64.URLEncoding.EncodeToString(secret),
		"raw url":    base64.RawURLEncoding.EncodeToString(secret),
		"whitespace": "  " + base64.StdEncoding.EncodeToString(secret) + "\n",
	}

	t.Run("accepts bare base64 with id k1", func(t *testing.T) {
		for name, enc := range encodings {
			k, err := confidential.ParseKey(enc)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if k.ID != "k1" || string(k.Secret) != string(secret) {
				t.Fatalf("%s: got id %q, secret mismatch=%v", name, k.ID, string(k.Secret) != string(secret))
			}
		}
	})

	t.Run("accepts id:base64", func(t *testing.T) {
		for name, enc := range encodings {
			k, err := confidential.ParseKey("prod-2024:" + enc)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if k.ID != "prod-2024" || string(k.Secret) != string(secret) {
				t.Fatalf("%s: got id %q", name, k.ID)
			}
		}
	})

	t.Run("String output parses back", func(t *testing.T) {
		k := mustKey(t, "k9")
		got, err := confidential.ParseKey(k.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || string(got.Secret) != string(k.Secret) {
			t.Fatal("ParseKey(k.Encode()) differs from k")
		}
	})

	t.Run("rejects 16-byte key without revealing it", func(t *testing.T) {
		short := base64.StdEncoding.EncodeToString(secret[:16])
		for _, in := range []string{short, "k1:" + short} {
			_, err := confidential.ParseKey(in)
			if err == nil {
				t.Fatalf("ParseKey accepted a 16-byte key")
			}
			msg := err.Error()
			if !strings.Contains(msg, "32 bytes") || !strings.Contains(msg, "got 16") {
				t.Fatalf("error %q does not explain the length", msg)
			}
			if strings.Contains(msg, short) || strings.Contains(msg, strings.TrimRight(short, "=")) {
				t.Fatalf("error %q contains the secret", msg)
			}
		}
	})

	t.Run("rejects bad base64 and bad ids without revealing the secret", func(t *testing.T) {
		good := base64.RawURLEncoding.EncodeToString(secret)
		cases := map[string]string{
			"bad base64":       "k1:" + good[:20] + "*" + good[21:],
			"mixed alphabets":  "k1:" + "+" + good[1:20] + "-" + good[21:],
			"bad id":           "Bad_ID:" + good,
			"secret in id pos": good + ":k1",
			"empty":            "   ",
			"empty secret":     "k1:",
			"too much padding": "k1:" + base64.StdEncoding.EncodeToString(secret) + "==",
		}
		for name, in := range cases {
			_, err := confidential.ParseKey(in)
			if err == nil {
				t.Fatalf("%s: ParseKey(%q) succeeded", name, in)
			}
			if strings.Contains(err.Error(), good[:20]) {
				t.Fatalf("%s: error %q contains the secret", name, err)
			}
		}
	})

	t.Run("GenerateKey makes distinct 32-byte keys", func(t *testing.T) {
		a, b := mustKey(t, "k1"), mustKey(t, "k1")
		if len(a.Secret) != 32 || string(a.Secret) == string(b.Secret) {
			t.Fatal("GenerateKey secrets not 32 random bytes")
		}
		if _, err := confidential.GenerateKey("Bad ID"); err == nil {
			t.Fatal("GenerateKey accepted invalid id")
		}
	})
}

func TestParseKeys(t *testing.T) {
	k1, k2, k3 := mustKey(t, "k1"), mustKey(t, "k2"), mustKey(t, "k3")

	t.Run("first key is current and order is kept", func(t *testing.T) {
		cur, older, err := confidential.ParseKeys(k3.Encode() + ", " + k2.Encode() + ",\n" + k1.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if cur.ID != "k3" || string(cur.Secret) != string(k3.Secret) {
			t.Fatalf("current = %q, want k3", cur.ID)
		}
		if len(older) != 2 || older[0].ID != "k2" || older[1].ID != "k1" ||
			string(older[0].Secret) != string(k2.Secret) || string(older[1].Secret) != string(k1.Secret) {
			t.Fatalf("older = %v ids, want [k2 k1]", ids(older))
		}
	})

	t.Run("single key has no older keys", func(t *testing.T) {
		cur, older, err := confidential.ParseKeys(k1.Encode())
		if err != nil || cur.ID != "k1" || len(older) != 0 {
			t.Fatalf("got (%q, %v, %v)", cur.ID, ids(older), err)
		}
	})

	t.Run("rejects empty list, duplicates and bad entries", func(t *testing.T) {
		for _, in := range []string{"", " , ", k1.Encode() + "," + k1.Encode(), k2.Encode() + ",k1:short"} {
			if _, _, err := confidential.ParseKeys(in); err == nil {
				t.Fatalf("ParseKeys accepted %q", in)
			}
		}
	})
}

func ids(keys []confidential.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}
