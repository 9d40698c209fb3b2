package httpserver

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// multipartUpload is the GraphQL multipart request spec
// (github.com/jaydenseric/graphql-multipart-request-spec) on /query: an
// "operations" part (the JSON request), a "map" part (which file goes to
// which variable), then the files. Unlike gqlgen's MultipartForm it
// streams each file into a spool file while hashing it (memory stays
// bounded whatever the size), enforces the attachment limits as it reads,
// answers malformed bodies with BAD_USER_INPUT, and removes the spool
// files once the operation is done (a stored upload was renamed or copied
// into the store by then).
type multipartUpload struct {
	svc *attachments.Service
	// maxOperations bounds the operations part (the body limit of
	// ordinary requests).
	maxOperations int64
}

// maxUploadMap bounds the map part.
const maxUploadMap = 64 << 10

func isMultipart(r *http.Request) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mediaType == "multipart/form-data"
}

func (t multipartUpload) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && isMultipart(r)
}

func (t multipartUpload) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	var spooled []*attachments.Spooled
	defer func() {
		for _, f := range spooled {
			f.Remove()
		}
	}()
	params, err := t.read(r, &spooled)
	if err != nil {
		writeError(w, err)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	w.Header().Set("Content-Type", "application/json")
	rc, gerr := exec.CreateOperationContext(r.Context(), params)
	if gerr != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), rc), gerr)
		w.WriteHeader(http.StatusUnprocessableEntity)
		writeResponse(w, resp)
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), rc)
	writeResponse(w, responses(ctx))
}

// read parses the multipart body into params, spooling the files.
func (t multipartUpload) read(r *http.Request, spooled *[]*attachments.Spooled) (*graphql.RawParams, error) {
	limits := t.svc.Limits()
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, apierr.Wrap(apierr.BadUserInput, err, "the multipart body is malformed: %v", err)
	}
	part, err := nextPart(mr)
	if errors.Is(err, io.EOF) {
		return nil, apierr.Invalid("operations", "the multipart request has no parts: the first must be \"operations\"")
	}
	if err != nil {
		return nil, err
	}
	if part.FormName() != "operations" {
		return nil, apierr.Invalid("operations", "the first part of a multipart request must be \"operations\"")
	}
	ops, err := readPart(part, t.maxOperations, "operations")
	if err != nil {
		return nil, err
	}
	if e := checkBody(ops); e != nil {
		return nil, e
	}
	var params graphql.RawParams
	dec := json.NewDecoder(strings.NewReader(string(ops)))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		return nil, apierr.Invalid("operations", "operations must be one GraphQL request object")
	}
	if part, err = nextPart(mr); errors.Is(err, io.EOF) {
		return nil, apierr.Invalid("map", "the multipart request has no \"map\" part after \"operations\"")
	} else if err != nil {
		return nil, err
	}
	if part.FormName() != "map" {
		return nil, apierr.Invalid("map", "the second part of a multipart request must be \"map\"")
	}
	raw, err := readPart(part, maxUploadMap, "map")
	if err != nil {
		return nil, err
	}
	var uploads map[string][]string
	if err := json.Unmarshal(raw, &uploads); err != nil {
		return nil, apierr.Invalid("map", "map must be an object of file keys to lists of variable paths, such as {\"0\": [\"variables.file\"]}")
	}
	if len(uploads) > limits.MaxFiles {
		return nil, apierr.Invalid("map", "a request takes at most %d files (SWITCHBOARD_ATTACHMENTS_MAX_FILES)", limits.MaxFiles)
	}
	for {
		part, err := nextPart(mr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		key := part.FormName()
		paths, ok := uploads[key]
		if !ok || len(paths) == 0 {
			return nil, apierr.Invalid("map", "the file part %q is not in map", key)
		}
		delete(uploads, key)
		f, err := t.svc.Spool(part, "file "+key)
		if err != nil {
			return nil, err
		}
		*spooled = append(*spooled, f)
		for _, path := range paths {
			up := graphql.Upload{File: f, Filename: part.FileName(), Size: f.Size, ContentType: f.ContentType}
			if gerr := params.AddUpload(up, key, path); gerr != nil {
				return nil, apierr.Invalid("map", "%s", gerr.Message)
			}
		}
	}
	for key := range uploads {
		return nil, apierr.Invalid("map", "map names the file %q, which the request does not contain", key)
	}
	return &params, nil
}

// nextPart is the next part, with the errors of a cut-off or oversized
// body as the client should see them (io.EOF after the last part).
func nextPart(mr *multipart.Reader) (*multipart.Part, error) {
	p, err := mr.NextPart()
	if err == nil || errors.Is(err, io.EOF) {
		return p, err
	}
	return nil, bodyError(err)
}

func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apierr.Errorf(apierr.PayloadTooLarge, "the request is larger than %d bytes (SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES)", tooLarge.Limit)
	}
	return apierr.Wrap(apierr.BadUserInput, err, "the multipart body is malformed: %v", err)
}

func readPart(p io.Reader, max int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(p, max+1))
	if err != nil {
		return nil, bodyError(err)
	}
	if int64(len(b)) > max {
		return nil, apierr.Errorf(apierr.PayloadTooLarge, "the %s part is larger than %d bytes", name, max)
	}
	return b, nil
}

// multipartAllowed is the CSRF rule of multipart requests: a browser may
// send a multipart POST cross-site without a preflight, so one that
// relies on a cookie must carry the CSRF header (which needs one). It is
// refused as any other POST that is not JSON and lacks the header: 415.
func multipartAllowed(r *http.Request) error {
	if r.Header.Get("Authorization") != "" || r.Header.Get(auth.CSRFHeader) != "" {
		return nil
	}
	return apierr.Errorf(apierr.UnsupportedMediaType, "multipart requests must send the %s header (or a bearer token)", auth.CSRFHeader)
}

// writeResponse writes a response as gqlgen's transports do.
func writeResponse(w io.Writer, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err)
	}
	_, _ = w.Write(b)
}
