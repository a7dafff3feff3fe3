package api

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/idlog/idlog/internal/bytesize"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/store"
)

// diskFullRetryAfter is the Retry-After, in seconds, of a POST refused
// because the store's disk is full.
const diskFullRetryAfter = 30

// postLogs is POST /api/v1/logs, idlog's ingest endpoint. The body is
// newline-delimited LogEvent JSON or one JSON array, optionally gzipped;
// it is read as a stream, so its size costs no memory, and it is capped
// (after decompression too) by Options.BodyLimit.
func (s *Server) postLogs(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Ingest == nil {
		return errNotFound
	}
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		return errShuttingDown
	}
	s.ingests.Add(1)
	s.mu.Unlock()
	defer s.ingests.Done()

	limit := s.opts.BodyLimit
	if r.ContentLength > limit {
		return s.tooLarge()
	}
	idle := idleReader(w, r.Body, s.opts.BodyIdle)
	raw := &cappedReader{r: idle, left: limit}
	var body io.Reader = raw
	inflated := raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(raw)
		if err != nil {
			if raw.over {
				return s.tooLarge()
			}
			return validationError("body", "is not gzip data: "+err.Error())
		}
		defer gz.Close()
		inflated = &cappedReader{r: gz, left: limit}
		body = inflated
	default:
		return validationError("Content-Encoding", enc+" is not supported (send gzip or nothing).")
	}

	rec := &readErrRecorder{r: body}
	res, err := s.opts.Ingest(r.Context(), rec)
	if raw.over || inflated.over {
		// Events before the limit may be stored: a retry of the whole
		// body is harmless, since events are deduplicated by uuid.
		s.metrics.ingested(res)
		return s.tooLarge()
	}
	if errors.Is(rec.err, os.ErrDeadlineExceeded) || idle.stalled() {
		// The body stopped coming for BodyIdle: net/http has canceled the
		// request's context too, but the client must not take the silence
		// for a 200 if it is still listening.
		s.metrics.ingested(res)
		return &Error{kind: kindBadRequest, Code: codeValidation, Err: rec.err,
			Summary: fmt.Sprintf("Api validation failed: body: the request body could not be read to the end: nothing came for %s", s.opts.BodyIdle),
			Causes:  []string{fmt.Sprintf("body: %d events before the stall were stored (%d duplicates, %d rejected); send the body again to store the rest", res.Accepted, res.Duplicates, res.RejectedCount)}}
	}
	if err != nil && rec.err != nil && r.Context().Err() == nil {
		// The body broke off (a truncated gzip stream, a client that hung
		// up): the client's fault, and what came before it is stored, so
		// say how much. Resending the whole body is safe (dedupe by uuid).
		s.metrics.ingested(res)
		return &Error{kind: kindBadRequest, Code: codeValidation, Err: rec.err,
			Summary: "Api validation failed: body: the request body could not be read to the end: " + rec.err.Error(),
			Causes:  []string{fmt.Sprintf("body: %d events before the break were stored (%d duplicates, %d rejected); send the body again to store the rest", res.Accepted, res.Duplicates, res.RejectedCount)}}
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		if store.IsDiskFull(err) {
			// Temporary: the batch that failed was not stored; what came
			// before it was, and a resend of the body is deduplicated.
			s.metrics.ingested(res)
			s.log.Error("ingest: the store's disk is full", "err", err, "stored", res.Accepted)
			w.Header().Set("Retry-After", strconv.Itoa(diskFullRetryAfter))
			return &Error{kind: kindUnavailable, Code: codeUnavailable, Err: err,
				Summary: "Service is in read only mode: the store's disk is full, so the events were not stored. Retry later; nothing already stored is affected.",
				Causes:  []string{fmt.Sprintf("body: %d events before the failure were stored (%d duplicates); send the body again (duplicates are recognised) after %d seconds", res.Accepted, res.Duplicates, diskFullRetryAfter)}}
		}
		return storeError(r.Context(), err)
	}
	s.metrics.ingested(res)
	if res.Accepted+res.Duplicates == 0 && res.RejectedCount > 0 {
		// Every event was rejected: a client that looks only at the status
		// must notice. (An empty body stays a harmless 200.)
		return nothingStored(res)
	}
	if res.Rejected == nil {
		res.Rejected = []ingest.Rejection{}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(res)
}

// nothingStored is the 400 for a body every event of which was rejected.
// The causes name the first rejections.
func nothingStored(res IngestResult) error {
	causes := make([]string, 0, len(res.Rejected)+1)
	for _, r := range res.Rejected {
		where := fmt.Sprintf("event #%d", r.Index+1)
		if r.Line > 0 {
			where = fmt.Sprintf("line %d", r.Line)
		}
		causes = append(causes, "body: "+where+": "+r.Error)
	}
	if more := res.RejectedCount - len(res.Rejected); more > 0 {
		causes = append(causes, fmt.Sprintf("body: … and %d more rejected", more))
	}
	return &Error{kind: kindBadRequest, Code: codeValidation,
		Summary: fmt.Sprintf("Api validation failed: body: none of its %d events was stored: every one was rejected", res.RejectedCount),
		Causes:  causes}
}

func (s *Server) tooLarge() error {
	return &Error{kind: kindTooLarge, Code: codeTooLarge,
		Summary: fmt.Sprintf("Api validation failed: the request body is larger than this server's limit of %s (idlog serve --body-limit). Send it in smaller parts.", bytesize.Format(s.opts.BodyLimit))}
}

// errBodyTooLarge is what a cappedReader returns past its limit.
var errBodyTooLarge = errors.New("request body too large")

// cappedReader reads at most left bytes, then fails (and remembers it) if
// there is more.
type cappedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errBodyTooLarge
	}
	if c.left <= 0 {
		// Only more data makes the body too large, not reaching the
		// limit exactly.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			c.over = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// readErrRecorder remembers the first error reading the body gave, so a
// broken body can be told apart from a failing store.
type readErrRecorder struct {
	r   io.Reader
	err error
}

func (rr *readErrRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}

// idleReader reads body with a read deadline pushed back before each read,
// so a body may take as long as it needs while it keeps coming, but one
// that stalls for d is cut (the server would otherwise hold the ingest
// and its connection for as long as the client likes). Where the
// connection cannot take deadlines (a test recorder), body is read as is.
func idleReader(w http.ResponseWriter, body io.Reader, d time.Duration) *deadlineReader {
	dr := &deadlineReader{r: body, d: d}
	dr.last.Store(time.Now().UnixNano())
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(d)); err == nil {
		dr.rc = rc
	}
	return dr
}

type deadlineReader struct {
	r    io.Reader
	rc   *http.ResponseController // nil: no deadlines
	d    time.Duration
	last atomic.Int64 // when the last read returned, in Unix ns
	eof  atomic.Bool
}

func (dr *deadlineReader) Read(p []byte) (int, error) {
	if dr.rc != nil {
		_ = dr.rc.SetReadDeadline(time.Now().Add(dr.d))
	}
	n, err := dr.r.Read(p)
	if err == nil || err == io.EOF {
		dr.last.Store(time.Now().UnixNano())
	}
	if err == io.EOF {
		dr.eof.Store(true)
	}
	return n, err
}

// stalled reports whether the body stopped coming for the idle timeout
// (the read that failed may still be returning in the background when
// the request's context has already ended).
func (dr *deadlineReader) stalled() bool {
	return dr.rc != nil && !dr.eof.Load() && time.Since(time.Unix(0, dr.last.Load())) >= dr.d
}
