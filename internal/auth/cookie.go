package auth

import (
	"context"
	"net/http"
	"time"
)

// SessionCookieName is the browser-mode session cookie. The __Host- prefix
// makes browsers insist on Secure, Path=/ and no Domain, so no other host
// or path can set or read it.
const SessionCookieName = "__Host-switchboard_session"

// CSRFHeader is the custom header that proves a cookie-authenticated
// request comes from a page that may send it: browsers only let cross-site
// pages set custom headers after a CORS preflight we do not grant.
const CSRFHeader = "X-Switchboard-CSRF"

type cookieSinkKey struct{}

// WithCookieSink returns ctx through which SetCookie reaches the HTTP
// response (the HTTP layer provides the sink).
func WithCookieSink(ctx context.Context, sink func(*http.Cookie)) context.Context {
	return context.WithValue(ctx, cookieSinkKey{}, sink)
}

// SetCookie asks the HTTP layer to send c with the response. It reports
// false when the request has no HTTP response (e.g. the CLI).
func SetCookie(ctx context.Context, c *http.Cookie) bool {
	sink, ok := ctx.Value(cookieSinkKey{}).(func(*http.Cookie))
	if ok {
		sink(c)
	}
	return ok
}

// SessionCookie is the cookie carrying a session token.
func SessionCookie(token string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookieName, Value: token, Path: "/", Expires: expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// ClearedSessionCookie removes the session cookie from the browser.
func ClearedSessionCookie() *http.Cookie {
	return &http.Cookie{
		Name: SessionCookieName, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}
