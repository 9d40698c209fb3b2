package attachments_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func newService(t *testing.T, client *ent.Client, limits attachments.Limits) (*attachments.Service, *attachments.Dir) {
	t.Helper()
	dir, err := attachments.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := attachments.New(client, dir, t.TempDir(), limits, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, dir
}

func customer(t *testing.T, client *ent.Client, email string) context.Context {
	t.Helper()
	u, err := client.User.Create().SetEmail(email).SetName(email).SetRole(user.RoleCUSTOMER).Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: viewer.Role(u.Role)})
}

func TestSanitizeFilename(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":           "report.pdf",
		"../../etc/passwd":     "passwd",
		`..\..\boot.ini`:       "boot.ini",
		"a/b\\c.txt":           "c.txt",
		"  .hidden  ":          "hidden",
		"":                     "file",
		"/":                    "file",
		"bad\x00\x1fname\x7f":  "badname",
		"rtl\u202egnp.exe":     "rtlgnp.exe",
		"zero\u200bwidth":      "zerowidth",
		"tab\there":            "tab here",
		"caf\xc3\xa9 \xff.txt": "café .txt",
		"日本語のファイル.txt":         "日本語のファイル.txt",
	} {
		if got := attachments.SanitizeFilename(in); got != want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", in, got, want)
		}
	}
	t.Run("LongNamesKeepTheirExtension", func(t *testing.T) {
		long := bytes.Repeat([]byte("é"), 200) // 400 bytes
		got := attachments.SanitizeFilename(string(long) + ".tar.gz")
		if len(got) > 255 || filepath.Ext(got) != ".gz" || !utf8Valid(got) {
			t.Fatalf("%d bytes, ext %q, valid %v", len(got), filepath.Ext(got), utf8Valid(got))
		}
	})
}

func utf8Valid(s string) bool { return bytes.Equal([]byte(s), bytes.ToValidUTF8([]byte(s), nil)) }

// endless yields n bytes without holding them.
type endless struct{ n, read int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.read >= e.n {
		return 0, io.EOF
	}
	k := int64(len(p))
	if rest := e.n - e.read; rest < k {
		k = rest
	}
	for i := range p[:k] {
		p[i] = byte(e.read + int64(i))
	}
	e.read += k
	return int(k), nil
}

// TestSpoolMemoryIsBounded: a file far larger than the memory the
// process uses is spooled through a fixed buffer: the heap never holds
// more than a small part of it.
func TestSpoolMemoryIsBounded(t *testing.T) {
	const size = 256 << 20
	svc, _ := newService(t, dbtest.Client(t), attachments.Limits{MaxFileBytes: size, MaxFiles: 1, MaxRequestBytes: size, PendingTTL: time.Hour})
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	sp, err := svc.Spool(&endless{n: size}, "file")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Remove()
	if sp.Size != size {
		t.Fatalf("spooled %d bytes, want %d", sp.Size, size)
	}
	if grew := int64(peak.Load()) - int64(base.HeapInuse); grew > 32<<20 {
		t.Fatalf("the heap grew by %d MiB while spooling %d MiB", grew>>20, size>>20)
	}
	h := sha256.New()
	_, _ = io.Copy(h, &endless{n: size})
	if sp.Hash != hex.EncodeToString(h.Sum(nil)) {
		t.Fatal("the spooled hash is not the content's")
	}
}

func TestSpool(t *testing.T) {
	svc, _ := newService(t, dbtest.Client(t), attachments.Limits{MaxFileBytes: 10, MaxFiles: 1, MaxRequestBytes: 10, PendingTTL: time.Hour})
	t.Run("ErrTooLarge", func(t *testing.T) {
		_, err := svc.Spool(bytes.NewReader(make([]byte, 11)), "file 0")
		if apierr.CodeOf(err) != apierr.PayloadTooLarge {
			t.Fatalf("11 bytes over a limit of 10: %v", err)
		}
	})
	t.Run("AtTheLimit", func(t *testing.T) {
		sp, err := svc.Spool(bytes.NewReader([]byte("0123456789")), "file 0")
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Remove()
		if sp.ContentType != "text/plain; charset=utf-8" || sp.Size != 10 {
			t.Fatalf("%+v", sp)
		}
	})
}

// TestSweep: pending uploads older than the TTL go, with their blobs once
// nothing references them; attached files and recent uploads stay; a blob
// whose row was never written (a crash between the two) goes once old.
func TestSweep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		ttl := time.Hour
		svc, dir := newService(t, client, attachments.Limits{MaxFileBytes: 1 << 20, MaxFiles: 5, MaxRequestBytes: 1 << 20, PendingTTL: ttl})
		ctx := customer(t, client, "c@example.com")
		sys := viewer.SystemContext(context.Background())
		upload := func(content string) *ent.Attachment {
			a, err := svc.Upload(ctx, graphql.Upload{File: bytes.NewReader([]byte(content)), Filename: "f.txt"})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		// old and shared1 are uploaded two TTLs ago; shared2 has the same
		// content as shared1 and is recent: their blob must stay.
		past := time.Now().Add(-2 * ttl)
		attachments.SetClock(svc, func() time.Time { return past })
		old, shared1 := upload("old pending"), upload("shared")
		attachments.SetClock(svc, time.Now)
		recent, shared2 := upload("recent pending"), upload("shared")
		orphan := []byte("blob of a crashed upload")
		sum := sha256.Sum256(orphan)
		orphanKey := hex.EncodeToString(sum[:])
		if err := dir.Put(context.Background(), orphanKey, bytes.NewReader(orphan), int64(len(orphan))); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{old.Sha256, orphanKey} {
			p := filepath.Join(dir.Root(), k[:2], k[2:4], k)
			if err := os.Chtimes(p, past, past); err != nil {
				t.Fatal(err)
			}
		}
		res, err := svc.Sweep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.Pending != 2 || res.Blobs != 2 {
			t.Fatalf("swept %+v, want 2 pending uploads (old, shared1) and 2 blobs (old's, the orphan)", res)
		}
		left, _ := client.Attachment.Query().IDs(sys)
		if len(left) != 2 || left[0] == shared1.ID || left[1] == shared1.ID || left[0] == old.ID || left[1] == old.ID {
			t.Fatalf("rows left %v, want recent and shared2", left)
		}
		for _, k := range []string{recent.Sha256, shared2.Sha256} {
			if _, err := dir.Stat(context.Background(), k); err != nil {
				t.Errorf("blob of a kept upload: %v", err)
			}
		}
		for _, k := range []string{old.Sha256, orphanKey} {
			if _, err := dir.Stat(context.Background(), k); err == nil {
				t.Errorf("blob %s survived the sweep", k[:8])
			}
		}
	})
}
