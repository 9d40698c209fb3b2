package attachments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/s3test"
)

func newS3(t *testing.T, rawURL string) *S3 {
	t.Helper()
	s, err := NewS3(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3(t *testing.T) {
	testStore(t, newS3(t, s3test.URL(t)))
}

// TestS3Prefix: stores with different prefixes share a bucket without
// seeing each other's blobs.
func TestS3Prefix(t *testing.T) {
	raw := s3test.URL(t)
	withPrefix := func(p string) *S3 {
		u, _ := url.Parse(raw)
		q := u.Query()
		q.Set("prefix", p)
		u.RawQuery = q.Encode()
		return newS3(t, u.String())
	}
	a, b, bare := withPrefix("tenant-a/attachments/"), withPrefix("tenant-b"), newS3(t, raw)
	ctx := context.Background()
	content := []byte("a blob under a prefix")
	key := keyOf(content)
	if err := a.Put(ctx, key, bytes.NewReader(content), int64(len(content))); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Stat(ctx, key); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*S3{"other prefix": b, "no prefix": bare} {
		if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotExist) {
			t.Errorf("%s: Stat = %v, want ErrNotExist", name, err)
		}
		err := s.Walk(ctx, func(info BlobInfo) error {
			return errors.New("walked " + info.Key)
		})
		if err != nil {
			t.Errorf("%s: Walk: %v", name, err)
		}
	}
	var walked []string
	if err := a.Walk(ctx, func(info BlobInfo) error { walked = append(walked, info.Key); return nil }); err != nil || len(walked) != 1 || walked[0] != key {
		t.Errorf("Walk with the prefix = %v (%v), want [%s]", walked, err, key)
	}
}

func TestS3MissingBucket(t *testing.T) {
	u, _ := url.Parse(s3test.URL(t))
	u.Host += "-missing"
	if err := newS3(t, u.String()).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Check of a missing bucket = %v, want an error saying so", err)
	}
}

// TestS3Unreachable: with nothing listening at the endpoint every
// operation fails, quickly rather than after minutes of retries.
func TestS3Unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s := newS3(t, "s3://unreachable?endpoint=http://"+addr)

	// A generous guard: the calls fail in about a second; hitting this
	// deadline means they hung.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	content := []byte("nowhere to go")
	key := keyOf(content)
	check := func(op string, err error) {
		t.Helper()
		switch {
		case err == nil:
			t.Errorf("%s succeeded with no server", op)
		case errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s hung until the test's deadline: %v", op, err)
		case errors.Is(err, ErrNotExist):
			t.Errorf("%s = ErrNotExist, want the connection's error", op)
		default:
			t.Logf("%s: %v", op, err)
		}
	}
	check("Put", s.Put(ctx, key, bytes.NewReader(content), int64(len(content))))
	_, err = s.Open(ctx, key)
	check("Open", err)
	_, err = s.Stat(ctx, key)
	check("Stat", err)
	check("Walk", s.Walk(ctx, func(BlobInfo) error { return nil }))
	check("Check", s.Check(ctx))
}

func TestNewS3URL(t *testing.T) {
	good := []struct {
		url                              string
		bucket, prefix, endpoint, region string
		secure, aws                      bool
	}{
		{"s3://files", "files", "", "s3.us-east-1.amazonaws.com", "us-east-1", true, true},
		{"s3://files?region=eu-central-1&prefix=switchboard/", "files", "switchboard/", "s3.eu-central-1.amazonaws.com", "eu-central-1", true, true},
		{"s3://files?region=cn-north-1", "files", "", "s3.cn-north-1.amazonaws.com.cn", "cn-north-1", true, true},
		{"s3://files/?endpoint=minio.internal:9000&insecure=true&prefix=/a/b", "files", "a/b/", "minio.internal:9000", "us-east-1", false, false},
		{"s3://files?endpoint=minio.internal:9000", "files", "", "minio.internal:9000", "us-east-1", true, false},
		{"s3://files?endpoint=http://127.0.0.1:8333&region=us-west-2", "files", "", "127.0.0.1:8333", "us-west-2", false, false},
		{"s3://files?endpoint=https://s3.example.com/&insecure=false", "files", "", "s3.example.com", "us-east-1", true, false},
		{"s3://files?endpoint=http://[::1]:8333", "files", "", "[::1]:8333", "us-east-1", false, false},
	}
	for _, g := range good {
		cfg, err := parseS3URL(g.url)
		if err != nil {
			t.Errorf("%s: %v", g.url, err)
			continue
		}
		want := s3Config{bucket: g.bucket, prefix: g.prefix, endpoint: g.endpoint, region: g.region, secure: g.secure, aws: g.aws}
		if cfg != want {
			t.Errorf("%s = %+v, want %+v", g.url, cfg, want)
		}
		if _, err := NewS3(g.url); err != nil {
			t.Errorf("NewS3(%s): %v", g.url, err)
		}
	}

	bad := []struct{ url, says string }{
		{"", `scheme "" is not s3`},
		{"files", `scheme "" is not s3`},
		{"https://files.s3.amazonaws.com", `scheme "https" is not s3`},
		{"s3:files", "no bucket"},
		{"s3://", "the bucket is empty"},
		{"s3://?endpoint=127.0.0.1:8333", "the bucket is empty"},
		{"s3://Files_Bucket", `bucket "Files_Bucket"`},
		{"s3://files/attachments", `unexpected path "/attachments"`},
		{"s3://key:secret@files", "AWS_ACCESS_KEY_ID"},
		{"s3://files?endpont=127.0.0.1:8333", `unknown parameter "endpont" (known: endpoint, region, prefix, insecure)`},
		{"s3://files?region=a&region=b", `parameter "region" given 2 times`},
		{"s3://files?endpoint=", "endpoint is empty"},
		{"s3://files?endpoint=ftp://host:21", `endpoint "ftp://host:21" is not http://HOST:PORT`},
		{"s3://files?endpoint=http://host:1/path", `endpoint "http://host:1/path" is not`},
		{"s3://files?endpoint=host:1/path", `endpoint "host:1/path" is not HOST:PORT`},
		{"s3://files?endpoint=https://host:1&insecure=true", "insecure=true contradicts endpoint https://host:1"},
		{"s3://files?endpoint=http://host:1&insecure=false", "insecure=false contradicts endpoint http://host:1"},
		{"s3://files?insecure=maybe", `insecure="maybe" is not true or false`},
		{"s3://files?prefix=a/../b", "has an empty, . or .. segment"},
		{"s3://files?prefix=a//b/", "has an empty, . or .. segment"},
		{"s3://files#frag", "unexpected fragment"},
		{"s3://files?%zz", "query"},
		{"s3://fi les", "not a URL"},
	}
	for _, b := range bad {
		_, err := NewS3(b.url)
		if err == nil {
			t.Errorf("NewS3(%q) accepted", b.url)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "SWITCHBOARD_ATTACHMENTS_URL: ") || !strings.Contains(msg, b.says) {
			t.Errorf("NewS3(%q) = %q, want SWITCHBOARD_ATTACHMENTS_URL: ...%s...", b.url, msg, b.says)
		}
	}
}

// TestExactReader: the reader that Put hands minio-go fails the read
// that shows the blob shorter or longer than its size.
func TestExactReader(t *testing.T) {
	for _, c := range []struct {
		content string
		size    int64
		ok      bool
	}{
		{"exact", 5, true},
		{"", 0, true},
		{"short", 9, false},
		{"longer", 3, false},
		{"x", 0, false},
	} {
		for _, seekable := range []bool{true, false} {
			var r io.Reader = strings.NewReader(c.content)
			if !seekable {
				r = struct{ io.Reader }{r}
			}
			e := newExactReader("k", r, c.size)
			if _, ok := e.(io.Seeker); ok != seekable {
				t.Errorf("%q: seekable %v, want %v", c.content, ok, seekable)
			}
			got, err := io.ReadAll(e)
			if c.ok && (err != nil || string(got) != c.content) {
				t.Errorf("%q size %d: read %q, %v", c.content, c.size, got, err)
			}
			if !c.ok && err == nil {
				t.Errorf("%q size %d: read %q without an error", c.content, c.size, got)
			}
			if s, ok := e.(io.Seeker); ok && c.ok {
				if _, err := s.Seek(0, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				if again, err := io.ReadAll(e); err != nil || string(again) != c.content {
					t.Errorf("%q after Seek: read %q, %v", c.content, again, err)
				}
			}
		}
	}
}

// patternReader is size bytes of a pattern, made as they are read.
type patternReader struct{ off, size int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	if rest := p.size - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	for i := range b {
		o := p.off + int64(i)
		b[i] = byte(o) ^ byte(o>>9) ^ byte(o>>17)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// TestS3LargeBlobStreams: a 64 MiB blob goes up (a multipart upload of
// 16 MiB parts) and comes down without the heap ever holding it.
func TestS3LargeBlobStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 64 MiB upload")
	}
	s := newS3(t, s3test.URL(t))
	ctx := context.Background()
	const size = 64 << 20
	h := sha256.New()
	_, _ = io.Copy(h, &patternReader{size: size})
	sum := h.Sum(nil)
	key := hex.EncodeToString(sum)

	defer debug.SetGCPercent(debug.SetGCPercent(10)) // keep garbage from hiding in the peak
	peak := watchHeap(t)

	if err := s.Put(ctx, key, &patternReader{size: size}, size); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Stat(ctx, key); err != nil || info.Size != size {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	h.Reset()
	n, err := io.Copy(h, r)
	_ = r.Close()
	if err != nil || n != size || !bytes.Equal(h.Sum(nil), sum) {
		t.Fatalf("read back %d bytes (%v), digest equal %v", n, err, bytes.Equal(h.Sum(nil), sum))
	}
	grew := peak()
	t.Logf("heap grew by at most %.1f MiB moving a %d MiB blob", float64(grew)/(1<<20), size>>20)
	if grew >= size/2 {
		t.Errorf("the heap grew by %d MiB moving a %d MiB blob: is it buffered whole?", grew>>20, size>>20)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
}

// watchHeap samples the heap until the returned function is called, which
// tells how far it grew above where it was at the start.
func watchHeap(t *testing.T) func() uint64 {
	t.Helper()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapInuse
	var (
		mu   sync.Mutex
		max  = base
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			if m.HeapInuse > max {
				max = m.HeapInuse
			}
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return max - base
	}
}
