// Package s3test gives each test a bucket of its own on the S3-compatible
// server that TEST_S3_URL names (SeaweedFS in CI, see docs/development.md),
// and removes it, with everything in it, when the test ends.
//
// TEST_S3_URL is an attachments URL without a bucket:
//
//	s3://?endpoint=http://127.0.0.1:8333&region=us-east-1
//
// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY if
// set; otherwise the requests are anonymous (a SeaweedFS without
// identities allows them).
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Env is the variable that names the server.
const Env = "TEST_S3_URL"

// URL creates a bucket with a random name and returns the attachments
// URL of it (s3://BUCKET?endpoint=…, what SWITCHBOARD_ATTACHMENTS_URL
// takes); the bucket and its objects are removed when the test ends.
// Without TEST_S3_URL the test is skipped.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(Env)
	if raw == "" {
		t.Skip(Env + " not set: the S3 tests need an S3-compatible server, e.g. " +
			Env + "='s3://?endpoint=http://127.0.0.1:8333&region=us-east-1' with SeaweedFS running (see docs/development.md)")
	}
	u, client, err := connect(raw)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	bucket := "switchboard-test-" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: u.Query().Get("region")}); err != nil {
		t.Fatalf("%s: creating bucket %s at %s: %v", Env, bucket, client.EndpointURL().Host, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeBucket(ctx, client, bucket); err != nil {
			t.Errorf("%s: removing bucket %s: %v", Env, bucket, err)
		}
	})
	u.Host = bucket
	return u.String()
}

// connect parses TEST_S3_URL (the endpoint, region and insecure
// parameters of an attachments URL) and makes a client for it.
func connect(raw string) (*url.URL, *minio.Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	if u.Scheme != "s3" {
		return nil, nil, fmt.Errorf("%q is not s3://?endpoint=HOST:PORT", raw)
	}
	if u.Host != "" {
		return nil, nil, fmt.Errorf("%q names bucket %q: leave it out, each test creates its own", raw, u.Host)
	}
	q := u.Query()
	if q.Get("prefix") != "" {
		return nil, nil, fmt.Errorf("%q has a prefix: leave it out", raw)
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		return nil, nil, fmt.Errorf("%q has no endpoint (the tests never use AWS)", raw)
	}
	secure := true
	if v := q.Get("insecure"); v != "" {
		insecure, err := strconv.ParseBool(v)
		if err != nil {
			return nil, nil, fmt.Errorf("insecure=%q: %v", v, err)
		}
		secure = !insecure
	}
	if scheme, host, ok := strings.Cut(endpoint, "://"); ok {
		endpoint, secure = host, scheme == "https"
	}
	client, err := minio.New(endpoint, &minio.Options{
		// Only the environment: never the instance metadata service.
		Creds:      credentials.NewEnvAWS(),
		Secure:     secure,
		Region:     q.Get("region"),
		MaxRetries: 3,
	})
	return u, client, err
}

// removeBucket deletes every object and unfinished upload in the bucket,
// then the bucket.
func removeBucket(ctx context.Context, client *minio.Client, bucket string) error {
	objects := client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
	for res := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			return fmt.Errorf("removing %s: %w", res.ObjectName, res.Err)
		}
	}
	for up := range client.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err != nil {
			return up.Err
		}
		if err := client.RemoveIncompleteUpload(ctx, bucket, up.Key); err != nil {
			return err
		}
	}
	return client.RemoveBucket(ctx, bucket)
}
