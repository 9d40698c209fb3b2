package httpserver

import (
	"html/template"
	"net/http"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/outbox"
)

// unsubscribePage asks for the click that unsubscribes: a GET changes
// nothing, since mail scanners follow links; the form POSTs, as mail
// clients' one-click unsubscribe (RFC 8058) does.
var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>
{{if .Done}}<p>Done: you will not get these mails any more. Turn them on again in your notification preferences.</p>
{{else}}<form method="post"><p>Stop mails of this kind of notification?</p><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>`))

// unsubscribe serves outbox.UnsubscribePath.
func unsubscribe(mails *outbox.Outbox, client *ent.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		done := false
		if r.Method == http.MethodPost {
			if err := mails.Unsubscribe(r.Context(), client, q.Get("u"), q.Get("k"), q.Get("t")); err != nil {
				writeError(w, err)
				return
			}
			done = true
		} else if err := mails.CheckUnsubscribe(q.Get("u"), q.Get("k"), q.Get("t")); err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
		_ = unsubscribePage.Execute(w, struct{ Done bool }{done})
	})
}
