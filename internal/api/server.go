// Package api is idlog's HTTP server: Okta's System Log API
// (GET /api/v1/logs) over a store, an ingest endpoint
// (POST /api/v1/logs), the idlog extension endpoints the web page and the
// CLI use (/api/idlog/v1/…), health and metrics.
//
// Every handler returns an error; respondError turns it into Okta's error
// JSON with the status its kind maps to, so there is one place that decides
// what a refusal looks like.
package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/detect"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/saved"
	"github.com/idlog/idlog/internal/store"
)

// Options configure a Server. Zero values pick the defaults noted.
type Options struct {
	// Authenticator finds the caller; required. The server uses
	// auth.Chain, so a cookie session can be put before the tokens.
	Authenticator auth.Authenticator
	// Cursors signs next-link cursors; required.
	Cursors *cursor.Codec
	// RateLimit is requests per caller and minute; 0 turns it off.
	RateLimit int
	// BodyLimit caps a POST /api/v1/logs body, after gzip decompression
	// too. Default 256 MiB.
	BodyLimit int64
	// QueryTimeout bounds each store query. Default 30 s (Okta's).
	QueryTimeout time.Duration
	// BodyIdle cuts a POST body that sends nothing for this long
	// (a stalled or hostile client holding an ingest). Default 30 s.
	BodyIdle time.Duration
	// TrustForwarded makes links use X-Forwarded-Proto and
	// X-Forwarded-Host, for a server behind a reverse proxy.
	TrustForwarded bool
	// Gzip compresses GET /api/v1/logs pages over 4 KB for clients that
	// send Accept-Encoding: gzip. Off by default: a proxy that forwards
	// the client's Accept-Encoding but drops Content-Encoding (idlog's own
	// test fault proxy did) would hand clients gzip bytes as JSON.
	Gzip bool
	// Ingest stores a POST body; nil answers POST /api/v1/logs with 404.
	Ingest IngestFunc
	// Scenarios are listed by GET /api/idlog/v1/scenarios.
	Scenarios []Scenario
	// ExtraMetrics, if set, appends more Prometheus text to /metrics (the
	// background collector's idlog_pull_* series).
	ExtraMetrics func(io.Writer)
	// Alerts, if set, serves /api/idlog/v1/alerts (alerts.go).
	Alerts detect.AlertStore
	// Audit records people's actions (searches, exports, prune, saved
	// searches) and serves GET /api/idlog/v1/audit; nil records nothing
	// and answers the audit endpoint with 404.
	Audit *audit.Log
	// Searches keeps saved searches (/api/idlog/v1/searches); nil
	// answers those endpoints with 404.
	Searches *saved.Store
	// Logger gets one line per request; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// IngestFunc reads newline-delimited (or array) LogEvent JSON from r and
// stores it, returning the JSON-encodable result. It must return only after
// the stored events are durable.
type IngestFunc func(ctx context.Context, r io.Reader) (IngestResult, error)

// IngestResult is the answer to POST /api/v1/logs: the ingest pipeline's
// own result, field for field.
type IngestResult = ingest.Result

// PipelineIngest adapts an ingest pipeline to Options.Ingest.
func PipelineIngest(p *ingest.Pipeline) IngestFunc {
	return func(ctx context.Context, r io.Reader) (IngestResult, error) {
		return p.Ingest(ctx, r, nil)
	}
}

// Server serves the API over one store.
type Server struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	limiter *auth.Limiter
	mux     *http.ServeMux
	metrics *metrics
	allowed map[string]string // path → methods, for 405 answers
	table   []Route

	// ingests counts in-flight POSTs so Shutdown can wait for them even
	// when the HTTP server's own shutdown gives up on the connection.
	ingests  sync.WaitGroup
	mu       sync.Mutex
	draining bool
}

// New returns a server over st.
func New(st store.Store, opts Options) (*Server, error) {
	if opts.Authenticator == nil || opts.Cursors == nil {
		return nil, errors.New("api: Authenticator and Cursors are required")
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = 256 << 20
	}
	if opts.BodyIdle <= 0 {
		opts.BodyIdle = 30 * time.Second
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{st: st, opts: opts, log: opts.Logger, limiter: auth.NewLimiter(opts.RateLimit),
		mux: http.NewServeMux(), metrics: newMetrics(), allowed: map[string]string{}}
	s.routes()
	return s, nil
}

// handlerFunc is a handler that reports failure by returning an error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the server's router table: every handler the
// server answers is registered through it, so the role check, rate limit,
// audit record and metrics happen in one place (wrap), and tests walk the
// table to try every route with every role.
type Route struct {
	Method string // "" for a pattern without one (the UI's paths)
	Path   string
	// Role is what the caller needs. A route registered without one is
	// refused to everyone (and fails TestEveryRouteEveryRole).
	Role auth.Role
	// Public routes need no caller at all (health, the sign-in page,
	// static assets).
	Public bool
	// Audit is the eventType recorded for each request (see audited);
	// "" records nothing.
	Audit string
}

// Routes returns the router table, in registration order.
func (s *Server) Routes() []Route { return append([]Route(nil), s.table...) }

func (s *Server) routes() {
	s.public("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	}))
	s.route("GET /metrics", auth.RoleAnyone, s.serveMetrics)
	s.audited("GET /api/v1/logs", auth.RoleViewer, audit.Search, s.listLogs)
	s.route("POST /api/v1/logs", auth.RoleIngest, s.postLogs)
	s.route("GET /api/idlog/v1/stats", auth.RoleViewer, s.stats)
	s.route("GET /api/idlog/v1/count", auth.RoleViewer, s.count)
	s.route("GET /api/idlog/v1/histogram", auth.RoleViewer, s.histogram)
	s.route("GET /api/idlog/v1/top", auth.RoleViewer, s.top)
	s.route("GET /api/idlog/v1/eventtypes", auth.RoleViewer, s.eventTypes)
	s.route("GET /api/idlog/v1/scenarios", auth.RoleViewer, s.scenarios)
	s.route("GET /api/idlog/v1/events/{uuid}", auth.RoleViewer, s.getEvent)
	s.audited("POST /api/idlog/v1/prune", auth.RoleAdmin, audit.Prune, s.prune)
	s.route("POST /api/idlog/v1/check", auth.RoleAdmin, s.check)
	s.flowRoutes()   // flows.go
	s.auditRoutes()  // audit.go
	s.searchRoutes() // searches.go
	s.alertRoutes()  // alerts.go
	// Anything else under /api answers in Okta's shape too: a known path
	// with another method is 405, the rest 404.
	s.route("/api/", auth.RoleAnyone, func(w http.ResponseWriter, r *http.Request) error {
		if allow := s.allowed[r.URL.Path]; allow != "" {
			w.Header().Set("Allow", allow)
			return errMethod
		}
		return errNotFound
	})
}

// route registers a handler that needs a caller with role (auth.RoleAnyone:
// any caller).
func (s *Server) route(pattern string, role auth.Role, h handlerFunc) {
	s.register(pattern, Route{Role: role}, s.wrap(pattern, role, "", h))
}

// audited registers a route whose every request (but a continuation page,
// one with an after cursor) is recorded in the audit trail as eventType,
// once, with its outcome: refused requests too.
func (s *Server) audited(pattern string, role auth.Role, eventType string, h handlerFunc) {
	s.register(pattern, Route{Role: role, Audit: eventType}, s.wrap(pattern, role, eventType, h))
}

// public registers a handler that needs no caller.
func (s *Server) public(pattern string, h http.Handler) {
	s.register(pattern, Route{Public: true}, s.instrument(pattern, h))
}

func (s *Server) register(pattern string, rt Route, h http.Handler) {
	s.mux.Handle(pattern, h)
	rt.Path = pattern
	if method, path, ok := strings.Cut(pattern, " "); ok {
		rt.Method, rt.Path = method, path
		if !strings.Contains(path, "{") {
			if s.allowed[path] != "" {
				method = s.allowed[path] + ", " + method
			}
			s.allowed[path] = method
		}
	}
	s.table = append(s.table, rt)
}

// Handle mounts another handler on the server's mux, behind the same
// authentication, role check, rate limit, metrics and request log as the
// API. public true skips authentication (a sign-in page, static assets).
// It is how the web UI joins the server; call it before serving.
func (s *Server) Handle(pattern string, role auth.Role, public bool, h http.Handler) {
	if public {
		s.public(pattern, h)
		return
	}
	s.route(pattern, role, func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// forbidden is the 403 for a caller without the role a route needs: Okta's
// E0000006, with a cause naming the role.
func forbidden(need auth.Role, p *auth.Principal) *Error {
	have := auth.Grants(p.Role, p.Ingest)
	if have == "" {
		have = "no role"
	}
	cause := "This needs the " + string(need) + " role; you have " + have + "."
	switch need {
	case auth.RoleIngest:
		cause = "This needs an API token with ingest (or the admin role); you have " + have + "."
	case "":
		cause = "This route has no role assigned, so nobody may use it (a server bug)."
	}
	return &Error{kind: kindForbidden, Code: codeForbidden, Summary: errForbidden.Summary, Causes: []string{cause}}
}

// wrap adds authentication, the role check, rate limit, audit record and
// error mapping to h. It is the one place where routes are authorized.
func (s *Server) wrap(pattern string, need auth.Role, auditType string, h handlerFunc) http.Handler {
	return s.instrument(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.opts.Authenticator.Authenticate(r)
		var ae *auth.Error
		if errors.As(err, &ae) {
			respondError(w, s.log, &Error{kind: kindForbidden, Code: codeForbidden, Summary: errForbidden.Summary, Causes: []string{ae.Reason}})
			return
		}
		if err != nil || p == nil {
			if err != nil && !errors.Is(err, auth.ErrInvalid) && !errors.Is(err, auth.ErrNoCredentials) {
				s.log.Error("authentication failed", "err", err)
			}
			respondError(w, s.log, errInvalidToken)
			return
		}
		var rec *audit.Entry
		if auditType != "" && s.opts.Audit != nil && !r.URL.Query().Has("after") {
			rec = s.auditEntry(r, p, auditType)
			defer s.record(rec)
		}
		if need == "" || !p.Allows(need) {
			e := forbidden(need, p)
			failRecord(rec, audit.Deny, e.Causes[0])
			respondError(w, s.log, e)
			return
		}
		if s.limiter.Enabled() {
			d := s.limiter.Allow(p.ID)
			hd := w.Header()
			hd.Set("X-Rate-Limit-Limit", strconv.Itoa(d.Limit))
			hd.Set("X-Rate-Limit-Remaining", strconv.Itoa(d.Remaining))
			hd.Set("X-Rate-Limit-Reset", strconv.FormatInt(d.Reset.Unix(), 10))
			if !d.OK {
				respondError(w, s.log, errRateLimited)
				return
			}
		}
		ctx := auth.WithPrincipal(r.Context(), p)
		if rec != nil {
			ctx = context.WithValue(ctx, auditKey{}, rec)
		}
		r = r.WithContext(ctx)
		if err := h(w, r); err != nil {
			failRecordWith(rec, err)
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				return // the client went away; nobody to answer
			}
			respondError(w, s.log, err)
		}
	}))
}

// statusWriter remembers the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument records metrics and writes one structured log line per
// request.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(route, sw.status, d)
		lvl := slog.LevelInfo
		if sw.status >= 500 {
			lvl = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", d), slog.String("remote", r.RemoteAddr),
		}
		if p := auth.FromContext(r.Context()); p != nil {
			attrs = append(attrs, slog.String("caller", p.ID))
		}
		s.log.LogAttrs(r.Context(), lvl, "request", attrs...)
	})
}

// WaitIngests waits until every in-flight POST has finished, or ctx ends.
// Call it after http.Server.Shutdown during a graceful stop.
func (s *Server) WaitIngests(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.ingests.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func callerID(r *http.Request) string {
	if p := auth.FromContext(r.Context()); p != nil {
		return p.ID
	}
	return ""
}

// queryContext bounds a store call by the query timeout.
func (s *Server) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.QueryTimeout)
}

// storeError maps a failed store call: a timeout is Okta's E0000009 "took
// too long", anything else internal.
func storeError(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errTimeout
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internalError(err)
}
