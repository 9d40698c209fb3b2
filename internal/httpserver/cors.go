package httpserver

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/switchboardhq/switchboard/internal/auth"
)

// corsMaxAge is how long browsers may cache a preflight's answer.
const corsMaxAge = 10 * 60

// cors answers cross-origin requests from the allowed origins only: an
// allowed Origin is echoed with credentials, any other gets no CORS
// headers at all (so the browser withholds the response), and the
// server's own origin needs none. Preflights are answered here.
func cors(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		ok := origin != "" && slices.Contains(allowed, origin)
		if ok {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if ok {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, "+auth.CSRFHeader)
				w.Header().Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
