package attachments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3 is a Store in a bucket of S3 or of an S3-compatible server (MinIO,
// SeaweedFS, Ceph, R2, ...): each blob is the object [prefix]ab/cd/<key>,
// the directory store's layout. S3 writes an object whole or not at all
// (a single PUT, or a multipart upload completed only once every part is
// in), so a reader never sees a half-written blob.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string // "" or ends in "/"
	endpoint string // host:port, for messages
}

// settingName is the setting whose value NewS3 parses, named in its errors.
const settingName = "SWITCHBOARD_ATTACHMENTS_URL"

// s3PartSize is the size of the parts of a multipart upload, which PUTs
// larger than this are. minio-go holds one part in memory at a time, so it
// bounds the memory of an upload; 16 MiB is minio-go's own minimum and
// allows objects of up to 156 GiB in S3's 10,000 parts.
const s3PartSize = 16 << 20

// The timeouts of the connection to the server: an unreachable server
// fails an operation within seconds, not minutes. No request has an
// overall time limit (a large blob takes as long as it takes); the
// caller's context bounds it.
const (
	s3DialTimeout           = 5 * time.Second
	s3TLSHandshakeTimeout   = 5 * time.Second
	s3ResponseHeaderTimeout = 30 * time.Second
	// s3Attempts is how often a request is tried (minio-go's MaxRetries
	// counts attempts): a request on a refused connection fails after
	// about a second of back-off.
	s3Attempts = 3
)

// NewS3 returns the Store that the URL names:
//
//	s3://BUCKET?endpoint=HOST:PORT&region=REGION&prefix=PATH/&insecure=true
//
// endpoint is the server: HOST:PORT (TLS unless insecure=true), or
// http://HOST:PORT or https://HOST:PORT (the scheme decides); without it,
// AWS S3 in region (s3.REGION.amazonaws.com). region defaults to
// us-east-1. prefix, if any, is put before every object name. Credentials
// come from the standard AWS environment: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the shared
// credentials file (~/.aws/credentials, AWS_PROFILE), else (against AWS
// only) the instance's or container's IAM role; with none of them, the
// requests are anonymous. NewS3 makes no request: Check tells whether the
// bucket can be reached.
func NewS3(rawURL string) (*S3, error) {
	cfg, err := parseS3URL(rawURL)
	if err != nil {
		return nil, err
	}
	tr, err := minio.DefaultTransport(cfg.secure)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", settingName, err)
	}
	tr.DialContext = (&net.Dialer{Timeout: s3DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = s3TLSHandshakeTimeout
	tr.ResponseHeaderTimeout = s3ResponseHeaderTimeout
	tr.ExpectContinueTimeout = time.Second
	client, err := minio.New(cfg.endpoint, &minio.Options{
		Creds:      credentials.NewChainCredentials(credentialChain(cfg.aws)),
		Secure:     cfg.secure,
		Transport:  tr,
		Region:     cfg.region,
		MaxRetries: s3Attempts,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", settingName, err)
	}
	return &S3{client: client, bucket: cfg.bucket, prefix: cfg.prefix, endpoint: cfg.endpoint}, nil
}

// s3Config is what an s3:// URL says.
type s3Config struct {
	bucket, prefix, region, endpoint string
	secure                           bool
	aws                              bool // the endpoint is AWS's
}

// s3Params are the query parameters an s3:// URL may have.
var s3Params = []string{"endpoint", "region", "prefix", "insecure"}

func parseS3URL(rawURL string) (s3Config, error) {
	fail := func(format string, a ...any) (s3Config, error) {
		return s3Config{}, fmt.Errorf("%s: "+format+" (want s3://BUCKET?endpoint=HOST:PORT&region=REGION&prefix=PATH/)", append([]any{settingName}, a...)...)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL; say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail("not a URL: %v", err)
	}
	if u.Scheme != "s3" {
		return fail("scheme %q is not s3", u.Scheme)
	}
	if u.Opaque != "" {
		return fail("%q has no bucket: write s3://BUCKET", rawURL)
	}
	if u.User != nil {
		return fail("credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if u.Host == "" {
		return fail("the bucket is empty")
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Host); err != nil {
		return fail("bucket %q: %v", u.Host, err)
	}
	if u.Path != "" && u.Path != "/" {
		return fail("unexpected path %q: give a key prefix as ?prefix=", u.Path)
	}
	if u.Fragment != "" {
		return fail("unexpected fragment #%s", u.Fragment)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("query: %v", err)
	}
	for name, values := range q {
		known := false
		for _, p := range s3Params {
			known = known || name == p
		}
		if !known {
			return fail("unknown parameter %q (known: %s)", name, strings.Join(s3Params, ", "))
		}
		if len(values) > 1 {
			return fail("parameter %q given %d times", name, len(values))
		}
	}

	cfg := s3Config{bucket: u.Host, region: q.Get("region"), secure: true}
	if cfg.region == "" {
		cfg.region = "us-east-1"
	}
	insecure := false
	if v := q.Get("insecure"); v != "" {
		if insecure, err = strconv.ParseBool(v); err != nil {
			return fail("insecure=%q is not true or false", v)
		}
	}
	switch endpoint := q.Get("endpoint"); {
	case endpoint == "":
		if q.Has("endpoint") {
			return fail("endpoint is empty")
		}
		cfg.endpoint = "s3." + cfg.region + ".amazonaws.com"
		if strings.HasPrefix(cfg.region, "cn-") {
			cfg.endpoint += ".cn"
		}
		cfg.secure = !insecure
	case strings.Contains(endpoint, "://"):
		e, err := url.Parse(endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" ||
			(e.Path != "" && e.Path != "/") || e.RawQuery != "" || e.User != nil {
			return fail("endpoint %q is not http://HOST:PORT or https://HOST:PORT", endpoint)
		}
		cfg.endpoint, cfg.secure = e.Host, e.Scheme == "https"
		if q.Has("insecure") && insecure == cfg.secure {
			return fail("insecure=%s contradicts endpoint %s", q.Get("insecure"), endpoint)
		}
	default:
		if strings.ContainsAny(endpoint, "/?#@") {
			return fail("endpoint %q is not HOST:PORT, http://HOST:PORT or https://HOST:PORT", endpoint)
		}
		cfg.endpoint, cfg.secure = endpoint, !insecure
	}
	host := cfg.endpoint
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	cfg.aws = strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")

	if p := strings.TrimLeft(q.Get("prefix"), "/"); p != "" {
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
			if seg == "" || seg == "." || seg == ".." {
				return fail("prefix %q has an empty, . or .. segment", q.Get("prefix"))
			}
		}
		cfg.prefix = p
	}
	return cfg, nil
}

// credentialChain is where the credentials come from, first found first:
// the AWS environment variables, the shared credentials file, and an IAM
// role (EC2 instance metadata, ECS/EKS container credentials, web
// identity). The instance metadata service is asked only for AWS
// endpoints (other servers know nothing of AWS roles, and off AWS the
// metadata address answers nobody), unless AWS_EC2_METADATA_DISABLED is
// true; container and web-identity credentials are used whenever their
// variables are set.
func credentialChain(aws bool) []credentials.Provider {
	chain := []credentials.Provider{&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}}
	container := false
	for _, v := range []string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		container = container || os.Getenv(v) != ""
	}
	metadataDisabled, _ := strconv.ParseBool(os.Getenv("AWS_EC2_METADATA_DISABLED"))
	if container || (aws && !metadataDisabled) {
		chain = append(chain, &iamProvider{iam: &credentials.IAM{}})
	}
	return chain
}

// iamProvider is minio-go's IAM provider that, having found no role, does
// not ask again for a minute. Without credentials the chain is asked
// before every request (anonymous credentials never stay valid), and
// each time the IAM provider would wait on the metadata service.
type iamProvider struct {
	mu      sync.Mutex
	iam     *credentials.IAM
	retryAt time.Time
}

var errNoIAMRole = errors.New("no IAM role (not asked again yet)")

func (p *iamProvider) Retrieve() (credentials.Value, error) {
	return p.RetrieveWithCredContext(nil)
}

func (p *iamProvider) RetrieveWithCredContext(cc *credentials.CredContext) (credentials.Value, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Now().Before(p.retryAt) {
		return credentials.Value{}, errNoIAMRole
	}
	v, err := p.iam.RetrieveWithCredContext(cc)
	if err != nil || v.AccessKeyID == "" {
		p.retryAt = time.Now().Add(time.Minute)
	}
	return v, err
}

func (p *iamProvider) IsExpired() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.iam.IsExpired()
}

// String names the bucket, prefix and server, for logs.
func (s *S3) String() string {
	return "s3://" + s.bucket + "/" + s.prefix + " at " + s.endpoint
}

func (s *S3) object(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return s.prefix + key[:2] + "/" + key[2:4] + "/" + key, nil
}

// notExist maps S3's "no such key" to ErrNotExist.
func notExist(err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == minio.NoSuchKey || (resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket) {
		return ErrNotExist
	}
	return err
}

// Put uploads the blob: a single PUT up to 16 MiB, a multipart upload of
// 16 MiB parts above (one part in memory at a time). A reader that ends
// before size bytes, or has more, fails the upload before it completes,
// so nothing is stored. A failed multipart upload is aborted; one whose
// abort fails too (ctx done, server gone) leaves its parts, invisible to
// Walk, until the bucket's lifecycle rule AbortIncompleteMultipartUpload
// (worth setting on a production bucket) removes them. The blob's
// ModTime is the server's clock at the upload (for a multipart upload,
// AWS may give the time the upload began rather than ended).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("blob %s: negative size %d", key, size)
	}
	body := newExactReader(key, r, size)
	if size == 0 {
		// minio-go may not read an empty body at all.
		if _, err := body.Read(nil); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	_, err = s.client.PutObject(ctx, s.bucket, name, body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s3PartSize,
	})
	if err != nil {
		return fmt.Errorf("blob %s: %w", key, err)
	}
	return nil
}

// exactReader gives the size bytes of r, and fails the read that would
// show r to be shorter or longer: minio-go reads exactly size bytes and
// would not notice a longer reader, and an error (unlike an early EOF,
// which minio-go's part reader tolerates) aborts the upload. The last
// bytes are handed on only once r is known to end there: the server
// stores a body that arrives whole, whatever error follows it.
type exactReader struct {
	key     string
	r       io.Reader
	size, n int64
	start   int64 // r's offset when it is an io.Seeker
	seeker  io.Seeker
	ended   bool // r is known to end at size
}

// seekableExactReader is an exactReader over an io.Seeker: minio-go can
// rewind it to retry a failed single PUT.
type seekableExactReader struct{ *exactReader }

func newExactReader(key string, r io.Reader, size int64) io.Reader {
	e := &exactReader{key: key, r: r, size: size}
	if s, ok := r.(io.Seeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			e.seeker, e.start = s, start
			return seekableExactReader{e}
		}
	}
	return e
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n >= e.size {
		if err := e.checkEnd(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if rest := e.size - e.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := e.r.Read(p)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
	case e.n+int64(n) == e.size:
		e.ended = e.ended || err != nil // r said EOF with the last bytes
		if cerr := e.checkEnd(); cerr != nil {
			return 0, cerr // withhold the last bytes
		}
		err = nil
	case err != nil:
		err = fmt.Errorf("blob %s: read %d bytes, want %d", e.key, e.n+int64(n), e.size)
	}
	e.n += int64(n)
	return n, err
}

// checkEnd tells whether r ends after size bytes.
func (e *exactReader) checkEnd() error {
	if e.ended {
		return nil
	}
	var one [1]byte
	for range 100 { // io.Reader discourages empty reads; do not spin on them
		n, err := e.r.Read(one[:])
		if n > 0 {
			return fmt.Errorf("blob %s: the reader has more than the %d bytes given as its size", e.key, e.size)
		}
		if errors.Is(err, io.EOF) {
			e.ended = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("blob %s: the reader returns nothing, neither data nor EOF", e.key)
}

// Seek rewinds to the start (all minio-go asks for before a retry).
func (s seekableExactReader) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, errors.New("exactReader: only Seek(0, io.SeekStart) is supported")
	}
	if _, err := s.seeker.Seek(s.start, io.SeekStart); err != nil {
		return 0, err
	}
	s.n, s.ended = 0, false
	return 0, nil
}

// Open returns the object for reading and seeking: each Read after a
// Seek is a ranged GET. The object stays bound to ctx: reads fail once it
// is done.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, notExist(err)
	}
	// GetObject sends no request; Stat does (a HEAD), and tells a missing
	// blob now rather than at the first Read.
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		return nil, notExist(err)
	}
	return obj, nil
}

// Stat asks for the object's size and time of upload.
func (s *S3) Stat(ctx context.Context, key string) (BlobInfo, error) {
	name, err := s.object(key)
	if err != nil {
		return BlobInfo{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return BlobInfo{}, notExist(err)
	}
	return BlobInfo{Key: key, Size: info.Size, ModTime: info.LastModified}, nil
}

// Delete removes the object; S3 answers a delete of a missing one with
// success.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !errors.Is(notExist(err), ErrNotExist) {
		return err
	}
	return nil
}

// Walk lists the objects under the prefix (1,000 a request). Only
// objects at the place of their key are blobs: anything else in the
// bucket (other prefixes' objects, or stray names) is skipped.
func (s *S3) Walk(ctx context.Context, fn func(BlobInfo) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops the listing when fn fails
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		key := path.Base(obj.Key)
		if want, err := s.object(key); err != nil || want != obj.Key {
			continue
		}
		if err := fn(BlobInfo{Key: key, Size: obj.Size, ModTime: obj.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Check tells whether the bucket exists and the server answers.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("attachments bucket %s at %s: %w", s.bucket, s.endpoint, err)
	}
	if !ok {
		return fmt.Errorf("attachments bucket %s does not exist at %s", s.bucket, s.endpoint)
	}
	return nil
}
