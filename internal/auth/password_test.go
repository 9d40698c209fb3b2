// The hasher tests live in package auth: the busy-pool case fills the
// worker slots directly, which is the only deterministic way to make a
// caller wait for a slot.
package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// cheapParams keep the tests that are not about the cost fast.
var cheapParams = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func wantPasswordError(t *testing.T, err error) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *apierr.Error", err, err)
	}
	if e.Code != apierr.BadUserInput || e.Field != "password" {
		t.Fatalf("err = {Code: %s, Field: %q}, want BAD_USER_INPUT on password", e.Code, e.Field)
	}
}

func TestValidatePassword(t *testing.T) {
	t.Run("ErrPasswordTooShort", func(t *testing.T) {
		err := ValidatePassword(strings.Repeat("a", 11))
		wantPasswordError(t, err)
		if !strings.Contains(err.Error(), "12") {
			t.Fatalf("message %q does not tell the minimum", err.Error())
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		wantPasswordError(t, ValidatePassword(""))
	})
	t.Run("TwelveCharactersAccepted", func(t *testing.T) {
		if err := ValidatePassword("Xq7!mZ2#vL9p"); err != nil {
			t.Fatalf("ValidatePassword(12 chars) = %v", err)
		}
	})
	t.Run("MaximumAccepted", func(t *testing.T) {
		if err := ValidatePassword(strings.Repeat("Xq7!mZ2#vL9p", 11)[:128]); err != nil {
			t.Fatalf("ValidatePassword(128 chars) = %v", err)
		}
	})
	t.Run("ErrPasswordTooLong", func(t *testing.T) {
		err := ValidatePassword(strings.Repeat("a", 129))
		wantPasswordError(t, err)
		if !strings.Contains(err.Error(), "128") {
			t.Fatalf("message %q does not tell the maximum", err.Error())
		}
	})
	t.Run("ErrGuessable", func(t *testing.T) {
		for _, p := range []string{"password1234", "qwertyuiop12", "aaaaaaaaaaaa", "Summer2024!!"} {
			wantPasswordError(t, ValidatePassword(p))
		}
	})
	t.Run("ErrBuiltFromPersonalData", func(t *testing.T) {
		wantPasswordError(t, ValidatePassword("annabel.lee@example.org", "annabel.lee@example.org", "Annabel Lee"))
	})
	t.Run("CountsCharactersNotBytes", func(t *testing.T) {
		// 11 two-byte characters are 22 bytes: still too short.
		wantPasswordError(t, ValidatePassword(strings.Repeat("é", 11)))
		// 12 characters of 4 bytes each: long enough.
		if err := ValidatePassword("🔑日本語ñäöü€漢字Ω"); err != nil {
			t.Fatalf("ValidatePassword(12 emoji) = %v", err)
		}
		// 128 two-byte characters are 256 bytes: not too long.
		if err := ValidatePassword(strings.Repeat("éèêëàâäôöûüç", 11)[:2*128]); err != nil {
			t.Fatalf("ValidatePassword(128 × é) = %v", err)
		}
	})
}

func TestDefaultParams(t *testing.T) {
	t.Run("AtLeastOWASP", func(t *testing.T) {
		// OWASP: argon2id with at least 19 MiB of memory and two passes.
		if DefaultParams.Memory < 19*1024 {
			t.Fatalf("Memory = %d KiB, want >= %d", DefaultParams.Memory, 19*1024)
		}
		if DefaultParams.Iterations < 2 {
			t.Fatalf("Iterations = %d, want >= 2", DefaultParams.Iterations)
		}
		if DefaultParams.Parallelism < 1 || DefaultParams.SaltLength < 16 || DefaultParams.KeyLength < 32 {
			t.Fatalf("weak params %+v", *DefaultParams)
		}
	})
}

func TestHasher(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams, 2)
	const password = "correct horse battery"
	hash, err := h.Hash(ctx, password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}

	t.Run("HashIsArgon2idWithDefaultParams", func(t *testing.T) {
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("hash %q is not argon2id", hash)
		}
		p, _, _, err := argon2id.DecodeHash(hash)
		if err != nil {
			t.Fatalf("DecodeHash: %v", err)
		}
		if p.Memory != DefaultParams.Memory || p.Iterations != DefaultParams.Iterations {
			t.Fatalf("hash made with %+v, want %+v", *p, *DefaultParams)
		}
		if strings.Contains(hash, password) {
			t.Fatal("hash contains the password")
		}
	})
	t.Run("RightPasswordChecks", func(t *testing.T) {
		ok, err := h.Check(ctx, password, hash)
		if err != nil || !ok {
			t.Fatalf("Check(right) = %v, %v; want true", ok, err)
		}
	})
	t.Run("WrongPasswordFails", func(t *testing.T) {
		ok, err := h.Check(ctx, password+"!", hash)
		if err != nil || ok {
			t.Fatalf("Check(wrong) = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("EmptyHashNeverMatches", func(t *testing.T) {
		// Unknown users are checked against a dummy hash; no password,
		// not even the dummy's own, may pass.
		for _, pw := range []string{"", password, "switchboard-dummy-password"} {
			ok, err := h.Check(ctx, pw, "")
			if err != nil || ok {
				t.Fatalf("Check(%q, \"\") = %v, %v; want false, nil", pw, ok, err)
			}
		}
	})
	t.Run("CorruptHashFails", func(t *testing.T) {
		ok, err := h.Check(ctx, password, "not-a-hash")
		if ok || err == nil {
			t.Fatalf("Check(corrupt) = %v, %v; want false and an error", ok, err)
		}
	})
	t.Run("SaltedHashesDiffer", func(t *testing.T) {
		cheap := NewHasher(cheapParams, 1)
		a, err1 := cheap.Hash(ctx, password)
		b, err2 := cheap.Hash(ctx, password)
		if err1 != nil || err2 != nil {
			t.Fatalf("Hash: %v, %v", err1, err2)
		}
		if a == b {
			t.Fatal("two hashes of one password are equal: no salt")
		}
	})
	t.Run("ZeroWorkersMeansNumberOfCPUs", func(t *testing.T) {
		// workers=0 must not make an unusable pool of size 0.
		cheap := NewHasher(cheapParams, 0)
		if _, err := cheap.Hash(ctx, password); err != nil {
			t.Fatalf("Hash with workers=0: %v", err)
		}
	})
}

func TestHasherPool(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheapParams, 1)
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	h.slots <- struct{}{} // the only worker is busy

	t.Run("CancelledCallerStopsWaitingForBusyPool", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if got, err := h.Hash(cctx, "correct horse battery"); !errors.Is(err, context.Canceled) || got != "" {
			t.Fatalf("Hash = %q, %v; want context.Canceled", got, err)
		}
		if ok, err := h.Check(cctx, "correct horse battery", hash); !errors.Is(err, context.Canceled) || ok {
			t.Fatalf("Check = %v, %v; want false, context.Canceled", ok, err)
		}
	})
	t.Run("ExpiredDeadlineStopsWaitingForBusyPool", func(t *testing.T) {
		dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		if _, err := h.Hash(dctx, "correct horse battery"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Hash = %v; want context.DeadlineExceeded", err)
		}
	})
	t.Run("FailedWaitDoesNotLeakASlot", func(t *testing.T) {
		<-h.slots // the busy worker finishes
		if n := len(h.slots); n != 0 {
			t.Fatalf("%d slot(s) still taken after the cancelled waits", n)
		}
		for i := 0; i < 3; i++ {
			if _, err := h.Hash(ctx, "correct horse battery"); err != nil {
				t.Fatalf("Hash %d after the pool freed: %v", i, err)
			}
		}
	})
}

func TestNeedsRehash(t *testing.T) {
	h := NewHasher(DefaultParams, 1)
	weak := *DefaultParams
	weak.Memory, weak.Iterations = 4*1024, 1
	old, err := argon2id.CreateHash("xyzzy plover 42", &weak)
	if err != nil {
		t.Fatal(err)
	}
	current, err := argon2id.CreateHash("xyzzy plover 42", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !h.NeedsRehash(old) || h.NeedsRehash(current) || h.NeedsRehash("not a hash") {
		t.Fatal("NeedsRehash must flag exactly the hashes with weaker parameters")
	}
}
