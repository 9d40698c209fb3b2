package httpserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/httpserver"
)

// send makes a request and returns the status, the extensions.code of the
// first error and the response.
func send(t *testing.T, method, url, contentType, body string, header map[string]string) (int, string, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(raw, &out)
	code := ""
	if len(out.Errors) > 0 {
		code, _ = out.Errors[0].Extensions["code"].(string)
	}
	return res.StatusCode, code, res
}

func TestRequestChecks(t *testing.T) {
	srv := newServer(t, true)
	q := srv.URL + "/query"
	for name, tc := range map[string]struct {
		method, contentType, body string
		header                    map[string]string
		status                    int
		code                      string
	}{
		"JSONRuns":                         {"POST", "application/json", `{"query":"{ __typename }"}`, nil, 200, ""},
		"GraphQLResponseJSONRuns":          {"POST", "application/graphql-response+json", `{"query":"{ __typename }"}`, nil, 200, ""},
		"ErrTextPlain":                     {"POST", "text/plain", `{"query":"{ __typename }"}`, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		"ErrForm":                          {"POST", "application/x-www-form-urlencoded", `query=%7B__typename%7D`, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		"ErrMultipart":                     {"POST", "multipart/form-data; boundary=x", "--x--", nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		"ErrNoContentType":                 {"POST", "", `{"query":"{ __typename }"}`, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		"TextPlainWithCSRFHeaderRuns":      {"POST", "text/plain", `{"query":"{ __typename }"}`, map[string]string{"X-Switchboard-CSRF": "1"}, 200, ""},
		"ErrMalformedJSON":                 {"POST", "application/json", `{"query": "{ __typename }"`, nil, 400, "BAD_USER_INPUT"},
		"ErrBatch":                         {"POST", "application/json", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`, nil, 400, "BAD_USER_INPUT"},
		"ErrInvalidUTF8":                   {"POST", "application/json", "{\"query\":\"{ __typename \xff}\"}", nil, 400, "BAD_USER_INPUT"},
		"ErrVariablesNotAnObject":          {"POST", "application/json", `{"query":"{ __typename }","variables":[1]}`, nil, 400, "BAD_USER_INPUT"},
		"ErrNoQuery":                       {"POST", "application/json", `{}`, nil, 400, "BAD_USER_INPUT"},
		"ErrPut":                           {"PUT", "application/json", `{"query":"{ __typename }"}`, nil, 405, "METHOD_NOT_ALLOWED"},
		"ErrMutationOverGET":               {"GET", "", "", nil, 405, "METHOD_NOT_ALLOWED"},
		"ErrGETVariablesNotJSON":           {"GET", "", "", nil, 400, "BAD_USER_INPUT"},
		"ErrEventStreamMalformedJSON":      {"POST", "application/json", `{"query": `, map[string]string{"Accept": "text/event-stream"}, 400, "BAD_USER_INPUT"},
		"ErrIntrospectionOffUnlessEnabled": {"POST", "application/json", `{"query":"{ __schema { types { name } } }"}`, nil, 403, "FORBIDDEN"},
	} {
		t.Run(name, func(t *testing.T) {
			url := q
			switch name {
			case "ErrMutationOverGET":
				url += "?query=mutation%7Blogout%7D"
			case "ErrGETVariablesNotJSON":
				url += "?query=%7B__typename%7D&variables=%7Bnope"
			}
			status, code, _ := send(t, tc.method, url, tc.contentType, tc.body, tc.header)
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := newServer(t, true)
	t.Run("APIResponses", func(t *testing.T) {
		_, _, res := send(t, "POST", srv.URL+"/query", "application/json", `{"query":"{ __typename }"}`, nil)
		h := res.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("Strict-Transport-Security") != "" {
			t.Fatalf("headers: %v", h)
		}
	})
	t.Run("PlaygroundCSPAllowsThisServerOnly", func(t *testing.T) {
		// The page's own policy (web.PlaygroundCSP, with the response's
		// nonce) replaces the API's; its files keep the API's.
		res, _ := get(t, srv.URL+"/", nil)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "connect-src 'self';") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-inline") ||
			len(res.Header.Values("Content-Security-Policy")) != 1 {
			t.Fatalf("playground CSP: %q", res.Header.Values("Content-Security-Policy"))
		}
		res, _ = get(t, srv.URL+"/playground/playground.js", nil)
		if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; frame-ancestors 'none'") {
			t.Fatalf("playground.js CSP: %q", csp)
		}
	})
}

func TestCORS(t *testing.T) {
	srv := newServerWith(t, httpserver.Options{AllowedOrigins: []string{"https://desk.example.com"}})
	t.Run("AllowedOriginIsEchoed", func(t *testing.T) {
		_, _, res := send(t, "OPTIONS", srv.URL+"/query", "", "", map[string]string{"Origin": "https://desk.example.com", "Access-Control-Request-Method": "POST"})
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://desk.example.com" ||
			res.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "X-Switchboard-CSRF") {
			t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("ErrForeignOriginGetsNoCORSHeaders", func(t *testing.T) {
		for _, method := range []string{"OPTIONS", "POST"} {
			_, _, res := send(t, method, srv.URL+"/query", "application/json", `{"query":"{ __typename }"}`, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
			if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("%s from a foreign origin: %v", method, res.Header)
			}
		}
	})
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	h := httpserver.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), newResolver(t), httpserver.Options{DefaultPageSize: 20, MaxPageSize: 100})
	opts := httpserver.DefaultServerOptions
	opts.TLSCert, opts.TLSKey = certFile, keyFile
	srv, err := httpserver.ListenWith("127.0.0.1:0", h, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Run("ServesHTTPSWithHSTS", func(t *testing.T) {
		res, err := client.Get("https://" + srv.Addr().String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Fatalf("https: %d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("ErrPlainHTTPFails", func(t *testing.T) {
		res, err := http.Get("http://" + srv.Addr().String() + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				t.Fatal("plain HTTP served on the TLS port")
			}
		}
	})
	t.Run("ErrBadKeyFile", func(t *testing.T) {
		bad := opts
		bad.TLSKey = certFile
		if _, err := httpserver.ListenWith("127.0.0.1:0", h, slog.New(slog.NewTextHandler(io.Discard, nil)), bad); err == nil || !strings.Contains(err.Error(), "TLS certificate") {
			t.Fatalf("err = %v", err)
		}
	})
}

func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestOperationDeadline(t *testing.T) {
	srv := newServerWith(t, httpserver.Options{OperationTimeout: time.Nanosecond})
	body := `{"query":"mutation { login(email: \"a@example.com\", password: \"correct horse battery\") { token } }"}`
	status, code, res := send(t, "POST", srv.URL+"/query", "application/json", body, nil)
	if code != "TIMEOUT" {
		t.Fatalf("an operation past its deadline: %d %q %v, want TIMEOUT", status, code, res.Header)
	}
}
