package httpserver

import (
	"mime"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard/internal/attachments"
)

// inlineTypes are the content types a browser is allowed to show in
// place: raster images, which cannot run script. Everything else is
// downloaded (Content-Disposition: attachment), SVG and HTML included.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/bmp": true}

// downloadCSP sandboxes whatever a browser does render: no script, no
// plugins, no requests, no framing.
const downloadCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"

// download serves GET /attachments/{id}/{filename} to a viewer who may
// read the attachment (the privacy rules decide): Range requests, an
// ETag of the content's hash, the sniffed type with nosniff. A file the
// viewer may not read answers exactly like one that does not exist.
func download(svc *attachments.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, content, err := svc.Open(r.Context(), r.PathValue("id"), r.PathValue("filename"))
		if err != nil {
			writeError(w, err)
			return
		}
		defer content.Close()
		h := w.Header()
		h.Set("Content-Security-Policy", downloadCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Type", a.ContentType)
		h.Set("ETag", `"`+a.Sha256+`"`)
		// Private: the answer depends on who asks. no-cache: a cache must
		// ask again (the ETag makes that cheap), so a revoked reader does
		// not keep reading from a shared cache.
		h.Set("Cache-Control", "private, no-cache")
		mediaType, _, _ := mime.ParseMediaType(a.ContentType)
		disposition := "attachment"
		if inlineTypes[strings.ToLower(mediaType)] {
			disposition = "inline"
		}
		if v := mime.FormatMediaType(disposition, map[string]string{"filename": a.Filename}); v != "" {
			disposition = v
		}
		h.Set("Content-Disposition", disposition)
		http.ServeContent(w, r, "", a.CreatedAt, content)
	})
}
